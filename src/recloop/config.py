"""Settings for recloop, read from the environment (prefix ``RECLOOP_``).

One typed model per concern; swappable backends are chosen by a ``type``
discriminator. Nested fields use ``__`` in environment variables, e.g.
``RECLOOP_STATE__TYPE=redis`` or ``RECLOOP_STATE__URL=redis://127.0.0.1:6379/0``.
Names the settings do not know are reported by :func:`unknown_env_names`
(with the closest known name), since pydantic-settings silently ignores them.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = [
    "DEFAULT_ADMIN_KEY",
    "ALSParams",
    "ArchiveConfig",
    "DataConfig",
    "EASEParams",
    "EventsConfig",
    "ItemKNNParams",
    "MemoryStateConfig",
    "ModelParams",
    "RedisStateConfig",
    "SASRecParams",
    "Settings",
    "get_settings",
    "known_env_names",
    "unknown_env_names",
]

DEFAULT_ADMIN_KEY = "change-me"
"""The placeholder key of earlier releases; ``recloop serve`` refuses it like an unset key."""
_REDIS_SCHEMES = ("redis", "rediss", "unix")


class DataConfig(BaseModel):
    """Where the data comes from: MovieLens-100K (the default) or a synthetic directory.

    ``auto`` uses a cached copy if one exists, else a GroupLens zip given by
    path, else the RecBole wheel (found in the cache or fetched with pip).
    ``dir`` (``RECLOOP_DATA__DIR``, ``--data DIR``): a directory written by
    ``recloop data synth``, read instead of MovieLens.
    """

    source: Literal["auto", "grouplens", "recbole"] = "auto"
    dir: Path | None = Field(
        default=None, description="a `recloop data synth` directory to use instead of MovieLens-100K"
    )
    grouplens_url: str = "https://files.grouplens.org/datasets/movielens/ml-100k.zip"
    grouplens_path: Path | None = None
    recbole_wheel: Path | None = None


class ALSParams(BaseModel):
    """implicit ALS hyperparameters (tuned on the P1 validation split)."""

    factors: int = 32
    regularization: float = 5.0
    alpha: float = 0.5
    iterations: int = 15
    seed: int = 42
    engine: Literal["implicit", "spark"] = Field(
        default="implicit", description="who fits it: the implicit library, or Spark ML (recloop[spark])"
    )
    spark_master: str = "local[*]"
    spark_reg_param: float = Field(
        default=0.05, gt=0, description="Spark's count-weighted regularisation (ALS-WR), its own scale"
    )


class ItemKNNParams(BaseModel):
    """Item-kNN (cosine) hyperparameters (tuned on the P1 validation split)."""

    neighbors: int = 200
    shrink: float = 0.0
    max_user_items: int = Field(
        default=1000, ge=1,
        description="co-occurrences count each user's latest this many events (a heavy user costs "
        "n^2; MovieLens-100K's heaviest has 737)",
    )  # fmt: skip
    max_pairs: int = Field(
        default=1_000_000_000, ge=1,
        description="co-occurrence work budget: the per-user cap is lowered until the sum of "
        "min(n_u, cap)^2 fits (MovieLens-100K: 3e7 pairs, no change)",
    )  # fmt: skip


class EASEParams(BaseModel):
    """EASE hyperparameters (tuned on the P1 validation split) and its scale limits.

    EASE inverts a dense Gram matrix over the ``max_items`` most active items (the
    others get no EASE score; the other sources score them). Above ``sparse_above``
    covered items the inverse is float32 and in place (4 bytes x max_items^2 while
    fitting: 400 MB at 10,000 items, 1.6 GB at 20,000; time grows as max_items^3,
    benchmarks/scale_models.py) and the weights keep only the ``neighbors`` largest
    per row (8 bytes each).
    """

    l2: float = 500.0
    max_items: int = Field(default=10_000, ge=1)
    sparse_above: int = Field(default=4096, ge=1)
    neighbors: int = Field(default=500, ge=1)
    max_user_items: int = Field(
        default=1000, ge=1, description="the Gram matrix counts each user's latest this many events"
    )
    max_pairs: int = Field(default=1_000_000_000, ge=1, description="the Gram matrix's work budget (pairs)")


class SASRecParams(BaseModel):
    """The self-attentive sequence model (recloop[sequence]; tuned on the P1 validation split).

    ``negatives`` 0 trains with the full softmax over the catalog; n > 0 samples n
    shared negatives per batch instead (large catalogs). ``threads``: torch threads
    while training (1: the same weights on every run).
    """

    d: int = Field(default=64, ge=8)
    blocks: int = Field(default=2, ge=1)
    heads: int = Field(default=1, ge=1)
    max_len: int = Field(default=50, ge=2)
    dropout: float = Field(default=0.3, ge=0.0, lt=1.0)
    lr: float = Field(default=3e-3, gt=0)
    weight_decay: float = Field(default=0.0, ge=0)
    epochs: int = Field(default=20, ge=1)
    batch_size: int = Field(default=128, ge=1)
    negatives: int = Field(default=0, ge=0)
    seed: int = 42
    threads: int = Field(default=1, ge=1)


class ModelParams(BaseModel):
    """Hyperparameters of the candidate generators.

    ``sasrec_source``: put the SASRec source in the default candidate mix
    (``RECLOOP_MODELS__SASREC_SOURCE=true``; needs ``pip install 'recloop[sequence]'``).
    Off by default: it costs ~2 min of training on 2 cores and a torch install, and the
    image and the orchestration venv ship without torch (README, Quality).
    """

    als: ALSParams = ALSParams()
    itemknn: ItemKNNParams = ItemKNNParams()
    ease: EASEParams = EASEParams()
    sasrec: SASRecParams = SASRecParams()
    sasrec_source: bool = False
    sasrec_quota: int = Field(default=100, ge=0)  # P1 validation: 100 -> 0.2672, 50 -> 0.2629


class MemoryStateConfig(BaseModel):
    """Embedded state: in-process, persisted to SQLite under the data dir."""

    type: Literal["memory"] = "memory"
    path: Path | None = None


class RedisStateConfig(BaseModel):
    """State in a Redis server (hashes, sorted sets, a Stream as the event log)."""

    type: Literal["redis"] = "redis"
    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "recloop"
    allow_volatile: bool = Field(
        default=False,
        description="serve although the Redis server would lose acknowledged events on a restart "
        "(no AOF and no RDB snapshots); see docs/durability.md",
    )
    timeout_s: float = Field(
        default=2.0, gt=0, le=60,
        description="connect and read timeout of every Redis call (s): a hung server makes a write "
        "fail with 503 after this long instead of holding the request",
    )  # fmt: skip
    idempotency_window_s: float = Field(
        default=86_400.0, gt=0,
        description="a re-sent event id is recognised (and ignored) for at least this long; the id "
        "buckets (with each id's payload fingerprint) expire after it, so their memory is "
        "bounded by the event rate, not the users",
    )  # fmt: skip

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme not in _REDIS_SCHEMES:
            raise ValueError(
                f"{url!r} is not a Redis URL (scheme {scheme or 'missing'!r}); use "
                "redis://HOST:PORT/DB, rediss:// for TLS or unix:///path/to/redis.sock"
            )
        return url


StateConfig = Annotated[MemoryStateConfig | RedisStateConfig, Field(discriminator="type")]


class EventsConfig(BaseModel):
    """How events reach the state: applied by the API (``direct``) or through Kafka.

    With ``kafka`` the API produces each event to ``topic`` keyed by user id (idempotent
    producer, ``acks=all``) and acknowledges after the broker does; ``recloop consume``
    applies them (docs/STREAMING.md).
    """

    bus: Literal["direct", "kafka"] = "direct"
    bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers (host:port,...)")
    topic: str = "recloop-events"
    group: str = Field(default="recloop-consumers", description="the consumers' group id")
    produce_timeout_s: float = Field(default=10.0, gt=0, description="broker ack deadline per request")
    wait_applied_ms: float = Field(
        default=0.0, ge=0.0, le=10_000.0,
        description="with kafka: how long POST /v1/events waits for the consumer to apply the events "
        "before answering (read-your-writes); 0 answers at the broker's ack with a wait token",
    )  # fmt: skip
    min_timestamp: float = Field(
        default=315532800.0, allow_inf_nan=False,
        description="the earliest event timestamp accepted (Unix s; default 1980-01-01T00:00:00Z)",
    )  # fmt: skip
    max_future_s: float = Field(
        default=86400.0, ge=0.0, allow_inf_nan=False,
        description="how far past the server's clock an event timestamp may lie (s; clock skew)",
    )  # fmt: skip


class ArchiveConfig(BaseModel):
    """The Delta Lake event archive (docs/STREAMING.md); off unless ``path`` is set."""

    path: str | None = Field(default=None, description="the Delta table (a directory or URI)")
    every_s: float = Field(default=5.0, gt=0, description="how often the archiver copies the log")
    batch: int = Field(default=50_000, ge=1, description="events per Delta commit at most")


class Settings(BaseSettings):
    """All of recloop's settings; see the module docstring for env names."""

    model_config = SettingsConfigDict(env_prefix="RECLOOP_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".recloop")
    data: DataConfig = DataConfig()
    models: ModelParams = ModelParams()
    state: StateConfig = MemoryStateConfig()
    events: EventsConfig = EventsConfig()
    archive: ArchiveConfig = ArchiveConfig()
    tracking_uri: str | None = None
    registered_model: str = "recloop"
    admin_api_key: str | None = Field(
        default=None,
        description="the X-Admin-Key of admin actions; `recloop serve` refuses to start without "
        "one unless RECLOOP_INSECURE_DEV=true",
    )
    admin_api_key_file: Path | None = Field(
        default=None,
        description="a file holding the admin key (scripts/run.sh makes one, mode 600); "
        "instead of RECLOOP_ADMIN_API_KEY",
    )
    insecure_dev: bool = Field(
        default=False,
        description="development only: let `recloop serve` start without a real admin key "
        "(admin actions then stay refused when no key is set)",
    )
    drift_interval_s: float = Field(default=300.0, gt=0, description="drift check period (s)")
    drift_window_s: float = Field(
        default=900.0, gt=0, description="drift compares the live events and lists of the last N seconds"
    )
    ranker_runtime: Literal["lleaves", "lightgbm"] = Field(
        default="lleaves",
        description="how a serving process scores candidates: the LightGBM model compiled to native "
        "code by lleaves (checked against LightGBM at load), or LightGBM's own predictor",
    )
    user_cache_mb: float = Field(
        default=128.0, ge=0.0,
        description="memory for each serving process's per-user history-dependent scores (LRU by "
        "bytes, kept until the user's next event; gauge recloop_user_cache_bytes{cache=\"user_scores\"}); "
        "0 turns the cache off",
    )  # fmt: skip
    foldin_cache_mb: float = Field(
        default=64.0, ge=0.0,
        description="memory for each serving process's per-user ALS fold-in states (LRU by bytes): one "
        "state is 8 f^2 + 12 f bytes plus ~32 bytes per item folded in and ~0.7 KB (f=32 factors: ~9.6 KB, "
        "so 64 MB keeps ~6,900 users of one event); a user without history keeps none; 0 turns the cache "
        "off (each event re-solves from the history)",
    )  # fmt: skip
    recommended_users: int = Field(
        default=50_000, ge=0,
        description="how many recent users' shown lists the live stats keep to attribute events to "
        "recommendations: the top 20 for the online positive rate and the latest exposure per model "
        "version (two LRUs, each at most this many users and this x 600 bytes: 50,000 = 2 x 28.6 MB)",
    )  # fmt: skip
    shown_lists: int = Field(
        default=100_000, ge=0,
        description="how many recent users' last shown list each serving process keeps so the next "
        "list keeps what still fits (LRU, ~0.4 KB each, at most this x 500 bytes: 100,000 = 47.7 MB); "
        "0 turns list "
        "stability off",
    )  # fmt: skip
    stability_strength: float = Field(
        default=0.1, ge=0.0, le=2.0,
        description="head start of an item the user was just shown, as a share of the score spread "
        "of the top 50 (docs/FEEDBACK.md); 0 turns list stability off",
    )  # fmt: skip
    stats_sync_s: float = Field(
        default=2.0, gt=0,
        description="with Redis state: how often a serving process reloads item popularity and "
        "trending from Redis, so other workers' events count in its rankings (s)",
    )  # fmt: skip
    worker_healthcheck_s: float = Field(
        default=30.0, gt=0,
        description="with --workers > 1: how long a worker may take to answer the supervisor's health "
        "check before it is killed and replaced (logged with the reason); uvicorn's own default is 5 s",
    )  # fmt: skip
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser (CORS), comma-separated, e.g. "
        "https://dash.example.com,http://localhost:5173; empty (the default): no cross-origin access",
    )  # fmt: skip
    ready_min_free_mb: float = Field(
        default=100.0, ge=0.0,
        description="/ready answers 503 when the disk under RECLOOP_HOME has less free space (MB)",
    )  # fmt: skip
    swap_poll_s: float = Field(default=30.0, gt=0, description="registry poll for a new champion (s)")
    experiment_look_s: float = 30.0  # scheduled sequential looks / auto-promotion of experiments
    retrain_in_server: bool = Field(
        default=False, description="run the retraining worker inside `recloop serve`"
    )
    retrain_interval_s: float = Field(default=86400.0, gt=0, description="scheduled retrain period")
    retrain_min_events: int = Field(default=1000, ge=1, description="retrain after this many new events")
    p1_max_users: int = Field(
        default=5000, ge=1,
        description="P1 (recloop train, recloop evaluate --protocol p1) scores at most this many "
        "users: a seeded uniform sample above it, stated in the report (MovieLens-100K's 943 are "
        "all scored); the models still train on the whole train split",
    )  # fmt: skip
    base_fraction: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="share of MovieLens (time order) used as training data and serving base "
        "history; 0.8 = the P2 bootstrap, for `recloop replay` against a server",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, v: object) -> object:
        """A comma-separated list; each origin is scheme://host[:port] (no path, no wildcard)."""
        items = [o.strip() for o in v.split(",") if o.strip()] if isinstance(v, str) else v
        for o in items if isinstance(items, list) else []:
            parts = urlsplit(str(o))
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
                raise ValueError(f"{o!r} is not an origin: use scheme://host[:port], e.g. https://dash.example.com")
        return [str(o).rstrip("/") for o in items] if isinstance(items, list) else items

    @field_validator("admin_api_key")
    @classmethod
    def _non_empty_key(cls, key: str | None) -> str | None:
        if key is not None and not key.strip():
            raise ValueError(
                "an empty admin key is not a key: unset RECLOOP_ADMIN_API_KEY or set it to a "
                "random value (python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return key

    @model_validator(mode="after")
    def _key_from_file(self) -> Settings:
        path = self.admin_api_key_file
        if path is None:
            return self
        if self.admin_api_key is not None:
            raise ValueError(
                "both RECLOOP_ADMIN_API_KEY and RECLOOP_ADMIN_API_KEY_FILE are set; keep one"
            )
        try:
            key = path.read_text().strip()
        except OSError as exc:
            raise ValueError(f"RECLOOP_ADMIN_API_KEY_FILE={path} cannot be read ({exc.strerror})") from None
        if not key:
            raise ValueError(f"RECLOOP_ADMIN_API_KEY_FILE={path} is empty; an empty key is not a key")
        self.admin_api_key = key
        return self

    def admin_key_source(self) -> str:
        """Where the admin key comes from, for start-up messages (never the key itself)."""
        if self.admin_api_key_file is not None:
            return f"in {self.admin_api_key_file} (RECLOOP_ADMIN_API_KEY_FILE)"
        if self.admin_key_is_set:
            return "from RECLOOP_ADMIN_API_KEY"
        return "none (insecure dev mode: every admin action is refused)"

    def check_admin_key(self) -> None:
        """ConfigError unless a real admin key is set or ``insecure_dev`` says to go without."""
        if self.admin_key_is_set or self.insecure_dev:
            return
        from recloop.errors import ConfigError

        what = "is the old default 'change-me'" if self.admin_api_key == DEFAULT_ADMIN_KEY else "is not set"
        raise ConfigError(
            f"RECLOOP_ADMIN_API_KEY {what}: set it to a random secret (export "
            "RECLOOP_ADMIN_API_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
            "or RECLOOP_ADMIN_API_KEY_FILE=<file>), or start with --insecure-dev "
            "(RECLOOP_INSECURE_DEV=true) for a local demo without admin actions"
        )

    @property
    def admin_key_is_set(self) -> bool:
        """Whether a real admin key is configured (not unset, not the old placeholder)."""
        return self.admin_api_key is not None and self.admin_api_key != DEFAULT_ADMIN_KEY

    @property
    def data_dir(self) -> Path:
        """Cache of downloaded datasets (``$RECLOOP_HOME/data``)."""
        return self.home / "data"

    @property
    def mlflow_uri(self) -> str:
        """MLflow tracking URI: ``MLFLOW_TRACKING_URI`` if set, else embedded SQLite."""
        import os

        if self.tracking_uri:
            return self.tracking_uri
        env = os.environ.get("MLFLOW_TRACKING_URI")
        if env:
            return env
        return f"sqlite:///{self.home / 'mlflow.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment.

    Invalid values raise :class:`~recloop.errors.ConfigError` naming the variable.
    """
    from pydantic import ValidationError as PydanticError

    from recloop.errors import ConfigError

    try:
        return Settings()
    except PydanticError as exc:
        errors = exc.errors()
        problems = "; ".join(f"{_env_name(e['loc'])}: {e['msg']}" for e in errors)
        tag_problem = any(e["type"] in ("union_tag_not_found", "union_tag_invalid") for e in errors)
        hint = (
            " (RECLOOP_STATE__TYPE must be set to memory or redis when other RECLOOP_STATE__ "
            "variables are given.)"
            if tag_problem
            else ""
        )
        raise ConfigError(f"invalid settings in the environment: {problems}.{hint}") from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    """The variable behind a validation error location (the union tag dropped)."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] == "state" and parts[1] in ("memory", "redis"):
        del parts[1]
    return "RECLOOP_" + "__".join(parts).upper()


def _field_paths(model: type[BaseModel], prefix: str) -> list[str]:
    out: list[str] = []
    for name, info in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        out.append(env)
        kinds: list[Any] = list(getattr(info.annotation, "__args__", ())) or [info.annotation]
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                out.extend(_field_paths(kind, env + "__"))
    return out


# read by CLI options (envvar=...) and by scripts/test.sh, not by Settings
_OTHER_NAMES = ("RECLOOP_URL", "RECLOOP_TEST_REDIS_URL")


def known_env_names() -> frozenset[str]:
    """Every ``RECLOOP_*`` variable recloop reads (nested models as JSON or field by field)."""
    return frozenset(_field_paths(Settings, "RECLOOP_")) | frozenset(_OTHER_NAMES)


def unknown_env_names(environ: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """``(name, closest known name or None)`` for each ``RECLOOP_*`` name recloop ignores.

    ``RECLOOP_STATE_TYPE`` gives ``("RECLOOP_STATE_TYPE", "RECLOOP_STATE__TYPE")``.
    """
    known = known_env_names()
    by_squashed = {k.replace("_", ""): k for k in known}
    out: list[tuple[str, str | None]] = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith("RECLOOP_") or upper in known:
            continue
        guess = by_squashed.get(upper.replace("_", ""))
        if guess is None:  # compare what follows the prefix: every name shares "RECLOOP_"
            tails = {k.removeprefix("RECLOOP_"): k for k in known}
            close = difflib.get_close_matches(upper.removeprefix("RECLOOP_"), sorted(tails), 1, 0.7)
            guess = tails[close[0]] if close else None
        out.append((name, guess))
    return out

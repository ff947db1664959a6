"""The MLflow side of the registry: the client, its calls, version lookup and bundle download."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mlflow.artifacts
import structlog
from mlflow.entities.model_registry import ModelVersion, RegisteredModel
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from recloop.errors import (
    DependencyUnavailableError,
    ModelNotFoundError,
    NotFoundError,
    RecloopError,
    ValidationError,
)
from recloop.registry.models import ModelVersionInfo

__all__ = ["MlflowBackend"]

log = structlog.get_logger(__name__)

BUNDLE_PATH = "bundle"
HISTORY_TAG = "recloop.champion_history"
PREVIOUS_CHAMPION_TAG = "recloop.previous_champion"
_METRIC_NAMES_TAG = "recloop.metric_names"
_PARAM_NAMES_TAG = "recloop.param_names"
_MAX_PARAM_VALUE = 6000
_MAX_KEY = 250
_HEALTH_TIMEOUT_S = 3.0
_INVALID_KEY_CHARS = re.compile(r"[^\w./\- ]")
_MODEL_NAME = re.compile(r"^[\w.\- ]+$")
_VERSION_REF = re.compile(r"^v?(\d+)$")


def _quiet_mlflow_logs() -> None:
    """Silence MLflow's chatter: migration and registration INFO lines, run URLs on stdout.

    With a tracking server, MLflow writes "View run ... at: <url>" to stdout on
    every finished run, which would corrupt the CLI's JSON output.
    """
    for name in ("alembic", "mlflow.store.db.utils", "mlflow.store.model_registry"):
        logging.getLogger(name).setLevel(logging.WARNING)
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


def _sqlite_home(uri: str) -> Path | None:
    """Directory holding the SQLite file of a ``sqlite:///path`` URI, else ``None``."""
    if not uri.startswith("sqlite:///"):
        return None
    path = uri.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path).expanduser().resolve().parent


def _check_reachable(uri: str) -> None:
    """Fail fast (seconds, no retries) if the tracking server does not answer."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=_HEALTH_TIMEOUT_S):
            return
    except urllib.error.HTTPError:
        return  # it answered, even if with an error status: it is up
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DependencyUnavailableError(
            f"MLflow tracking server {uri} is unreachable ({reason}); start it "
            f"(e.g. `mlflow server --host 127.0.0.1 --port 5000`) or unset "
            f"MLFLOW_TRACKING_URI / RECLOOP_TRACKING_URI to use the embedded SQLite registry"
        ) from exc


def _flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested dicts become dotted keys; values become strings of at most 6000 chars."""
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten_params(value, f"{name}."))
        else:
            text = value if isinstance(value, str) else str(value)
            if len(text) > _MAX_PARAM_VALUE:
                text = text[: _MAX_PARAM_VALUE - 3] + "..."
            out[name] = text
    return out


def _mlflow_key(name: str) -> str:
    """A valid MLflow metric/param key for ``name``: ``@`` -> ``_at_``, others -> ``_``."""
    key = _INVALID_KEY_CHARS.sub("_", name.replace("@", "_at_"))
    # MLflow rejects keys that are not normalized paths ("a//b", "./a", "a/").
    return "/".join(part for part in key.split("/") if part not in ("", ".", ".."))


def _mlflow_keys(names: Iterable[str], kind: str) -> dict[str, str]:
    """Original name -> MLflow key; raises if two names collide or a key is invalid."""
    keys: dict[str, str] = {}
    seen: dict[str, str] = {}
    for name in names:
        key = _mlflow_key(name)
        if not key or len(key) > _MAX_KEY:
            raise ValidationError(f"{kind} name {name!r} must have 1 to {_MAX_KEY} characters")
        if key in seen:
            raise ValidationError(
                f"{kind} names {seen[key]!r} and {name!r} both map to MLflow key {key!r}; rename one of them"
            )
        seen[key] = name
        keys[name] = key
    return keys


def _renamed(keys: Mapping[str, str]) -> dict[str, str]:
    """MLflow key -> original name, only for names that had to change."""
    return {key: name for name, key in keys.items() if key != name}


def _json_tag(raw: str | None) -> Any:
    """A JSON tag value, or ``None`` if it is missing or corrupt."""
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError:
        return None


def _decode_names(raw: str | None) -> dict[str, str]:
    value = _json_tag(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


@contextmanager
def _unless_exists() -> Iterator[None]:
    """Ignore MLflow's RESOURCE_ALREADY_EXISTS (another process created it first)."""
    try:
        yield
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


class MlflowBackend:
    """One registered model in an MLflow tracking store: connection, lookup, download.

    ``tracking_uri`` is an MLflow tracking URI (``sqlite:///...`` or
    ``http(s)://...``). For a SQLite URI, artifacts default to
    ``<db dir>/mlartifacts`` and downloaded bundles are cached in
    ``<db dir>/models/<version>``; an http(s) server is health-checked here
    and :class:`DependencyUnavailableError` is raised within seconds if it is
    down. Creating a fresh SQLite store runs MLflow's migrations (~2 s).
    """

    def __init__(
        self,
        tracking_uri: str,
        model_name: str = "recloop",
        artifact_root: Path | None = None,
        *,
        cache_dir: Path | None = None,
        experiment_name: str = "recloop",
    ) -> None:
        if not _MODEL_NAME.match(model_name):
            raise ValidationError(
                f"model name {model_name!r} may only contain letters, digits, '_', '-', '.', ' '"
            )
        _quiet_mlflow_logs()
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.experiment_name = experiment_name
        home = _sqlite_home(tracking_uri)
        if home is not None:
            home.mkdir(parents=True, exist_ok=True)
        elif tracking_uri.startswith(("http://", "https://")):
            _check_reachable(tracking_uri)
        self.artifact_root = artifact_root or (home / "mlartifacts" if home else None)
        self.cache_dir = cache_dir or (home or Path.home() / ".recloop") / "models"
        self._experiment_id: str | None = None
        with self._mlflow_calls():
            self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


    @contextmanager
    def _mlflow_calls(self) -> Iterator[None]:
        """Map MLflow failures into the recloop error tree."""
        try:
            yield
        except RecloopError:
            raise
        except MlflowException as exc:
            code = str(exc.error_code)
            if code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND"):
                raise NotFoundError(str(exc.message)) from exc
            if code == "INVALID_PARAMETER_VALUE":
                raise ValidationError(str(exc.message)) from exc
            if "API request to" in str(exc.message):
                raise DependencyUnavailableError(
                    f"MLflow tracking server {self.tracking_uri} failed: {exc.message}; "
                    f"check that it is running or unset MLFLOW_TRACKING_URI"
                ) from exc
            raise

    def _experiment(self) -> str:
        """Id of the experiment runs go to, created with an explicit artifact location."""
        if self._experiment_id is not None:
            return self._experiment_id
        client = self._client
        exp = client.get_experiment_by_name(self.experiment_name)
        if exp is None:
            location = self.artifact_root.resolve().as_uri() if self.artifact_root else None
            with _unless_exists():
                client.create_experiment(self.experiment_name, artifact_location=location)
            exp = client.get_experiment_by_name(self.experiment_name)
            assert exp is not None  # created just above
        if exp.lifecycle_stage == "deleted":
            client.restore_experiment(exp.experiment_id)
        self._experiment_id = str(exp.experiment_id)
        return self._experiment_id

    def _ensure_registered_model(self) -> None:
        if self._registered_model() is None:
            with _unless_exists():
                self._client.create_registered_model(self.model_name)

    def _registered_model(self) -> RegisteredModel | None:
        try:
            with self._mlflow_calls():
                return self._client.get_registered_model(self.model_name)
        except NotFoundError:
            return None

    def _search(self) -> list[ModelVersion]:
        """MLflow's ModelVersion objects of this model, oldest first (aliases unset)."""
        if self._registered_model() is None:
            return []
        found: list[ModelVersion] = []
        token: str | None = None
        with self._mlflow_calls():
            while True:
                page = self._client.search_model_versions(f"name='{self.model_name}'", page_token=token)
                found.extend(page)
                token = page.token
                if not token:
                    return sorted(found, key=lambda mv: int(mv.version))

    def _numbers(self) -> list[int]:
        return [int(mv.version) for mv in self._search()]

    def _aliases(self) -> dict[str, int]:
        model = self._registered_model()
        if model is None:
            return {}
        return {str(alias): int(version) for alias, version in model.aliases.items()}

    def _champion_history(self) -> list[int]:
        model = self._registered_model()
        value = _json_tag(model.tags.get(HISTORY_TAG) if model is not None else None)
        return [int(v) for v in value] if isinstance(value, list) else []

    def _nothing_registered(self) -> ModelNotFoundError:
        return ModelNotFoundError(
            f"no model version of {self.model_name!r} is registered at {self.tracking_uri}; "
            f"run `recloop train` first"
        )

    def _resolve(self, ref: int | str) -> int:
        """Version number for a number, ``"v3"``, ``"latest"`` or an alias."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            return ref
        text = str(ref).strip()
        if match := _VERSION_REF.match(text):
            return int(match.group(1))
        aliases = self._aliases()
        if text in aliases:
            return aliases[text]
        known = self._numbers()
        if not known:
            raise self._nothing_registered()
        if text == "latest":
            return known[-1]
        have = ", ".join(f"{a}=v{v}" for a, v in sorted(aliases.items())) or "none"
        raise ModelNotFoundError(
            f"no version of {self.model_name!r} has alias {text!r} (aliases: {have}); "
            f"run `recloop train` to register one or set the alias"
        )

    def _info(self, mv: ModelVersion, aliases: Mapping[str, int]) -> ModelVersionInfo:
        version = int(mv.version)
        run_id = str(mv.run_id or "")
        metrics: dict[str, float] = {}
        params: dict[str, str] = {}
        run_name: str | None = None
        if run_id:
            try:
                with self._mlflow_calls():
                    run = self._client.get_run(run_id)
            except NotFoundError:
                run = None
            if run is not None:
                run_name = run.info.run_name
                metric_names = _decode_names(run.data.tags.get(_METRIC_NAMES_TAG))
                param_names = _decode_names(run.data.tags.get(_PARAM_NAMES_TAG))
                metrics = {metric_names.get(k, k): float(v) for k, v in run.data.metrics.items()}
                params = {param_names.get(k, k): str(v) for k, v in run.data.params.items()}
        return ModelVersionInfo(
            name=self.model_name,
            version=version,
            aliases=tuple(sorted(a for a, v in aliases.items() if v == version)),
            run_id=run_id,
            run_name=run_name,
            created_at=datetime.fromtimestamp(int(mv.creation_timestamp) / 1000, tz=UTC),
            status=str(mv.status),
            source=str(mv.source),
            metrics=metrics,
            params=params,
            tags={str(k): str(v) for k, v in (mv.tags or {}).items()},
        )

    def _fetch(self, info: ModelVersionInfo, target: Path, marker: Path) -> None:
        """Download the bundle to a temp dir beside ``target``, then move it into place."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{info.version}-", dir=self.cache_dir))
        try:
            with self._mlflow_calls():
                local = mlflow.artifacts.download_artifacts(
                    artifact_uri=info.source, dst_path=str(tmp), tracking_uri=self.tracking_uri
                )
            marker.unlink(missing_ok=True)
            if target.exists():
                shutil.rmtree(target)
            try:
                os.replace(local, target)
            except OSError:
                if not target.is_dir():  # another process won the race: use its copy
                    raise
            marker.write_text(info.source)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("model bundle downloaded", model=self.model_name, version=info.version)

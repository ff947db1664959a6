"""A thin model registry over MLflow: versions, aliases, champion history.

The embedded default is a SQLite tracking store (``sqlite:///$RECLOOP_HOME/mlflow.db``)
with artifacts under ``$RECLOOP_HOME/mlartifacts``; a real tracking server is
used when its ``http(s)://`` URI is configured, and must then be reachable
(no silent fallback to SQLite). Only run artifacts and model versions are
used, no MLflow flavor: a version's ``source`` is ``<run artifacts>/bundle``.

Metric names such as ``ndcg@10`` are not valid MLflow keys, so they are
stored as ``ndcg_at_10``; the original names travel in a run tag and a
``metrics.json`` artifact and are what :class:`ModelVersionInfo` reports.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import structlog
from mlflow.entities import Metric, Param

from recloop.config import Settings
from recloop.errors import BundleIntegrityError, NotFoundError, ValidationError
from recloop.registry.mlflow_backend import (
    _METRIC_NAMES_TAG,
    _PARAM_NAMES_TAG,
    BUNDLE_PATH,
    HISTORY_TAG,
    PREVIOUS_CHAMPION_TAG,
    MlflowBackend,
    _flatten_params,
    _mlflow_keys,
    _renamed,
)
from recloop.registry.models import CHAMPION, ModelVersionInfo, PromotionResult

__all__ = ["ModelRegistry", "registry_from_settings"]

log = structlog.get_logger(__name__)


class ModelRegistry(MlflowBackend):
    """Versions of one registered model, with ``champion``/``challenger`` aliases.

    Logging versions, moving aliases, promotion and rollback with the champion history;
    the connection and the URI rules are :class:`MlflowBackend`'s.
    """

    def __repr__(self) -> str:
        return f"ModelRegistry({self.tracking_uri!r}, model_name={self.model_name!r})"

    # -- writing -----------------------------------------------------------------

    def log_version(
        self,
        bundle_dir: Path,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        model_card: str,
        run_name: str,
    ) -> ModelVersionInfo:
        """Log a run (params, metrics, bundle, card, tags) and register it as a new version.

        ``params`` may nest dicts (flattened to dotted keys); ``metrics`` may use
        names such as ``ndcg@10``. The files of ``bundle_dir`` land under the run's
        ``bundle/`` artifacts, which become the new version's source.
        """
        bundle_dir = Path(bundle_dir)
        if not bundle_dir.is_dir() or not any(bundle_dir.iterdir()):
            raise ValidationError(f"bundle dir {bundle_dir} must be a non-empty directory")
        from recloop.ranking.manifest import DIGEST_TAG, write_manifest

        digest = write_manifest(bundle_dir)  # every file, those added after training included
        tags = {**tags, DIGEST_TAG: digest}
        flat = _flatten_params(params)
        param_keys = _mlflow_keys(list(flat), "param")
        metric_keys = _mlflow_keys(list(metrics), "metric")
        user_tags = {str(k): str(v) for k, v in tags.items()}
        run_tags = dict(user_tags)
        if renamed := _renamed(metric_keys):
            run_tags[_METRIC_NAMES_TAG] = json.dumps(renamed)
        if renamed := _renamed(param_keys):
            run_tags[_PARAM_NAMES_TAG] = json.dumps(renamed)
        now_ms = int(time.time() * 1000)
        client = self._client
        with self._mlflow_calls():
            run = client.create_run(self._experiment(), run_name=run_name, tags=run_tags)
            run_id = str(run.info.run_id)
            try:
                client.log_batch(
                    run_id,
                    metrics=[Metric(metric_keys[n], float(v), now_ms, 0) for n, v in metrics.items()],
                    params=[Param(param_keys[n], v) for n, v in flat.items()],
                )
                client.log_artifacts(run_id, str(bundle_dir), BUNDLE_PATH)
                client.log_text(run_id, model_card, "model_card.md")
                client.log_dict(run_id, {n: float(v) for n, v in metrics.items()}, "metrics.json")
            except BaseException:
                client.set_terminated(run_id, status="FAILED")
                raise
            client.set_terminated(run_id)
            self._ensure_registered_model()
            mv = client.create_model_version(
                self.model_name,
                source=f"{run.info.artifact_uri}/{BUNDLE_PATH}",
                run_id=run_id,
                tags=user_tags,
            )
        version = int(mv.version)
        log.info("model version registered", model=self.model_name, version=version, run_id=run_id)
        return self.get(version)

    def set_alias(self, alias: str, version: int) -> None:
        """Point ``alias`` at ``version`` (``v1``-style names and ``latest`` are reserved)."""
        with self._mlflow_calls():
            self._client.set_registered_model_alias(self.model_name, alias, str(int(version)))
        log.info("model alias set", model=self.model_name, alias=alias, version=version)

    def set_version_tags(self, version: int, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags on one model version."""
        with self._mlflow_calls():
            for key, value in tags.items():
                self._client.set_model_version_tag(self.model_name, str(int(version)), key, str(value))

    # -- reading -----------------------------------------------------------------

    def alias_version(self, alias: str) -> int | None:
        """The version ``alias`` points at, or ``None``."""
        return self._aliases().get(alias)

    def versions(self) -> list[ModelVersionInfo]:
        """Every version of the model, oldest first (empty if none is registered)."""
        aliases = self._aliases()
        return [self._info(mv, aliases) for mv in self._search()]

    def get(self, version_or_alias: int | str) -> ModelVersionInfo:
        """One version by number (``3``, ``"3"``, ``"v3"``), alias, or ``"latest"``.

        Raises :class:`ModelNotFoundError` when nothing is registered or the alias
        is unset, :class:`NotFoundError` when the version number does not exist.
        """
        version = self._resolve(version_or_alias)
        try:
            with self._mlflow_calls():
                mv = self._client.get_model_version(self.model_name, str(version))
        except NotFoundError:
            known = self._numbers()
            if not known:
                raise self._nothing_registered() from None
            raise NotFoundError(
                f"model {self.model_name!r} has no version {version}; versions: {', '.join(map(str, known))}"
            ) from None
        return self._info(mv, self._aliases())

    def download(self, version_or_alias: int | str, dest: Path | None = None) -> Path:
        """A local directory with the version's bundle files.

        Bundles are cached in ``cache_dir/<version>`` (checked against the
        version's source), so loading a version a second time is instant. With
        ``dest``, the files are also copied there and ``dest`` is returned.
        """
        info = self.get(version_or_alias)
        target = self.cache_dir / str(info.version)
        marker = self.cache_dir / f".{info.version}.source"
        cached = target.is_dir() and marker.is_file() and marker.read_text() == info.source
        if not cached:
            self._fetch(info, target, marker)
        _verify_or_refetch(info, target, cached, lambda: self._fetch(info, target, marker))
        if dest is None:
            return target
        shutil.copytree(target, dest, dirs_exist_ok=True)
        return Path(dest)

    # -- champion ----------------------------------------------------------------

    def promote(self, version: int) -> PromotionResult:
        """Make ``version`` the champion, pushing the previous one on the history stack."""
        target = self.get(version).version
        previous = self.alias_version(CHAMPION)
        history = self._champion_history()
        if previous == target:
            return PromotionResult("unchanged", target, previous, tuple(history))
        with self._mlflow_calls():
            if previous is not None:
                history.append(previous)
                self._client.set_registered_model_tag(self.model_name, HISTORY_TAG, json.dumps(history))
                self._client.set_model_version_tag(
                    self.model_name, str(target), PREVIOUS_CHAMPION_TAG, str(previous)
                )
            self._client.set_registered_model_alias(self.model_name, CHAMPION, str(target))
        log.info("champion promoted", model=self.model_name, version=target, previous=previous)
        return PromotionResult("promoted", target, previous, tuple(history))

    def rollback(self) -> PromotionResult:
        """Restore the previous champion; repeated calls walk further back."""
        current = self.alias_version(CHAMPION)
        if current is None:
            if not self._numbers():
                raise self._nothing_registered()
            raise ValidationError(
                f"cannot roll back: {self.model_name!r} has no champion; promote a version first"
            )
        history = self._champion_history()
        known = set(self._numbers())
        while history:
            candidate = history.pop()
            if candidate != current and candidate in known:
                break
        else:
            raise ValidationError(
                f"cannot roll back: champion v{current} of {self.model_name!r} has no earlier "
                f"champion; promote another version instead"
            )
        with self._mlflow_calls():
            self._client.set_registered_model_alias(self.model_name, CHAMPION, str(candidate))
            self._client.set_registered_model_tag(self.model_name, HISTORY_TAG, json.dumps(history))
        log.info("champion rolled back", model=self.model_name, version=candidate, previous=current)
        return PromotionResult("rolled_back", candidate, current, tuple(history))

    def ensure_champion(self, version: int) -> PromotionResult | None:
        """Promote ``version`` if there is no champion yet (the first trained model)."""
        if self.alias_version(CHAMPION) is not None:
            return None
        return self.promote(version)


def _verify_or_refetch(info: ModelVersionInfo, target: Path, cached: bool, fetch: Callable[[], None]) -> None:
    """Check the bundle against the registry's manifest digest; a damaged cache is fetched
    again, a damaged registry copy is a BundleIntegrityError naming the file."""
    from recloop.ranking.manifest import DIGEST_TAG, verify_bundle

    expected = info.tags.get(DIGEST_TAG)
    try:
        verify_bundle(target, expected)
        return
    except BundleIntegrityError as exc:
        if not cached:
            raise _registry_damaged(info, exc) from None
        log.warning("model bundle cache damaged, fetching again", version=info.version, file=exc.field)
    fetch()
    try:
        verify_bundle(target, expected)
    except BundleIntegrityError as exc:
        raise _registry_damaged(info, exc) from None


def _registry_damaged(info: ModelVersionInfo, exc: BundleIntegrityError) -> BundleIntegrityError:
    return BundleIntegrityError(f"version {info.version} in the registry is damaged: {exc.message}; "
                                "retrain with `recloop train`", exc.field)


def registry_from_settings(settings: Settings) -> ModelRegistry:
    """The registry the settings describe (embedded SQLite under ``home`` by default)."""
    uri = settings.mlflow_uri
    embedded = uri.startswith("sqlite:")
    return ModelRegistry(
        uri,
        model_name=settings.registered_model,
        artifact_root=settings.home / "mlartifacts" if embedded else None,
        cache_dir=settings.home / "models",
    )

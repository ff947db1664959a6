"""Hot model swap: follow the registry's ``champion`` alias without a restart.

A :class:`ModelWatcher` polls the alias from a background thread. When it
points at a new version, the bundle is downloaded, loaded and warmed up
(a few users ranked) off the request path, then handed to
:meth:`Recommender.swap`, which replaces one attribute: a request
reads the served model once, so requests in flight finish on the old model
and every later one uses the new. If anything fails while loading, the
error is logged and the old model keeps serving; the version is retried
after ``retry_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from recloop.config import Settings
from recloop.data.movielens import Dataset
from recloop.ranking.bundle import LoadedBundle, load_bundle
from recloop.registry import CHAMPION, ModelRegistry, registry_from_settings
from recloop.serving.recommender import Recommender, ServedModel
from recloop.serving.runtime import prepare_for_serving

__all__ = ["ModelWatcher", "SwapEvent"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class SwapEvent:
    """A completed swap: versions, the loaded bundle and its directory, load time (s)."""

    version: str
    previous: str
    bundle: LoadedBundle
    path: Path
    load_s: float


class ModelWatcher:
    """Swaps the service's model whenever the ``alias`` (champion) moves.

    ``interval_s``: polling period of the background thread. ``on_swap`` is
    called after each swap (e.g. to update the runtime's bundle and metrics).
    ``warmup_users``: how many users to rank before the swap.
    """

    def __init__(
        self, service: Recommender, settings: Settings, dataset: Dataset,
        interval_s: float = 5.0, on_swap: Callable[[SwapEvent], None] | None = None, *,
        alias: str = CHAMPION, warmup_users: int = 3, retry_s: float = 60.0,
    ) -> None:  # fmt: skip
        self.service, self.settings, self.dataset = service, settings, dataset
        self.interval_s, self.on_swap, self.alias = interval_s, on_swap, alias
        self.warmup_users, self.retry_s = warmup_users, retry_s
        self._registry: ModelRegistry | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: dict[int, float] = {}

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling in a daemon thread (no-op if already running)."""
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="model-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling; waits for a load in progress to finish (up to ``timeout`` s)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check_now()
            self._stop.wait(self.interval_s)

    def check_now(self, force: bool = False) -> str | None:
        """Swap now if the alias moved; returns the new version, else None. Never raises.

        ``force`` retries a version that failed to load less than ``retry_s`` ago.
        """
        with self._lock:
            try:
                if self._registry is None:
                    self._registry = registry_from_settings(self.settings)
                target = self._registry.alias_version(self.alias)
            except Exception as exc:  # the registry may be down: keep serving
                log.error("model watch failed", alias=self.alias, error=repr(exc))
                return None
            current = self.service.model.version
            if target is None or str(target) == current:
                return None
            failed_at = self._failed.get(target)
            if not force and failed_at is not None and time.monotonic() - failed_at < self.retry_s:
                return None
            try:
                event = self._load(self._registry, target, current)
            except Exception as exc:  # a bad bundle must never take serving down
                self._failed[target] = time.monotonic()
                log.error("model swap failed", version=target, serving=current, error=repr(exc))
                return None
            self._failed.pop(target, None)
        log.info("model swapped", version=event.version, previous=event.previous,
                 load_s=round(event.load_s, 3))  # fmt: skip
        if self.on_swap:
            try:
                self.on_swap(event)
            except Exception as exc:
                log.error("on_swap callback failed", version=event.version, error=repr(exc))
        return event.version

    def _load(self, registry: ModelRegistry, version: int, current: str) -> SwapEvent:
        """Download, load and warm up ``version``, then swap it in."""
        t0 = time.perf_counter()
        path = registry.download(version)
        bundle = prepare_for_serving(load_bundle(path, self.dataset), self.settings)
        live = self.service.live
        if bundle.config.half_life_days != live.half_life_days:
            log.warning("trending half-life differs from the live state's; restart to rebuild item stats",
                        bundle_days=bundle.config.half_life_days, live_days=live.half_life_days)  # fmt: skip
        users = live.base.most_active(self.warmup_users)
        stats = live.stats
        for user in [*users, "__warmup_cold_user__"]:
            bundle.model.rank(live.history(user), stats, stats.now, 10)
        svc = self.service
        served = ServedModel(bundle.model, str(version))
        svc.swap(served)
        return SwapEvent(served.version, current, bundle, path, time.perf_counter() - t0)

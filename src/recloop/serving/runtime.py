"""Building the serving runtime: data, store, champion model, service, stats.

Used by the API's lifespan and by the P2 protocol, so both serve through
exactly the same objects. Order of :func:`build_runtime`: the cheap checks
first (data, the champion's bundle directory, the state store opened and its
durability checked), the model load last, so a bad state file or a volatile
Redis fails in seconds, before the model is loaded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import anyio
import pandas as pd

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.events.feedback import Semantics
from recloop.events.validation import TimestampWindow
from recloop.features.store import FeatureStore, open_serving_store
from recloop.monitoring.bounded import CacheCollector
from recloop.monitoring.live import LiveStats
from recloop.monitoring.metrics import Instruments
from recloop.ranking.bundle import LoadedBundle, TwoStageConfig, load_bundle
from recloop.ranking.inputs import columnar_histories, item_stats
from recloop.serving.bus import EventBus, open_bus
from recloop.serving.catalog import Catalog
from recloop.serving.live import LiveState
from recloop.serving.recommender import Recommender, ServedModel
from recloop.serving.stability import Stability

T = TypeVar("T")

__all__ = ["Runtime", "build_runtime", "bundle_half_life", "champion_dir", "load_champion",
           "prepare_for_serving", "service_for"]  # fmt: skip


@dataclass
class Runtime:
    """Everything a serving process holds."""

    settings: Settings
    dataset: Dataset
    service: Recommender
    store: FeatureStore
    live: LiveStats
    instruments: Instruments
    bundle: LoadedBundle
    bundle_dir: Path
    bus: EventBus | None = None  # RECLOOP_EVENTS__BUS=kafka: events go through it

    async def off_loop(self, call: Callable[[], T]) -> T:
        """``call()`` in the threadpool when the store talks to a server (Redis: a hung server must
        not block the event loop, so /health keeps answering), inline for the embedded store."""
        if self.settings.state.type == "memory":
            return call()
        return await anyio.to_thread.run_sync(call)

    def close(self) -> None:
        """Release the bus and the store."""
        if self.bus is not None:
            self.bus.close()
        self.store.close()


def champion_dir(settings: Settings, alias: str = "champion") -> tuple[str, Path]:
    """The version behind ``alias`` and its downloaded bundle directory; says what to run if none."""
    from recloop.registry import registry_from_settings

    registry = registry_from_settings(settings)
    info = registry.get(alias)
    path: Path = registry.download(info.version)
    return str(info.version), path


def bundle_half_life(path: Path) -> float:
    """The trending half-life (days) a bundle was trained with, read from its ``meta.json``."""
    meta = json.loads((path / "meta.json").read_text())
    return TwoStageConfig.model_validate(meta["config"]).half_life_days


def load_champion(
    settings: Settings, dataset: Dataset, alias: str = "champion"
) -> tuple[LoadedBundle, str, Path]:
    """Download and load the version behind ``alias``; says what to run if none."""
    version, path = champion_dir(settings, alias)
    return prepare_for_serving(load_bundle(path, dataset), settings), version, path


def prepare_for_serving(bundle: LoadedBundle, settings: Settings) -> LoadedBundle:
    """Compile the ranker when ``settings.ranker_runtime`` says so (cached under the home)."""
    if settings.ranker_runtime == "lleaves":
        bundle.model.ranker.compile(settings.home / "cache" / "compiled")
    return bundle


def service_for(
    dataset: Dataset, base: pd.DataFrame, store: FeatureStore, served: ServedModel,
    half_life_days: float, observer: LiveStats | None = None, user_cache_mb: float = 128.0,
    semantics: Semantics = "explicit", foldin_cache_mb: float = 64.0,
    stability: Stability | None = None,
) -> Recommender:  # fmt: skip
    """A recommender over ``base`` interactions (training history) and the live store.

    ``semantics``: how events become history (recloop.events.feedback); ``explicit``
    serves, ``implicit`` is the offline protocols' (every rating a positive).
    """
    stats = item_stats(dataset, base, half_life_days)
    live = LiveState(Catalog(dataset), columnar_histories(dataset, base), stats, store, semantics)
    return Recommender(live, served, observer, user_cache_mb, foldin_cache_mb, stability)


def build_runtime(settings: Settings) -> Runtime:
    """Load data, open the configured store, load the champion, build the service.

    Raises ConfigError without a real admin key (unless ``settings.insecure_dev``).
    """
    settings.check_admin_key()
    dataset = load_dataset(settings)
    version, path = champion_dir(settings)
    half_life = bundle_half_life(path)
    store = open_serving_store(settings.state, dataset.n_items, settings.home, half_life)
    try:
        bundle = prepare_for_serving(load_bundle(path, dataset), settings)
        bus = open_bus(settings)
    except BaseException:
        store.close()
        raise
    instruments = Instruments()
    instruments.model_info.info({"version": version})
    live = LiveStats(instruments, recommended_users=settings.recommended_users)
    base = dataset.interactions.iloc[: round(settings.base_fraction * len(dataset.interactions))]
    service = service_for(dataset, base, store,
                          ServedModel(bundle.model, version), bundle.config.half_life_days, live,
                          settings.user_cache_mb, foldin_cache_mb=settings.foldin_cache_mb,
                          stability=Stability(settings.shown_lists, settings.stability_strength))  # fmt: skip
    instruments.registry.register(CacheCollector(lambda: [*service.caches(), *live.caches()]))
    service.event_window = TimestampWindow(settings.events.min_timestamp, settings.events.max_future_s)
    if settings.state.type == "redis":
        service.live.write_wait_s = settings.state.timeout_s
    return Runtime(settings, dataset, service, store, live, instruments, bundle, path, bus)

"""Building the serving runtime: data, store, champion model, service, stats.

Used by the API's lifespan and by the P2 protocol, so both serve through
exactly the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.features.store import FeatureStore, open_store
from recloop.monitoring.live import LiveStats
from recloop.monitoring.metrics import Instruments
from recloop.ranking.bundle import LoadedBundle, load_bundle
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.serving.catalog import Catalog
from recloop.serving.live import LiveState
from recloop.serving.recommender import Recommender, ServedModel

__all__ = ["Runtime", "build_runtime", "load_champion", "prepare_for_serving", "service_for"]


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

    def close(self) -> None:
        """Release the store."""
        self.store.close()


def load_champion(
    settings: Settings, dataset: Dataset, alias: str = "champion"
) -> tuple[LoadedBundle, str, Path]:
    """Download and load the version behind ``alias``; says what to run if none."""
    from recloop.registry import registry_from_settings

    registry = registry_from_settings(settings)
    info = registry.get(alias)
    path: Path = registry.download(info.version)
    return prepare_for_serving(load_bundle(path, dataset), settings), str(info.version), path


def prepare_for_serving(bundle: LoadedBundle, settings: Settings) -> LoadedBundle:
    """Compile the ranker when ``settings.ranker_runtime`` says so (cached under the home)."""
    if settings.ranker_runtime == "lleaves":
        bundle.model.ranker.compile(settings.home / "cache" / "compiled")
    return bundle


def service_for(
    dataset: Dataset, base: pd.DataFrame, store: FeatureStore, served: ServedModel,
    half_life_days: float, observer: LiveStats | None = None, user_cache_mb: float = 128.0,
) -> Recommender:  # fmt: skip
    """A recommender over ``base`` interactions (training history) and the live store."""
    stats = item_stats(dataset, base, half_life_days)
    live = LiveState(Catalog(dataset), replay_histories(dataset, base), stats, store)
    return Recommender(live, served, observer, user_cache_mb)


def build_runtime(settings: Settings) -> Runtime:
    """Load data, open the configured store, load the champion, build the service."""
    dataset = load_dataset(settings)
    bundle, version, path = load_champion(settings, dataset)
    store = open_store(settings.state, dataset.n_items, settings.home, bundle.config.half_life_days)
    instruments = Instruments()
    instruments.model_info.info({"version": version})
    live = LiveStats(instruments)
    base = dataset.interactions.iloc[: round(settings.base_fraction * len(dataset.interactions))]
    service = service_for(dataset, base, store,
                          ServedModel(bundle.model, version), bundle.config.half_life_days, live,
                          settings.user_cache_mb)  # fmt: skip
    return Runtime(settings, dataset, service, store, live, instruments, bundle, path)

"""ModelRegistry against a real embedded MLflow (SQLite store + local artifacts).

One SQLite store is created per module (its migrations take ~2 s); each test
gets its own registered-model name in it, so tests do not see each other.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from recloop.config import Settings
from recloop.errors import (
    DependencyUnavailableError,
    ModelNotFoundError,
    NotFoundError,
    ValidationError,
)
from recloop.ranking.manifest import DIGEST_TAG
from recloop.registry import (
    CHAMPION,
    ModelRegistry,
    ModelVersionInfo,
    PromotionResult,
    registry_from_settings,
)

RegistryFactory = Callable[[], ModelRegistry]

# MLflow's own SQLAlchemy store triggers this; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")

PARAMS = {"model": "als", "als": {"factors": 32, "alpha": 0.5}, "seed": 42}
METRICS = {"ndcg@10": 0.3125, "recall@20": 0.5, "coverage": 0.25}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory of the module's SQLite store, created (migrated) once."""
    home = tmp_path_factory.mktemp("mlflow_home")
    ModelRegistry(f"sqlite:///{home / 'mlflow.db'}")
    return home


@pytest.fixture()
def make_registry(store: Path, tmp_path: Path) -> RegistryFactory:
    """Registries on the shared store, each for a fresh registered-model name."""
    names = count()

    def make() -> ModelRegistry:
        name = f"{tmp_path.name}-{next(names)}"
        return ModelRegistry(
            f"sqlite:///{store / 'mlflow.db'}", model_name=name, cache_dir=tmp_path / "models"
        )

    return make


@pytest.fixture()
def bundle(tmp_path: Path) -> Path:
    """A model bundle: a binary file, a JSON file and one in a subdirectory."""
    root = tmp_path / "bundle"
    (root / "index").mkdir(parents=True)
    (root / "model.bin").write_bytes(bytes(range(256)) * 4)
    (root / "meta.json").write_text(json.dumps({"n_items": 1682}))
    (root / "index" / "items.txt").write_text("1\n2\n3\n")
    return root


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def log(registry: ModelRegistry, bundle: Path, run_name: str = "train") -> ModelVersionInfo:
    return registry.log_version(
        bundle,
        params=PARAMS,
        metrics=METRICS,
        tags={"dataset": "ml-100k"},
        model_card="# recloop model\n",
        run_name=run_name,
    )


def test_log_two_versions_and_list_them(make_registry: RegistryFactory, bundle: Path) -> None:
    registry = make_registry()
    before = datetime.now(UTC)
    v1 = log(registry, bundle, "first")
    v2 = log(registry, bundle, "second")

    assert (v1.version, v2.version) == (1, 2)
    listed = registry.versions()
    assert [info.version for info in listed] == [1, 2]
    assert [info.run_name for info in listed] == ["first", "second"]
    assert listed[0].run_id != listed[1].run_id
    assert all(info.status == "READY" for info in listed)
    assert all(info.aliases == () for info in listed)
    assert before.timestamp() - 1 <= v1.created_at.timestamp() <= v2.created_at.timestamp()
    assert v1.created_at.tzinfo is UTC
    assert v1.params == {"model": "als", "als.factors": "32", "als.alpha": "0.5", "seed": "42"}
    assert {k: v for k, v in v1.tags.items() if k != DIGEST_TAG} == {"dataset": "ml-100k"}
    assert len(v1.tags[DIGEST_TAG]) == 64  # the bundle's manifest, recorded at registration
    assert v1.source.endswith(f"/{v1.run_id}/artifacts/bundle")


def test_artifacts_go_to_the_artifact_root_not_the_cwd(
    make_registry: RegistryFactory,
    bundle: Path,
    store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    info = log(make_registry(), bundle)

    run_dir = store / "mlartifacts" / info.run_id / "artifacts"
    assert info.source == (run_dir / "bundle").as_uri()
    assert files_of(run_dir / "bundle") == files_of(bundle)
    assert (run_dir / "model_card.md").read_text() == "# recloop model\n"
    assert not (tmp_path / "mlruns").exists()


def test_metric_names_with_at_round_trip(make_registry: RegistryFactory, bundle: Path, store: Path) -> None:
    registry = make_registry()
    info = log(registry, bundle)

    assert info.metrics == METRICS
    assert registry.get(info.version).metrics == METRICS
    # MLflow itself holds sanitized keys; metrics.json keeps the original names.
    run = MlflowClient(f"sqlite:///{store / 'mlflow.db'}").get_run(info.run_id)
    assert run.data.metrics == {"ndcg_at_10": 0.3125, "recall_at_20": 0.5, "coverage": 0.25}
    saved = store / "mlartifacts" / info.run_id / "artifacts" / "metrics.json"
    assert json.loads(saved.read_text()) == METRICS


def test_colliding_metric_names_and_empty_bundle_are_rejected(
    make_registry: RegistryFactory, bundle: Path, tmp_path: Path
) -> None:
    registry = make_registry()
    with pytest.raises(ValidationError, match="ndcg_at_10"):
        registry.log_version(bundle, {}, {"ndcg@10": 0.1, "ndcg_at_10": 0.2}, {}, "", "x")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValidationError, match="non-empty directory"):
        registry.log_version(empty, {}, {}, {}, "", "x")
    assert registry.versions() == []


def test_long_param_values_are_truncated_to_mlflow_limit(
    make_registry: RegistryFactory, bundle: Path
) -> None:
    info = make_registry().log_version(bundle, {"items": "x" * 7000}, {"ndcg@10": 0.1}, {}, "card", "long")
    assert len(info.params["items"]) == 6000
    assert info.params["items"].endswith("...")


def test_aliases_and_version_references(make_registry: RegistryFactory, bundle: Path) -> None:
    registry = make_registry()
    log(registry, bundle)
    log(registry, bundle)
    assert registry.alias_version("challenger") is None

    registry.set_alias("challenger", 2)
    registry.set_alias("champion", 1)

    assert registry.alias_version("challenger") == 2
    assert registry.get("challenger").version == 2
    assert registry.get("champion").aliases == ("champion",)
    assert [info.aliases for info in registry.versions()] == [("champion",), ("challenger",)]
    assert registry.get("v1").version == 1
    assert registry.get("2").version == 2
    assert registry.get("latest").version == 2
    with pytest.raises(ModelNotFoundError, match="alias 'staging'"):
        registry.get("staging")
    with pytest.raises(NotFoundError, match="versions: 1, 2"):
        registry.get(7)
    with pytest.raises(ValidationError, match="reserved"):
        registry.set_alias("v2", 1)
    with pytest.raises(NotFoundError):
        registry.set_alias("challenger", 9)


def test_version_tags(make_registry: RegistryFactory, bundle: Path) -> None:
    registry = make_registry()
    log(registry, bundle)
    registry.set_version_tags(1, {"validated": "true", "dataset": "ml-1m"})
    assert {k: v for k, v in registry.get(1).tags.items() if k != DIGEST_TAG} == {"dataset": "ml-1m",
                                                                                "validated": "true"}


def test_download_equals_bundle_and_is_cached(
    make_registry: RegistryFactory, bundle: Path, store: Path, tmp_path: Path
) -> None:
    registry = make_registry()
    log(registry, bundle)
    info = log(registry, bundle)
    registry.set_alias("champion", 2)

    local = registry.download("champion")
    assert local == tmp_path / "models" / "2"
    assert files_of(local) == files_of(bundle)

    # The second load is served from the cache: it works without the artifact store.
    artifacts = store / "mlartifacts" / info.run_id / "artifacts" / "bundle"
    (artifacts / "model.bin").unlink()
    started = time.perf_counter()
    assert registry.download(2) == local
    assert time.perf_counter() - started < 0.5
    assert files_of(local) == files_of(bundle)

    copied = registry.download(1, dest=tmp_path / "copy")
    assert copied == tmp_path / "copy"
    assert files_of(copied) == files_of(bundle)


def test_promote_and_rollback_walk_the_champion_history(make_registry: RegistryFactory, bundle: Path) -> None:
    registry = make_registry()
    for _ in range(3):
        log(registry, bundle)

    assert registry.ensure_champion(1) == PromotionResult("promoted", 1, None, ())
    assert registry.ensure_champion(2) is None
    assert registry.promote(2) == PromotionResult("promoted", 2, 1, (1,))
    assert registry.promote(3) == PromotionResult("promoted", 3, 2, (1, 2))
    assert registry.promote(3) == PromotionResult("unchanged", 3, 3, (1, 2))
    assert registry.get(3).tags["recloop.previous_champion"] == "2"
    assert registry.get(CHAMPION).version == 3

    assert registry.rollback() == PromotionResult("rolled_back", 2, 3, (1,))
    assert registry.alias_version(CHAMPION) == 2
    assert registry.rollback() == PromotionResult("rolled_back", 1, 2, ())
    assert registry.get("champion").version == 1
    with pytest.raises(ValidationError, match="no earlier champion"):
        registry.rollback()
    assert registry.alias_version(CHAMPION) == 1


def test_history_survives_a_new_registry_instance(
    make_registry: RegistryFactory, bundle: Path, store: Path, tmp_path: Path
) -> None:
    registry = make_registry()
    log(registry, bundle)
    log(registry, bundle)
    registry.promote(1)
    registry.promote(2)

    reopened = ModelRegistry(
        registry.tracking_uri, model_name=registry.model_name, cache_dir=tmp_path / "other"
    )
    assert reopened.rollback().champion == 1


def test_rollback_without_history_is_a_validation_error(make_registry: RegistryFactory, bundle: Path) -> None:
    registry = make_registry()
    log(registry, bundle)
    with pytest.raises(ValidationError, match="no champion"):
        registry.rollback()
    registry.promote(1)
    with pytest.raises(ValidationError, match="cannot roll back: champion v1"):
        registry.rollback()


def test_empty_registry_says_to_train(make_registry: RegistryFactory) -> None:
    registry = make_registry()
    assert registry.versions() == []
    assert registry.alias_version(CHAMPION) is None
    for ref in ("champion", "latest"):
        with pytest.raises(ModelNotFoundError, match="run `recloop train`"):
            registry.get(ref)
    with pytest.raises(ModelNotFoundError, match="run `recloop train`"):
        registry.get(1)
    with pytest.raises(ModelNotFoundError, match="run `recloop train`"):
        registry.download("champion")
    with pytest.raises(ModelNotFoundError, match="run `recloop train`"):
        registry.rollback()


def test_unreachable_server_fails_fast() -> None:
    started = time.perf_counter()
    with pytest.raises(DependencyUnavailableError) as err:
        ModelRegistry("http://127.0.0.1:9")
    assert time.perf_counter() - started < 5
    assert "http://127.0.0.1:9" in err.value.message
    assert "MLFLOW_TRACKING_URI" in err.value.message


def test_registry_from_settings_uses_home_layout(store: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    uri = f"sqlite:///{store / 'mlflow.db'}"
    registry = registry_from_settings(Settings(home=home, tracking_uri=uri, registered_model="from-settings"))
    assert registry.tracking_uri == uri
    assert registry.model_name == "from-settings"
    assert registry.artifact_root == home / "mlartifacts"
    assert registry.cache_dir == home / "models"


def test_invalid_model_name_is_rejected(store: Path) -> None:
    with pytest.raises(ValidationError, match="model name"):
        ModelRegistry(f"sqlite:///{store / 'mlflow.db'}", model_name="it's")

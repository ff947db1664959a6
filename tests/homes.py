"""The session's one trained RECLOOP_HOME and private copies of it (a pytest plugin).

Training the small two-stage model on MovieLens-100K takes ~10 s of CPU, so it
happens once per session (:func:`training_run`). Tests that only read the home
(serving, the restart and browser tests) use :func:`trained_home`; a test
that registers, promotes or retrains takes a copy (:func:`copy_trained_home`),
which starts from the same clean registry: version 1, champion.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from recloop.config import Settings
from recloop.data import Dataset
from recloop.pipelines.train import TrainResult, train_and_register
from recloop.ranking.bundle import TwoStageConfig
from recloop.ranking.ranker import RankerConfig
from recloop.registry import registry_from_settings

__all__ = ["SMALL", "HomeCopier", "Trained", "copy_home"]

# The two-stage config of every test that serves or inspects a trained model (~10 s to train).
SMALL = TwoStageConfig(max_queries=1200, ranker=RankerConfig(max_rounds=80, threads=1))


@dataclass(frozen=True)
class Trained:
    """The session's one trained home: ``path`` (RECLOOP_HOME), its training run and stages."""

    path: Path
    result: TrainResult
    stages: tuple[str, ...]


@pytest.fixture(scope="session")
def training_run(
    tmp_path_factory: pytest.TempPathFactory, movielens: Dataset, recbole_wheel: Path
) -> Iterator[Trained]:
    """Train :data:`SMALL` on MovieLens-100K once: version 1, champion, in a tmp RECLOOP_HOME.

    The home holds the RecBole wheel too, so a ``recloop serve`` pointed at it
    loads the same data without downloading anything. Never mutate it: a test
    that registers, promotes or retrains works on :func:`copy_trained_home`.
    """
    home = tmp_path_factory.mktemp("trained_home")
    (home / "data").mkdir()
    shutil.copyfile(recbole_wheel, home / "data" / recbole_wheel.name)
    stages: list[str] = []
    # SMALL's ranker uses one thread: on a loaded 2-core machine two spin 10x slower
    result = train_and_register(Settings(home=home), SMALL, stages.append, dataset=movielens)
    assert result.became_champion and result.version.version == 1
    yield Trained(home, result, tuple(stages))
    registry = registry_from_settings(Settings(home=home))
    shared = "a test changed the shared trained home's registry: use copy_trained_home"
    assert [v.version for v in registry.versions()] == [1], shared
    assert registry.alias_version("champion") == 1, shared


@pytest.fixture(scope="session")
def trained_home(training_run: Trained) -> Path:
    """The shared trained RECLOOP_HOME (read only; see :func:`training_run`)."""
    return training_run.path


def copy_home(src: Path, dest: Path) -> Path:
    """Copy a RECLOOP_HOME (data, ``mlflow.db``, ``mlartifacts``; not the bundle cache).

    MLflow keeps absolute artifact URIs in ``mlflow.db``; they are rewritten to
    the copy, so versions logged in the copy land in the copy and the source
    home is never written to.
    """
    shutil.copytree(src, dest, ignore=lambda d, names: ["models"] if Path(d) == src else [])
    old, new = str(src.resolve()), str(dest.resolve())
    with closing(sqlite3.connect(dest / "mlflow.db")) as db, db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for column in [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]:
                db.execute(
                    f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                    f'WHERE typeof("{column}") = ? AND instr("{column}", ?) > 0',
                    (old, new, "text", old),
                )
    source = registry_from_settings(Settings(home=dest)).get(1).source
    assert source.startswith(dest.resolve().as_uri()), source
    return dest


HomeCopier = Callable[[str], Path]


@pytest.fixture(scope="session")
def copy_trained_home(training_run: Trained, tmp_path_factory: pytest.TempPathFactory) -> HomeCopier:
    """``copy(name)`` -> a private copy of the trained home: its own registry (v1 champion)."""

    def copy(name: str) -> Path:
        return copy_home(training_run.path, tmp_path_factory.mktemp(name) / "home")

    return copy

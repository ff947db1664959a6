"""Shared fixtures: the real MovieLens-100K (loaded once), one trained home, tiny synthetic data.

Two lanes: ``pytest -m "not slow"`` runs the units on synthetic data;
``slow`` is added here to every test whose fixtures include the real data,
the trained home or a server process (:data:`SLOW_FIXTURES`), so a new test
that requests them is in the slow lane without anyone marking it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
import redis

from recloop.config import DataConfig, Settings, get_settings
from recloop.data import Dataset, event_order, fetch_dataset, load_dataset

# the trained home (`training_run`, `trained_home`, `copy_trained_home`): tests/homes.py
pytest_plugins = ("homes",)

# Every model the tests train carries the SASRec source (the default mix): two epochs, not the
# tuned 20, so a training on MovieLens-100K stays seconds (tests/retrieval/test_sasrec.py checks
# that it learns). Set before any Settings is read; servers started by tests inherit it.
os.environ.setdefault("RECLOOP_MODELS__SASREC__EPOCHS", "2")

# The RecBole wheel a developer machine already has; without it the fixtures fetch it
# through the real path (`pip download`), and fail loudly if that is impossible.
LOCAL_WHEEL = Path.home() / ".recloop" / "data" / "recbole-1.2.1-py3-none-any.whl"


# Fixtures that put a test in the slow lane: the real data (and all that trains on
# it, e.g. the trained home), and `recloop serve` subprocesses (tests/api/test_restart.py).
SLOW_FIXTURES = frozenset({"movielens", "training_run", "servers"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test whose fixture closure contains one of :data:`SLOW_FIXTURES`."""
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def data_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with ``home`` in a tmp dir; reuses the local RecBole wheel if present."""
    home = tmp_path_factory.mktemp("recloop_home")
    wheel = LOCAL_WHEEL if LOCAL_WHEEL.exists() else None
    return Settings(home=home, data=DataConfig(source="auto", recbole_wheel=wheel))


@pytest.fixture(scope="session")
def movielens(data_settings: Settings, request: pytest.FixtureRequest) -> Dataset:
    """The real MovieLens-100K, read by the project's own loader (checksum verified)."""
    if "not slow" in (request.config.option.markexpr or ""):
        # only a test reaching it through request.getfixturevalue gets here unmarked
        msg = "a test outside the slow lane loads MovieLens-100K: request `movielens` as an argument"
        pytest.fail(f"{msg} (that marks the test slow) or mark it slow", pytrace=False)
    return load_dataset(data_settings)


@pytest.fixture(scope="session")
def recbole_wheel(data_settings: Settings, movielens: Dataset) -> Path:
    """Path of the verified RecBole wheel the ``movielens`` fixture was read from."""
    return fetch_dataset(data_settings)


@pytest.fixture()
def fresh_settings() -> Iterator[None]:
    """Clear the process-wide settings cache before and after a test that sets env vars."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def build_dataset(rows: list[tuple[int, int, int, int]], n_items: int = 5) -> Dataset:
    """A Dataset from ``(user_id, item_id, rating, timestamp)`` rows.

    Item ids are ``10, 20, ..., 10 * n_items`` so that ids and indices differ
    (index ``k`` is id ``10 * (k + 1)``).
    """
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "rating", "timestamp"]).astype(
        {"user_id": "int64", "item_id": "int64", "rating": "int8", "timestamp": "int64"}
    )
    items = pd.DataFrame(
        {
            "item_id": [10 * (k + 1) for k in range(n_items)],
            "title": [f"Movie {k}" for k in range(n_items)],
            "year": pd.array([1990 + k for k in range(n_items)], dtype="Int64"),
            "genres": ["Drama"] * n_items,
        }
    )
    user_ids = sorted({r[0] for r in rows})
    users = pd.DataFrame(
        {
            "user_id": user_ids,
            "age": [30] * len(user_ids),
            "gender": ["F"] * len(user_ids),
            "occupation": ["other"] * len(user_ids),
            "zip": ["00000"] * len(user_ids),
        }
    )
    return Dataset(event_order(inter), items, users, source="synthetic")


DatasetFactory = Callable[..., Dataset]


@pytest.fixture()
def make_dataset() -> DatasetFactory:
    """:func:`build_dataset`, for tests that need their own synthetic rows."""
    return build_dataset


@pytest.fixture()
def tiny_dataset() -> Dataset:
    """3 users, 5 items (ids 10..50), 9 ratings at distinct timestamps.

    user 1: 10, 20, 30 ; user 2: 20, 40 ; user 3: 10, 20, 40, 50
    """
    rows = [
        (1, 10, 5, 100),
        (2, 20, 4, 101),
        (1, 20, 3, 102),
        (3, 10, 1, 103),
        (3, 20, 2, 104),
        (1, 30, 4, 105),
        (2, 40, 5, 106),
        (3, 40, 3, 107),
        (3, 50, 4, 108),
    ]
    return build_dataset(rows)


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL, after checking the server answers (fails loudly if not)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not running on 127.0.0.1:6379 ({exc}): start it with "
            "`redis-server --daemonize yes --save '' --appendonly no` and rerun.",
            pytrace=False,
        )
    finally:
        client.close()
    return REDIS_URL

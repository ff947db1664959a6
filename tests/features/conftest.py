"""Fixtures that build a FeatureStore of either backend for the contract suite.

Redis tests talk to the real server on 127.0.0.1:6379 under a unique key
prefix per test, removed afterwards with SCAN + UNLINK. If the server is not
running they fail (never skip) with the command that starts it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.events.schema import Event, EventType
from recloop.features import FeatureStore, open_store

REDIS_URL = "redis://127.0.0.1:6379/0"
N_ITEMS = 50

StateConfig = MemoryStateConfig | RedisStateConfig
StoreOpener = Callable[..., FeatureStore]
ConfigMaker = Callable[..., StateConfig]


def make_event(
    n: int,
    user: str = "u1",
    item: int | None = None,
    type: EventType = "click",
    ts: float | None = None,
    value: float | None = None,
    request_id: str | None = None,
) -> Event:
    """Event ``e<n>`` (item ``n % N_ITEMS`` and time ``1e9 + n`` unless given)."""
    item = n % N_ITEMS if item is None else item
    return Event(
        event_id=f"e{n}",
        user_id=user,
        item=item,
        item_id=10 * (item + 1),
        type=type,
        timestamp=1_000_000_000.0 + n if ts is None else ts,
        value=value,
        request_id=request_id,
    )


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; ``redis`` checks the server first."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


@pytest.fixture()
def store_config(backend: str, tmp_path: Path) -> Iterator[ConfigMaker]:
    """``make(namespace="main")`` -> the config of an isolated store of ``backend``.

    The same namespace always names the same data (SQLite file or Redis
    prefix), so a second store on it is a restart. Redis prefixes are wiped
    at teardown.
    """
    base = f"recloop-test-{uuid.uuid4().hex}"
    made: dict[str, StateConfig] = {}

    def make(namespace: str = "main") -> StateConfig:
        if namespace not in made:
            if backend == "memory":
                made[namespace] = MemoryStateConfig(path=tmp_path / namespace / "state.db")
            else:
                made[namespace] = RedisStateConfig(url=REDIS_URL, prefix=f"{base}-{namespace}")
        return made[namespace]

    yield make
    for config in made.values():
        if isinstance(config, RedisStateConfig):
            store = open_store(config, N_ITEMS, tmp_path)
            store.clear()
            store.close()


@pytest.fixture()
def open_test_store(store_config: ConfigMaker, tmp_path: Path) -> Iterator[StoreOpener]:
    """``open(namespace="main")`` -> a new store instance; all are closed at teardown."""
    opened: list[FeatureStore] = []

    def open_(namespace: str = "main") -> FeatureStore:
        store = open_store(store_config(namespace), N_ITEMS, tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()


@pytest.fixture()
def store(open_test_store: StoreOpener) -> FeatureStore:
    """A fresh, empty store of the backend under test."""
    return open_test_store()

"""A hung Redis (SIGSTOP of a private server, never the shared one): every call fails within the
timeout with a 503 error, /ready's store check says so, and nothing acknowledged is lost."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from features.conftest import N_ITEMS, make_event
from recloop.errors import DependencyUnavailableError
from recloop.features.redis_store import RedisFeatureStore
from recloop.serving.readiness import check_store

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A redis-server of this test's own on a free port (AOF on), stopped at teardown."""
    port = _free_port()
    cmd = ["redis-server", "--port", str(port), "--dir", str(tmp_path), "--appendonly", "yes", "--save", ""]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(100):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    try:
        yield url, proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        proc.wait(10)


def test_hung_redis_fails_fast_and_loses_nothing(private_redis: tuple[str, subprocess.Popen[bytes]]) -> None:
    url, proc = private_redis
    store = RedisFeatureStore(url, "hang", N_ITEMS, timeout_s=0.5)
    assert store.append([make_event(1)]) == [True]
    assert check_store(store).ok
    os.kill(proc.pid, signal.SIGSTOP)
    try:
        with pytest.raises(DependencyUnavailableError) as info:
            store.append([make_event(2)])
        assert info.value.status_code == 503 and "redis-server" in info.value.message
        down = check_store(store)
        assert not down.ok and "not reachable" in down.detail
    finally:
        os.kill(proc.pid, signal.SIGCONT)
    assert check_store(store).ok
    # the timed-out write may have run once Redis resumed: the retry is then a duplicate
    assert store.append([make_event(2), make_event(3)])[1:] == [True]
    assert store.event_count() == 3 and [e.event_id for _, e in store.events()] == ["e1", "e2", "e3"]
    store.close()

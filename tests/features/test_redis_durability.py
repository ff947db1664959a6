"""The durability check against real Redis servers started here with each persistence setting.

Each server runs on a free port in a tmp dir and is shut down afterwards; the
shared server on 6379 is never reconfigured.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from recloop.config import RedisStateConfig
from recloop.errors import ConfigError
from recloop.features.redis_durability import check_durability, read_durability
from recloop.features.store import open_serving_store

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def redis_server(tmp: Path, *args: str) -> Iterator[str]:
    """A private redis-server with ``args``; yields its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.fail("redis-server is not installed: apt-get install -y redis-server", pytrace=False)
    port = _free_port()
    tmp.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(tmp), *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("args", "mode", "ok"),
    [
        (["--appendonly", "yes", "--appendfsync", "everysec", "--save", ""], "aof-everysec", True),
        (["--appendonly", "yes", "--appendfsync", "always", "--save", ""], "aof-always", True),
        (["--appendonly", "no", "--save", "3600 1"], "rdb", False),
        (["--appendonly", "no", "--save", ""], "none", False),
        (["--appendonly", "no", "--save", "", "--rename-command", "CONFIG", ""], "unknown", False),
        (["--appendonly", "yes", "--save", "", "--rename-command", "CONFIG", ""], "aof-everysec", True),
    ],
)
def test_persistence_modes(tmp_path: Path, args: list[str], mode: str, ok: bool) -> None:
    with redis_server(tmp_path, *args) as url:
        client = redis.Redis.from_url(url)
        try:
            found = read_durability(client)
            assert found.mode == mode and found.survives_restart is ok
            if ok:
                assert check_durability(client, url, allow_volatile=False) == found
            else:
                with pytest.raises(ConfigError) as info:
                    check_durability(client, url, allow_volatile=False)
                assert "appendonly yes" in info.value.message
                assert "RECLOOP_STATE__ALLOW_VOLATILE=true" in info.value.message
                assert check_durability(client, url, allow_volatile=True) == found
        finally:
            client.close()


def test_serving_store_refuses_a_volatile_redis_unless_acknowledged(tmp_path: Path) -> None:
    with redis_server(tmp_path, "--appendonly", "no", "--save", "") as url:
        with pytest.raises(ConfigError, match="persists nothing"):
            open_serving_store(RedisStateConfig(url=url, prefix="t"), 10, tmp_path)
        store = open_serving_store(RedisStateConfig(url=url, prefix="t", allow_volatile=True), 10, tmp_path)
        store.close()

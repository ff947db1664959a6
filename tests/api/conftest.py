"""Fixtures for the API tests: the session's trained home, an in-process client.

The client serves a private copy of the one trained home (tests/homes.py:
``training_run``, version 1 champion), so whatever the API tests write to its
registry never reaches the servers of test_restart / test_web_e2e, which read
the shared home. Every client and server uses its own state file or Redis
prefix, so tests that share the home never see each other's events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.live_server import Server, serve_env
from homes import HomeCopier
from recloop.api.app import create_app
from recloop.config import MemoryStateConfig, Settings

PostEvent = Callable[..., Any]


@pytest.fixture(scope="session")
def api_settings(copy_trained_home: HomeCopier, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over a copy of the trained home with a memory store in a private SQLite file."""
    state = tmp_path_factory.mktemp("api_state") / "state.db"
    return Settings(home=copy_trained_home("api_home"), state=MemoryStateConfig(path=state),
                    admin_api_key="test-admin-key")  # fmt: skip


@pytest.fixture(scope="session")
def client(api_settings: Settings) -> Iterator[TestClient]:
    """The app in process, lifespan run (runtime built once for the session)."""
    with TestClient(create_app(api_settings)) as c:
        yield c


@pytest.fixture()
def new_user() -> str:
    """A user id no other test uses."""
    return f"api-{uuid.uuid4().hex[:12]}"


@pytest.fixture()
def post_event(client: TestClient) -> PostEvent:
    """``post(user, item_id, type="like", **fields)`` -> the JSON of POST /v1/events (200)."""

    def post(user: str, item_id: int, type: str = "like", **fields: Any) -> Any:
        body = {
            "event_id": f"e-{uuid.uuid4().hex}",
            "user_id": user,
            "item_id": item_id,
            "type": type,
            **fields,
        }
        r = client.post("/v1/events", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    return post


@pytest.fixture()
def live_server(trained_home: Path, tmp_path: Path) -> Iterator[Server]:
    """A real `recloop serve` over the trained home (memory store in tmp_path, admin key
    :data:`api.live_server.LIVE_ADMIN_KEY`), ready; SIGKILLed at teardown."""
    s = Server(serve_env(trained_home, tmp_path / "state.db"), tmp_path / "serve.log")
    try:
        s.wait_ready()
        yield s
    finally:
        s.sigkill()

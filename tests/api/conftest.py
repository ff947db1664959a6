"""Fixtures for the API tests: one small trained home per session, an in-process client.

The model is trained once per session (small config, ~20-30 s) into a temporary
``RECLOOP_HOME`` that also holds the RecBole wheel, so a ``recloop serve``
subprocess pointed at it loads the same data without downloading anything.
Every client and server uses its own state file or Redis prefix, so tests that
share the home never see each other's events.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recloop.api.app import create_app
from recloop.config import MemoryStateConfig, Settings
from recloop.data import Dataset
from recloop.pipelines.train import train_and_register
from recloop.pipelines.twostage import TwoStageConfig
from recloop.ranking.ranker import RankerConfig

SMALL = TwoStageConfig(max_queries=1200, ranker=RankerConfig(max_rounds=80))

PostEvent = Callable[..., Any]


@pytest.fixture(scope="session")
def trained_home(tmp_path_factory: pytest.TempPathFactory, movielens: Dataset, recbole_wheel: Path) -> Path:
    """A RECLOOP_HOME with the small two-stage model registered as champion (version 1)."""
    home = tmp_path_factory.mktemp("api_home")
    (home / "data").mkdir()
    shutil.copyfile(recbole_wheel, home / "data" / recbole_wheel.name)
    result = train_and_register(Settings(home=home), SMALL, dataset=movielens)
    assert result.became_champion
    return home


@pytest.fixture(scope="session")
def api_settings(trained_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings over the trained home with a memory store in a private SQLite file."""
    state = tmp_path_factory.mktemp("api_state") / "state.db"
    return Settings(home=trained_home, state=MemoryStateConfig(path=state), admin_api_key="test-admin-key")


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

"""Every per-user cache of a serving process stays within its configured bytes, and says so on /metrics."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from homes import HomeCopier
from recloop.api.app import create_app
from recloop.config import MemoryStateConfig, Settings

CACHES = ("user_scores", "foldins", "rating_users", "shown_lists", "recommended", "online_exposures")


def _gauges(text: str, name: str) -> dict[str, float]:
    return {m[1]: float(m[2]) for m in re.finditer(rf'^{name}\{{cache="(\w+)"\}} (\S+)$', text, re.M)}


def test_many_new_users_fill_each_cache_to_its_bound_and_no_further(
    copy_trained_home: HomeCopier, tmp_path: Path
) -> None:
    settings = Settings(home=copy_trained_home("memory_bound_home"), admin_api_key="test-admin-key",
                        state=MemoryStateConfig(path=tmp_path / "state.db"), user_cache_mb=0.3,
                        foldin_cache_mb=0.1, shown_lists=40, recommended_users=30)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        for i in range(150):  # new users: half post an event first (history, fold-in, scores)
            user = f"bound-{i}-{uuid.uuid4().hex}"
            if i % 2 == 0:
                body = {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": 1 + i, "type": "like"}
                assert client.post("/v1/events", json=body).status_code == 200
            assert client.get(f"/v1/users/{user}/recommendations").status_code == 200
        text = client.get("/metrics").text
    size = _gauges(text, "recloop_user_cache_bytes")
    limit = _gauges(text, "recloop_user_cache_limit_bytes")
    entries = _gauges(text, "recloop_user_cache_entries")
    assert set(size) == set(limit) == set(entries) == set(CACHES)
    assert limit["user_scores"] == int(0.3 * 2**20) and limit["foldins"] == int(0.1 * 2**20)
    for name in CACHES:
        assert 0 < size[name] <= limit[name], name
    assert entries["shown_lists"] <= 40 and entries["recommended"] == entries["online_exposures"] == 30
    assert size["foldins"] > 0.8 * limit["foldins"]  # full: 75 users with events, ~10 fit

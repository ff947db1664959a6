"""/ready reports the store and the disk, and goes 503 when either cannot take writes."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


def test_ready_goes_503_when_the_disk_is_short(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    monkeypatch.setattr(runtime.settings, "ready_min_free_mb", 1e12)
    r = client.get("/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["ready"] is False and body["store"]["ok"] and not body["disk"]["ok"]
    assert "free disk space" in body["disk"]["detail"]
    monkeypatch.undo()
    assert client.get("/ready").status_code == 200

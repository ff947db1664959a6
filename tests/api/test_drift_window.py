"""Drift over a time window, against the session's trained home: live clicks and likes, then an
hour without traffic on an injected clock. One open alert per check, one trigger, no repeats."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from recloop.monitoring.inputs import live_inputs
from recloop.monitoring.monitor import DriftMonitor, RetrainWorker

ADMIN = {"X-Admin-Key": "test-admin-key"}


class Clock:
    """A clock the test moves by hand (Unix s)."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture()
def clocked(client: TestClient) -> Iterator[tuple[Clock, DriftMonitor]]:
    """A fresh 15-minute-window monitor on the app's runtime, on a fake clock; restored after."""
    app: Any = client.app
    runtime, old_monitor = app.state.runtime, app.state.monitor
    old_clock, clock = runtime.live.clock, Clock(time.time())
    runtime.live.clock = clock
    worker = RetrainWorker.describe(False, runtime.settings.home)
    monitor = DriftMonitor(runtime.service, runtime.live, window_s=900.0, worker=worker)
    app.state.monitor = monitor
    try:
        yield clock, monitor
    finally:
        app.state.monitor, runtime.live.clock = old_monitor, old_clock


def _live_clicks_and_likes(client: TestClient) -> None:
    """400 clicks and likes on 20 niche items, after 60 lists served to new users."""
    for n in range(60):
        assert (
            client.get(f"/v1/users/win-new-{uuid.uuid4().hex[:6]}-{n}/recommendations?k=10").status_code
            == 200
        )
    events = [{"event_id": f"win-{uuid.uuid4().hex}", "user_id": f"win-user-{n % 40}",
               "item_id": 1600 + n % 20, "type": "click" if n % 2 else "like"}
              for n in range(400)]  # fmt: skip
    r = client.post("/v1/events", json={"events": events})
    assert r.status_code == 200 and r.json()["accepted"] == 400


def test_an_hour_without_traffic_keeps_one_alert_per_check_and_one_trigger(
    client: TestClient, clocked: tuple[Clock, DriftMonitor]
) -> None:
    clock, _ = clocked
    _live_clicks_and_likes(client)
    first = client.post("/v1/monitoring/drift/check", headers=ADMIN).json()
    assert first["latest"]["alert"] is True and first["window"]["enough"] is True
    assert "categorical.event_type" in {d["name"] for d in first["disabled_checks"]}
    opened = {a["key"] for a in first["open_alerts"]}
    assert opened and len(first["triggers"]) == 1
    assert "no worker in this server acts on it" in first["triggers"][0]["outcome"]
    assert first["retrain_worker"]["acts_on_drift"] is False
    assert "RECLOOP_RETRAIN_IN_SERVER" in first["retrain_worker"]["message"]
    since = first["open_alerts"][0]["since"]
    for _ in range(12):  # an hour, checked every 5 minutes, with no traffic at all
        clock.t += 300
        body = client.post("/v1/monitoring/drift/check", headers=ADMIN).json()
        keys = [a["key"] for a in body["open_alerts"]]
        assert len(keys) == len(set(keys))  # at most one open alert per check
    assert len(body["triggers"]) == 1  # the alert asked for a retrain once, when it opened
    assert {a["key"] for a in body["open_alerts"]} == opened
    assert all(a["since"] == since for a in body["open_alerts"])
    # the window emptied after 15 minutes: the checks while it still held the traffic counted
    assert {a["count"] for a in body["open_alerts"]} == {3}
    assert body["window"]["enough"] is False and body["window"]["events"] == 0
    assert "none ran" in body["window"]["message"]
    assert len(body["history"]) == 3


def test_an_alert_closes_when_the_window_recovers(
    client: TestClient, clocked: tuple[Clock, DriftMonitor]
) -> None:
    clock, monitor = clocked
    _live_clicks_and_likes(client)
    assert client.post("/v1/monitoring/drift/check", headers=ADMIN).json()["open_alerts"]
    clock.t += 60
    # the traffic becomes the reference (as a retrained model's would): every check passes
    counts = monitor.service.live.stats.counts
    monitor.reference = live_inputs(monitor.window(clock.t), counts, monitor.genre_of, None)
    body = client.post("/v1/monitoring/drift/check", headers=ADMIN).json()
    assert body["open_alerts"] == [] and body["closed_alerts"]
    assert all(a["closed_at"] == clock.t for a in body["closed_alerts"])
    assert len(body["triggers"]) == 1


def test_check_now_needs_the_admin_key_and_scores_carry_labels_and_plotted_values(
    client: TestClient, clocked: tuple[Clock, DriftMonitor]
) -> None:
    assert client.post("/v1/monitoring/drift/check").status_code == 403
    _live_clicks_and_likes(client)
    scores = client.post("/v1/monitoring/drift/check", headers=ADMIN).json()["latest"]["scores"]
    chi2 = next(s for s in scores if s["key"] == "categorical.genre:chi2")
    assert chi2["label"] == "Genre mix (chi-squared)"
    assert chi2["plotted"] == "p_value" and chi2["value"] == chi2["p_value"] and chi2["direction"] == "below"
    psi = next(s for s in scores if s["key"] == "categorical.genre")
    assert psi["plotted"] == "statistic" and psi["value"] == psi["statistic"]


def test_online_quality_per_model_version(client: TestClient, clocked: tuple[Clock, DriftMonitor]) -> None:
    user = f"online-{uuid.uuid4().hex[:8]}"
    items = client.get(f"/v1/users/{user}/recommendations?k=5").json()["items"]
    ev = {
        "event_id": f"o-{uuid.uuid4().hex}",
        "user_id": user,
        "item_id": items[0]["item_id"],
        "type": "click",
    }
    assert client.post("/v1/events", json=ev).status_code == 200
    body = client.get("/v1/monitoring/online").json()
    assert body["bucket_s"] == 60 and body["serving_version"] == "1"
    (v1,) = [v for v in body["versions"] if v["version"] == "1"]
    assert v1["lists"] >= 1 and v1["clicked"] >= 1 and 0 < v1["ctr"] <= 1
    assert all(p["version"] != "?" for p in body["series"])

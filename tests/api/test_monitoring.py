"""Drift monitoring through the API: a shifted live window raises alerts and gauges."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient


def test_drift_alert_on_shifted_traffic(client: TestClient) -> None:
    before = client.get("/v1/monitoring/drift?refresh=true").json()
    assert {"latest", "history", "thresholds", "triggers", "reference_model_version", "open_alerts",
            "disabled_checks", "window", "retrain_worker"} <= set(before)  # fmt: skip
    assert before["reference_model_version"] == "1"
    # live traffic unlike training: only views and likes, all on a handful of niche items
    events = [
        {"event_id": f"drift-{uuid.uuid4().hex}", "user_id": f"drift-user-{n % 40}",
         "item_id": 1600 + n % 20, "type": "view" if n % 2 else "like"}
        for n in range(400)
    ]  # fmt: skip
    r = client.post("/v1/events", json={"events": events})
    assert r.status_code == 200 and r.json()["accepted"] == 400
    for n in range(60):
        assert client.get(f"/v1/users/drift-new-{n}/recommendations?k=10").status_code == 200
    report = client.get("/v1/monitoring/drift?refresh=true").json()
    latest = report["latest"]
    assert latest is not None and latest["alert"] is True
    by_name = {s["name"]: s for s in latest["scores"]}
    # the reference (ratings only) has no mix of event types to compare: the check is off, said so
    assert "categorical.event_type" not in by_name
    disabled = {d["name"]: d["reason"] for d in report["disabled_checks"]}
    assert "one event type only (rate)" in disabled["categorical.event_type"]
    # other tests of the session may have rated within the window: then the check runs
    assert "numeric.rating" in by_name or "no ratings in the live window" in disabled["numeric.rating"]
    # all traffic on 20 niche items: the genre mix and popularity moved
    assert by_name["categorical.genre"]["alert"] is True
    # every request above came from a user with no history: cold share jumped from 0
    assert by_name["output.cold_start_share"]["statistic"] > 0.5
    assert report["history"][-1]["alert"] is True
    metrics = client.get("/metrics").text
    assert "recloop_drift_alert 1.0" in metrics
    assert 'recloop_drift_score{name="categorical.genre"}' in metrics


def test_request_id_header_and_latency_metrics(client: TestClient) -> None:
    r = client.get("/v1/users/1/recommendations?k=5", headers={"x-request-id": "abc123"})
    assert r.headers["x-request-id"] == "abc123"
    assert client.get("/health").headers["x-request-id"]
    metrics = client.get("/metrics").text
    assert 'recloop_request_latency_seconds_count{endpoint="/v1/users/{user_id}/recommendations"' in metrics

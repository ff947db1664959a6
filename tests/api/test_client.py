"""The typed client (recloop.client) against the real app with the session's trained model, in
process (FastAPI's TestClient is the injected httpx client), and the simulator and the HTTP
replay driving the app through it."""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest
from fastapi.testclient import TestClient

from api.live_server import LIVE_ADMIN_KEY, RECLOOP, Server
from recloop.client import ApiError, RecloopClient
from recloop.data import Dataset
from recloop.evaluation.http_replay import http_replay
from recloop.experiments.simulator import HttpRecClient, SimUser, simulate


@pytest.fixture()
def api(client: TestClient) -> RecloopClient:
    """A client of the session's app, with its admin key."""
    return RecloopClient("http://testserver", admin_key="test-admin-key", http=client)


def test_events_then_recommendations_and_the_user_reflect_them(api: RecloopClient, new_user: str) -> None:
    assert api.ready().ready is True
    cold = api.recommendations(new_user, k=5, genres=["Drama"], year_min=1990)
    assert cold.user_id == new_user and len(cold.items) == 5 and cold.variant is None
    assert all("Drama" in i.genres and (i.year or 0) >= 1990 for i in cold.items)
    liked = cold.items[0].item_id
    ack = api.post_events([{"event_id": f"c-{uuid.uuid4().hex}", "user_id": new_user, "item_id": liked,
                            "type": "like"}])  # fmt: skip
    assert (ack.accepted, ack.duplicates, ack.rejected) == (1, 0, [])
    assert liked not in [i.item_id for i in api.recommendations(new_user, k=5, genres=["Drama"]).items]
    profile = api.user(new_user)
    assert profile.known and [(h.item_id, h.type) for h in profile.history] == [(liked, "like")]


def test_a_batch_with_no_valid_event_is_an_api_error_naming_it(api: RecloopClient, new_user: str) -> None:
    with pytest.raises(ApiError) as caught:
        api.post_events([{"event_id": "bad", "user_id": new_user, "item_id": 99_999, "type": "like"}])
    assert (caught.value.status, caught.value.code) == (422, "validation_error")
    assert "99999" in caught.value.server_message


def test_models_and_an_experiment_from_create_to_stop(api: RecloopClient) -> None:
    listed = api.models()
    assert listed.champion == "1" and [v.version for v in listed.versions] == ["1"]
    spec = {"name": f"client-{uuid.uuid4().hex[:6]}", "primary_metric": "ctr",
            "variants": [{"name": "A", "model": "champion"}, {"name": "B", "model": "popular"}]}  # fmt: skip
    exp = api.create_experiment(spec)
    try:
        assert exp.status == "running" and exp.id in [e.id for e in api.experiments().experiments]
        served = api.recommendations(f"client-{uuid.uuid4().hex[:8]}", k=3)
        assert served.variant in ("A", "B")
        res = api.experiment_results(exp.id)
        assert res["id"] == exp.id and [v["name"] for v in res["variants"]] == ["A", "B"]
    finally:
        assert api.stop_experiment(exp.id).status == "stopped"
    nobody = RecloopClient("http://testserver", http=api._http)  # no admin key
    with pytest.raises(ApiError) as caught:
        nobody.create_experiment(spec)
    assert caught.value.status == 403 and "X-Admin-Key" in caught.value.server_message


def test_the_simulator_and_the_replay_drive_the_app_through_the_client(
    api: RecloopClient, movielens: Dataset
) -> None:
    sim = HttpRecClient("http://testserver", api=api)
    assert sim.model_version == "1"
    user = SimUser(f"sim-{uuid.uuid4().hex[:8]}", {})
    first = sim.recommend(user.user_id, 10)
    future = {first.items[0]: (5.0, 1_700_000_000.0)}  # rank 1 is always examined
    report = simulate(sim, [SimUser(user.user_id, future)], requests_per_user=2, run_id=uuid.uuid4().hex)
    assert (report.users, report.requests, report.clicks) == (1, 1, 1)
    out = http_replay("http://testserver", movielens, limit=20, client=api)
    assert out["events"] == 20 and out["model_version"] == "1"
    assert 0.0 <= out["metrics"]["HR@10"] <= 1.0


def test_the_experiments_commands_against_a_live_server(live_server: Server) -> None:
    def run(*args: str, key: str | None = LIVE_ADMIN_KEY) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
        env |= {"RECLOOP_URL": live_server.url} | ({"RECLOOP_ADMIN_API_KEY": key} if key else {})
        return subprocess.run([str(RECLOOP), "experiments", *args], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip

    denied = run("create", "t", "-v", "A=champion", "-v", "B=popular", key=None)
    assert denied.returncode == 1 and "403" in denied.stderr and "--admin-key" in denied.stderr
    made = run("create", "cli-test", "-v", "A=champion", "-v", "B=popular:0.5")
    assert made.returncode == 0, made.stderr
    exp_id = made.stdout.split("created experiment ")[1].split()[0]
    listed = run("list")
    assert listed.returncode == 0 and exp_id in listed.stdout and "B=popular:0.5" in listed.stdout
    results = run("results", exp_id)
    assert results.returncode == 0 and "decision" in results.stdout, results.stderr
    stopped = run("stop", exp_id)
    assert stopped.returncode == 0 and f"experiment {exp_id}: stopped" in stopped.stdout

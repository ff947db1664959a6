"""`recloop retrain` beside a running `recloop serve` on the embedded store.

The server owns state.db (its write lock); retraining reads the log through a
read-only connection, registers and promotes a challenger, and the server's
ModelWatcher hot-swaps it in (polling every second here) without a restart.
Scenario as tests/pipelines/test_retrain.py: v1 on the first 50% of
MovieLens, the next 5% posted to the server as live events.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

import recloop.ranking.ranker as ranker_module
from api.live_server import Server
from recloop.config import MemoryStateConfig, Settings
from recloop.data import Dataset
from recloop.errors import ConfigError
from recloop.features.sqlite_store import SQLiteFeatureStore
from recloop.pipelines.retrain import retrain
from recloop.pipelines.train import train_and_register
from recloop.pipelines.twostage import TwoStageConfig
from recloop.ranking.ranker import RankerConfig
from recloop.registry import registry_from_settings

SMALL = TwoStageConfig(max_queries=800, ranker=RankerConfig(max_rounds=60))
BASE, LIVE_END = 0.50, 0.55


def test_retrain_while_serving_hot_swaps_the_new_version(
    tmp_path: Path, movielens: Dataset, recbole_wheel: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranker_module, "training_thread_count", lambda: 1)  # LightGBM on a loaded 2-core box
    home, state = tmp_path / "home", tmp_path / "state.db"
    (home / "data").mkdir(parents=True)
    shutil.copyfile(recbole_wheel, home / "data" / recbole_wheel.name)
    n = len(movielens.interactions)
    cut, stop = round(BASE * n), round(LIVE_END * n)
    base = Dataset(movielens.interactions.iloc[:cut].reset_index(drop=True), movielens.items,
                   movielens.users, movielens.source)  # fmt: skip
    settings = Settings(home=home, state=MemoryStateConfig(path=state))
    assert train_and_register(settings, SMALL, dataset=base).became_champion

    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env |= {"RECLOOP_HOME": str(home), "RECLOOP_STATE__TYPE": "memory", "RECLOOP_STATE__PATH": str(state),
            "RECLOOP_ADMIN_API_KEY": "retrain-test-key", "RECLOOP_BASE_FRACTION": str(BASE),
            "RECLOOP_SWAP_POLL_S": "1"}  # fmt: skip
    server = Server(env, tmp_path / "serve.log")
    try:
        server.wait_ready()
        rows = movielens.interactions.iloc[cut:stop]
        live = [{"event_id": f"ml-{u}-{i}", "user_id": str(u), "item_id": int(i), "type": "rate",
                 "value": float(r), "timestamp": float(t)}
                for u, i, r, t in zip(rows["user_id"], rows["item_id"], rows["rating"], rows["timestamp"],
                                      strict=True)]  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            for start in range(0, len(live), 500):
                r = http.post("/v1/events", json={"events": live[start : start + 500]})
                assert r.status_code == 200 and r.json()["accepted"] == len(live[start : start + 500]), r.text
        with pytest.raises(ConfigError, match="RECLOOP_RETRAIN_IN_SERVER"):  # the server owns the writes
            SQLiteFeatureStore(state, movielens.n_items)

        decision = retrain(settings, config=SMALL, dataset=base, window_fraction=0.02, baselines=("popular",))
        assert decision.data["live_events"] == stop - cut  # read from the server's state.db
        new = decision.challenger.version
        if decision.decision != "promoted":  # the promotion policy is tests/pipelines' business
            registry_from_settings(settings).promote(new)

        deadline = time.monotonic() + 60
        while (served := httpx.get(f"{server.url}/ready").json()["model_version"]) != str(new):
            assert time.monotonic() < deadline, f"still serving v{served}:\n{server.tail()}"
            time.sleep(0.5)
        user = rows["user_id"].iloc[0]
        recs = httpx.get(f"{server.url}/v1/users/{user}/recommendations", timeout=30).json()
        assert recs["model_version"] == str(new)
    finally:
        server.sigkill()

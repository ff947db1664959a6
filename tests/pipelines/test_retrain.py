"""The MLOps loop: live events -> retrain -> same-window comparison -> promote or keep.

Scenario on the real MovieLens-100K: v1 is trained on the first 50% of the
events (global time); the next 5% arrive as live events in a memory feature
store; ``retrain`` holds out the latest 2% of those 55,000 as the fresh window. A second,
deliberately weak challenger (3% of the users) must then be rejected.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import recloop.ranking.ranker as ranker_module
from recloop.config import MemoryStateConfig, Settings
from recloop.data import Dataset
from recloop.evaluation.baselines import baseline_builder
from recloop.evaluation.protocols import replay
from recloop.events.schema import Event
from recloop.features import open_store
from recloop.monitoring.metrics import Instruments
from recloop.pipelines.compare import Policy, decide, relative_change, score_window, split_window
from recloop.pipelines.retrain import RetrainDecision, merge_live_events, retrain
from recloop.pipelines.train import train_and_register
from recloop.pipelines.triggers import (
    RetrainState,
    RetrainTriggers,
    drift_gauge_probe,
    load_state,
    save_state,
    worker_loop,
)
from recloop.ranking.bundle import TwoStageConfig
from recloop.ranking.ranker import RankerConfig
from recloop.registry import registry_from_settings

ROWS = 55_000
SMALL = TwoStageConfig(max_queries=800, ranker=RankerConfig(max_rounds=60))
BASE, LIVE_END, WINDOW = 0.50, 0.55, 0.02


def as_events(dataset: Dataset, start: int, stop: int) -> list[Event]:
    """Rows ``start:stop`` of the interactions as live ``rate`` events."""
    rows = dataset.interactions.iloc[start:stop]
    items = dataset.item_index(rows["item_id"])
    return [Event(f"ml-{u}-{i}", str(u), int(k), int(i), "rate", float(t), float(r))
            for u, i, r, t, k in zip(rows["user_id"], rows["item_id"], rows["rating"],
                                     rows["timestamp"], items, strict=True)]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    settings: Settings
    base: Dataset
    events: list[Event]
    fresh: RetrainDecision
    weak: RetrainDecision
    champion_after_fresh: int | None


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, movielens: Dataset) -> Iterator[Scenario]:
    # LightGBM on every core of a loaded 2-core machine spins 10x slower than on one.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ranker_module, "training_thread_count", lambda: 1)
        settings = Settings(home=tmp_path_factory.mktemp("retrain_home"))
        n = len(movielens.interactions)
        cut, stop = round(BASE * n), round(LIVE_END * n)
        base = Dataset(movielens.interactions.iloc[:cut].reset_index(drop=True), movielens.items,
                       movielens.users, movielens.source)  # fmt: skip
        v1 = train_and_register(settings, SMALL, dataset=base)
        assert v1.became_champion
        store = open_store(MemoryStateConfig(), movielens.n_items, settings.home)
        assert all(store.append(as_events(movielens, cut, stop)))
        events = [e for _, e in store.events()]
        store.close()
        fresh = retrain(settings, events=events, config=SMALL, dataset=base,
                        window_fraction=WINDOW, baselines=("popular",))  # fmt: skip
        champion = registry_from_settings(settings).alias_version("champion")
        weak = retrain(settings, events=events, config=SMALL, dataset=base, window_fraction=WINDOW,
                       baselines=("popular",), sample_fraction=0.03, champion_eval="refit")  # fmt: skip
        yield Scenario(settings, base, events, fresh, weak, champion)


def test_live_events_merge_back_into_the_canonical_order(scenario: Scenario, movielens: Dataset) -> None:
    frame, facts = merge_live_events(scenario.base.interactions, scenario.events)
    expected = movielens.interactions.iloc[: len(frame)]
    for col in ("user_id", "item_id", "timestamp", "rating"):
        np.testing.assert_array_equal(frame[col].to_numpy(), expected[col].to_numpy(), err_msg=col)
    assert facts["live_positive"] == len(scenario.events) == 5000
    assert facts["duplicates_dropped"] == 0 and facts["rows"] == ROWS


def test_merge_drops_dislikes_and_repeats_and_maps_foreign_ids(tiny_dataset: Dataset) -> None:
    def ev(n: int, user: str, item: int, kind: str, ts: float, value: float | None = None) -> Event:
        return Event(f"e{n}", user, item, 10 * (item + 1), kind, ts, value)  # type: ignore[arg-type]

    events = [ev(1, "2", 0, "click", 200.5), ev(2, "2", 0, "rate", 201.0, 5.0),
              ev(3, "alice", 4, "view", 202.0), ev(4, "alice", 1, "dislike", 203.0),
              ev(5, "bob", 2, "rate", 150.0, 4.0)]  # fmt: skip
    frame, facts = merge_live_events(tiny_dataset.interactions, events)
    tail = frame[frame["timestamp"] >= 150][["user_id", "item_id", "rating", "timestamp"]]
    # alice (first foreign id in log order) -> 4, bob -> 5: above every known id; the repeat of
    # (2, 10) keeps the first event (a click: rating 0); the dislike is not an interaction
    assert tail.values.tolist() == [[5, 30, 4.0, 150], [2, 10, 0.0, 200], [4, 50, 0.0, 202]]
    assert facts == {"base_rows": 9, "live_events": 5, "live_positive": 4, "live_dislikes": 1,
                     "mapped_user_ids": 2, "duplicates_dropped": 1, "rows": 12}  # fmt: skip


def test_lockstep_window_replay_matches_the_p2_protocol(movielens: Dataset) -> None:
    inter = movielens.interactions.iloc[:40_000]
    window = split_window(inter, 0.02)
    models = {"pop": baseline_builder("popular", Settings()).build(movielens, window.history)}
    scored = score_window(models, movielens, window)["pop"]
    fresh = baseline_builder("popular", Settings()).build(movielens, window.history)
    warm = set(int(u) for u in window.history["user_id"])
    alone = replay(fresh, movielens, window.events, warm)
    assert len(window.events) == 800
    for key in ("NDCG@10", "HR@10", "NDCG@10_cold", "NDCG@10_warm"):
        assert scored[f"p2.{key}"] == pytest.approx(alone[key])
    assert 0 < scored["p1.Coverage@10"] < 0.05  # popularity: the same few items for everyone


def test_decision_rule() -> None:
    champ = {"p2.NDCG@10": 0.10, "p1.NDCG@10": 0.2, "p1.Coverage@10": 0.20, "latency_p50_ms": 2.0}
    policy = Policy(margin=0.05)
    better = {**champ, "p2.NDCG@10": 0.106}
    assert decide(champ, better, policy).promote
    assert not decide(champ, {**champ, "p2.NDCG@10": 0.104}, policy).promote
    assert not decide(champ, champ, Policy(margin=0.0)).promote  # a tie keeps the champion
    v = decide(champ, {**better, "p1.Coverage@10": 0.18}, policy)
    assert not v.promote and "p1.Coverage@10 -10.0%" in v.reason and v.primary.passed
    v = decide(champ, {**better, "latency_p50_ms": 3.2}, policy)
    assert not v.promote and not v.guardrails["latency"].passed
    assert decide(champ, {**champ, "p1.NDCG@10": 0.3}, Policy("p1_ndcg")).promote
    assert relative_change(0.0, 1.0) is None


def test_fresh_challenger_scored_beside_champion_on_the_same_window(scenario: Scenario) -> None:
    d = scenario.fresh
    assert d.champion is not None and (d.champion.version, d.challenger.version) == (1, 2)
    assert d.champion.evaluated_as == "artifact"  # v1 was trained before the window
    assert d.window["events"] == 1100 and d.window["history_rows"] == ROWS - 1100
    assert d.data["challenger_train_rows"] == ROWS - 1100
    old, new = d.champion.metrics, d.challenger.metrics
    gain = (new["p2.NDCG@10"] - old["p2.NDCG@10"]) / old["p2.NDCG@10"]
    cov_ok = new["p1.Coverage@10"] >= 0.95 * old["p1.Coverage@10"]
    lat_ok = new["latency_p50_ms"] <= 1.5 * old["latency_p50_ms"]
    assert d.decision == ("promoted" if gain >= 0.01 and cov_ok and lat_ok else "kept")
    assert scenario.champion_after_fresh == (2 if d.decision == "promoted" else 1)
    # both learn in real time: far above most-popular on the replay
    pop = d.baselines["popular"]["p2.NDCG@10"]
    assert min(old["p2.NDCG@10"], new["p2.NDCG@10"]) > 1.5 * pop


def test_report_files_and_json_shape(scenario: Scenario) -> None:
    reports = sorted((scenario.settings.home / "reports").glob("retrain-*.json"))
    assert len(reports) == 2
    first = json.loads(reports[0].read_text())
    assert {"decision", "reason", "champion", "challenger", "guardrails", "window"} <= set(first)
    assert first["decision"] == scenario.fresh.decision
    assert set(first["champion"]) == {"version", "metrics", "evaluated_as"}
    assert set(first["guardrails"]) == {"coverage", "latency"}
    assert all(set(g) >= {"champion", "challenger", "change", "passed"}
               for g in first["guardrails"].values())  # fmt: skip
    for suffix in (".md", ".png"):
        path = Path(first["files"]["markdown" if suffix == ".md" else "png"])
        assert path.suffix == suffix and path.stat().st_size > 1000
    assert "| p2.NDCG@10 |" in Path(first["files"]["markdown"]).read_text()


def test_weak_challenger_is_rejected_and_champion_stays(scenario: Scenario) -> None:
    d = scenario.weak
    assert d.champion is not None and d.champion.version == scenario.champion_after_fresh
    assert d.champion.evaluated_as == "refit" and d.challenger.version == 3
    assert d.data["challenger_train_rows"] < 0.1 * ROWS
    assert d.decision == "kept" and d.primary is not None and not d.primary.passed
    assert d.challenger.metrics["p2.NDCG@10"] < 0.8 * d.champion.metrics["p2.NDCG@10"]
    if d.champion.version == scenario.fresh.challenger.version:
        # the champion's recipe refitted on the same frame reproduces its artifact exactly
        for key in ("p2.NDCG@10", "p2.HR@10", "p1.NDCG@10", "p1.Coverage@10"):
            assert d.champion.metrics[key] == scenario.fresh.challenger.metrics[key]
    reg = registry_from_settings(scenario.settings)
    assert reg.alias_version("champion") == scenario.champion_after_fresh
    for version, role, me in ((d.champion.version, "champion", d.champion), (3, "challenger", d.challenger)):
        tags = reg.get(version).tags
        assert tags["recloop.retrain.decision"] == "kept" and tags["recloop.retrain.role"] == role
        assert tags["recloop.retrain.reason"] == d.reason
        assert json.loads(tags["recloop.retrain.metrics"]) == pytest.approx(me.metrics)


def test_triggers(tmp_path: Path) -> None:
    trig = RetrainTriggers(interval_s=3600, min_new_events=100, cooldown_s=60)
    fresh = RetrainState()
    assert trig.reasons(fresh, 1000.0, 0) == []  # nothing new, nothing to learn
    assert trig.reasons(fresh, 1000.0, 5) == ["schedule"]
    ran = RetrainState(last_seq=50, last_run_at=1000.0, last_attempt_at=1000.0)
    assert trig.reasons(ran, 1030.0, 500, drift=True) == []  # cooldown
    assert trig.reasons(ran, 2000.0, 5) == []
    assert trig.reasons(ran, 2000.0, 150) == ["150 new events"]
    assert trig.reasons(ran, 2000.0, 5, drift=True) == ["drift alert"]
    assert trig.reasons(ran, 4700.0, 5) == ["schedule"]
    save_state(tmp_path, ran)
    assert load_state(tmp_path) == ran
    instruments = Instruments()
    probe = drift_gauge_probe(instruments)
    assert not probe()
    instruments.drift_alert.set(1)
    assert probe()


def test_worker_loop_retrains_once_per_trigger(tiny_dataset: Dataset, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    store = open_store(MemoryStateConfig(), tiny_dataset.n_items, tmp_path)
    store.append([Event(f"e{n}", "1", n % 5, 10 * (n % 5 + 1), "click", 300.0 + n)
                  for n in range(7)])  # fmt: skip
    calls: list[int] = []
    stop = threading.Event()

    def fake_retrain(_s: Settings, *, events: list[Event], **_kw: object) -> RetrainDecision:
        calls.append(len(events))
        stop.set()
        return scenario_free_decision()

    trig = RetrainTriggers(interval_s=None, min_new_events=5, cooldown_s=0)
    worker_loop(settings, stop, triggers=trig, check_every_s=0.01, store=store,
                dataset=tiny_dataset, retrain_fn=fake_retrain)  # fmt: skip
    assert calls == [7]
    state = load_state(tmp_path)
    assert (state.last_seq, state.last_decision, state.last_version) == (7, "kept", 9)
    stop.clear()
    threading.Timer(0.2, stop.set).start()
    worker_loop(settings, stop, triggers=trig, check_every_s=0.01, store=store,
                dataset=tiny_dataset, retrain_fn=fake_retrain)  # fmt: skip
    assert calls == [7]  # no new events since: no second run
    store.close()


def scenario_free_decision() -> RetrainDecision:
    from recloop.pipelines.retrain import Contender

    return RetrainDecision("kept", "test", None, Contender(9, {}), None, {}, {}, {}, {},
                           Policy(), {})  # fmt: skip

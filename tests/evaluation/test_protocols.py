"""P1 and P2 on the real data (most-popular reference figures) and by hand on tiny data."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import pytest

from recloop.config import Settings
from recloop.data import Dataset
from recloop.evaluation.baselines import baseline_builder
from recloop.evaluation.protocols import ModelBuilder, OnlineModel, run_p1, run_p2

DatasetFactory = Callable[..., Dataset]


# --- real data -------------------------------------------------------------------------


def test_p1_most_popular_on_movielens(movielens: Dataset) -> None:
    report = run_p1(movielens, [baseline_builder("popular", Settings())])
    assert report.protocol == "p1"
    assert report.data["train"] + report.data["test"] == 100_000
    assert report.data["users"] == 943
    metrics = report.models["popular"].metrics
    assert metrics["NDCG@10"] == pytest.approx(0.119, rel=0.03)
    assert set(metrics) == {
        "NDCG@10",
        "Recall@10",
        "Recall@20",
        "HR@10",
        "MAP@10",
        "Precision@10",
        "Coverage@10",
    }
    assert metrics["Recall@20"] >= metrics["Recall@10"]


def test_p2_most_popular_on_movielens(movielens: Dataset) -> None:
    advanced: list[int] = []
    report = run_p2(movielens, [baseline_builder("popular", Settings())], advanced.append)
    assert report.data["bootstrap"] == 80_000 and report.data["replayed"] == 20_000
    metrics = report.models["popular"].metrics
    assert metrics["NDCG@10"] == pytest.approx(0.035, rel=0.03)
    assert metrics["events"] == 20_000
    # cold + warm averages recombine into the overall mean
    cold = metrics["cold_events"]
    mixed = (cold * metrics["HR@10_cold"] + (20_000 - cold) * metrics["HR@10_warm"]) / 20_000
    assert mixed == pytest.approx(metrics["HR@10"])
    assert sum(advanced) == 20_000


# --- P2 by hand ------------------------------------------------------------------------


class FixedList:
    """An OnlineModel that always recommends item indices [2, 0, 4] and logs every call."""

    def __init__(self, log: list[tuple[object, ...]]) -> None:
        self.log = log

    def recommend(self, user_id: int, k: int) -> np.ndarray:
        self.log.append(("recommend", user_id, k))
        return np.array([2, 0, 4], dtype=np.int64)

    def recommend_many(self, user_ids: Sequence[int], k: int) -> list[np.ndarray]:
        return [self.recommend(u, k) for u in user_ids]

    def ingest(self, user_id: int, item: int, rating: float, timestamp: int) -> None:
        self.log.append(("ingest", user_id, item, rating, timestamp))


def _p2_rows() -> list[tuple[int, int, int, int]]:
    # 20 events at t = 0..19: the first 16 (users 1 and 2) bootstrap, the last 4 are replayed
    boot = [(1 + t % 2, 10 * (1 + t % 5), 3, t) for t in range(16)]
    replayed = [
        (1, 30, 5, 16),  # warm, item index 2 -> rank 1
        (2, 50, 4, 17),  # warm, item index 4 -> rank 3
        (9, 20, 2, 18),  # cold, item index 1 -> not in [2, 0, 4]
        (9, 10, 1, 19),  # cold, item index 0 -> rank 2
    ]
    return boot + replayed


def test_p2_replay_by_hand(make_dataset: DatasetFactory) -> None:
    data = make_dataset(_p2_rows())
    log: list[tuple[object, ...]] = []
    seen_frames: list[pd.DataFrame] = []

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        seen_frames.append(frame)
        return FixedList(log)

    report = run_p2(data, [ModelBuilder("fixed", build, {"list": [2, 0, 4]})])
    (frame,) = seen_frames
    pd.testing.assert_frame_equal(frame, data.interactions.iloc[:16])
    m = report.models["fixed"].metrics
    # per event (hit, ndcg): (1, 1), (1, 1/log2(4) = 0.5), (0, 0), (1, 1/log2(3) = 0.6309298)
    assert m["HR@10"] == pytest.approx(3 / 4)
    assert m["NDCG@10"] == pytest.approx((1 + 0.5 + 0 + 0.6309298) / 4)  # 0.5327325
    assert m["HR@10_warm"] == pytest.approx(1.0)
    assert m["NDCG@10_warm"] == pytest.approx((1 + 0.5) / 2)  # 0.75
    assert m["HR@10_cold"] == pytest.approx(0.5)
    assert m["NDCG@10_cold"] == pytest.approx((0 + 0.6309298) / 2)  # 0.3154649
    assert (m["events"], m["cold_events"]) == (4.0, 2.0)
    assert m["events_per_s"] > 0
    assert report.models["fixed"].params == {"list": [2, 0, 4]}
    # test-then-train: each event is scored before it is ingested, items as indices
    assert log == [
        ("recommend", 1, 10),
        ("ingest", 1, 2, 5.0, 16),
        ("recommend", 2, 10),
        ("ingest", 2, 4, 4.0, 17),
        ("recommend", 9, 10),
        ("ingest", 9, 1, 2.0, 18),
        ("recommend", 9, 10),
        ("ingest", 9, 0, 1.0, 19),
    ]


def test_p2_limit_replays_only_the_first_events(make_dataset: DatasetFactory) -> None:
    data = make_dataset(_p2_rows())
    log: list[tuple[object, ...]] = []
    report = run_p2(data, [ModelBuilder("fixed", lambda d, f: FixedList(log))], limit=2)
    assert report.data["replayed"] == 2
    assert report.models["fixed"].metrics["NDCG@10"] == pytest.approx((1 + 0.5) / 2)
    assert [e[0] for e in log] == ["recommend", "ingest"] * 2


def test_p2_session_sees_ingested_events(make_dataset: DatasetFactory) -> None:
    """With a real session, an ingested item is excluded from the user's next request."""
    # 10 events -> 8 bootstrap; popularity after them: 10 x3, 20 x2, 30/40/50 x1
    rows = [(1, 10, 4, 0), (2, 10, 4, 1), (3, 10, 4, 2), (1, 20, 4, 3), (2, 20, 4, 4)]
    rows += [(3, 30, 4, 5), (4, 40, 4, 6), (4, 50, 4, 7)]
    # replayed: cold user 5 rates 10, then 20
    rows += [(5, 10, 4, 8), (5, 20, 4, 9)]
    report = run_p2(make_dataset(rows), [baseline_builder("popular", Settings())])
    assert report.data["replayed"] == 2
    # event 1: list [10, 20, 30, ...] -> 10 at rank 1.
    # event 2: 10 was ingested, so the list is [20, 30, ...] -> 20 at rank 1 (rank 2 if the
    # ingest had not reached the session).
    m = report.models["popular"].metrics
    assert m["NDCG@10"] == pytest.approx(1.0)
    assert m["cold_events"] == 2.0


# --- P1 by hand ------------------------------------------------------------------------


def test_p1_by_hand(make_dataset: DatasetFactory) -> None:
    # two users, five events each: the last one (round(0.2 * 5) = 1) is the test item
    rows = [(1, 10 * (k + 1), 4, k) for k in range(5)]  # user 1: test item 50 (index 4)
    rows += [(2, 10 * (k + 1), 4, 20 - k) for k in range(5)]  # user 2: 50 first, test 10 (idx 0)
    data = make_dataset(rows)
    trained_on: list[int] = []

    def build(dataset: Dataset, frame: pd.DataFrame) -> OnlineModel:
        trained_on.append(len(frame))
        return FixedList([])

    report = run_p1(data, [ModelBuilder("fixed", build)])
    assert trained_on == [8]
    m = report.models["fixed"].metrics
    # list [2, 0, 4]: user 1 hits at rank 3 (NDCG 0.5), user 2 at rank 2 (NDCG 0.6309298)
    assert m["NDCG@10"] == pytest.approx((0.5 + 0.6309298) / 2)
    assert m["HR@10"] == 1.0
    assert m["Precision@10"] == pytest.approx(0.1)
    # AP: user 1 = (1/3) / 1, user 2 = (1/2) / 1
    assert m["MAP@10"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert m["Coverage@10"] == pytest.approx(3 / 5)


def test_p2_replay_sample_scores_a_seeded_sample_and_ingests_every_event(
    make_dataset: DatasetFactory,
) -> None:
    from recloop.evaluation.protocols import replay_sample

    data = make_dataset(_p2_rows())
    log: list[tuple[object, ...]] = []
    report = run_p2(data, [ModelBuilder("fixed", lambda d, f: FixedList(log))], sample=2, sample_seed=3)
    mask = replay_sample(4, 2, 3)
    assert mask is not None and int(mask.sum()) == 2
    assert report.data["replay_sample"] == {
        "scored": 2, "of": 4, "sampled": True, "seed": 3,
        "note": "metrics over a seeded uniform sample of the replayed events; every event is still "
                "ingested in time order",
    }  # fmt: skip
    assert [e[0] for e in log].count("ingest") == 4 and [e[0] for e in log].count("recommend") == 2
    # per event (hit, ndcg) of the full replay: (1, 1), (1, 0.5), (0, 0), (1, 0.6309298)
    full = np.array([1.0, 0.5, 0.0, 0.6309298])
    m = report.models["fixed"].metrics
    assert m["events"] == 2.0 and m["NDCG@10"] == pytest.approx(full[mask].mean())
    assert replay_sample(4, None) is None and replay_sample(4, 10) is None
    assert "replay_sample" not in run_p2(data, [ModelBuilder("fixed", lambda d, f: FixedList([]))]).data

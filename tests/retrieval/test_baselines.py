"""The four candidate generators: closed forms by hand, ALS fold-in, and one contract."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest

from recloop.config import ALSParams, EASEParams, ItemKNNParams
from recloop.data import Dataset
from recloop.evaluation.baselines import train_data
from recloop.retrieval import (
    ALSScorer,
    BaseScorer,
    EASEScorer,
    ItemKNNScorer,
    PopularScorer,
    ScorerSession,
    TrainData,
)


def _from_matrix(x: np.ndarray) -> TrainData:
    """TrainData with one event per non-zero of the binary matrix ``x`` (users x items)."""
    users, items = np.nonzero(x)
    n = len(users)
    return TrainData.from_arrays(users, items, np.full(n, 4.0), np.arange(n), x.shape[1])


# --- item-kNN --------------------------------------------------------------------------

# user 0: items 0, 1 ; user 1: items 0, 1, 2 ; user 2: item 1
X3 = np.array([[1, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=float)


def test_itemknn_cosine_by_hand() -> None:
    # item counts: |0| = 2, |1| = 3, |2| = 1 ; co-counts: (0,1) = 2, (0,2) = 1, (1,2) = 1
    # cos(0,1) = 2 / sqrt(2 * 3) = 0.8164966
    # cos(0,2) = 1 / sqrt(2 * 1) = 0.7071068
    # cos(1,2) = 1 / sqrt(3 * 1) = 0.5773503
    knn = ItemKNNScorer(ItemKNNParams(neighbors=200, shrink=0.0)).fit(_from_matrix(X3))
    expected = np.array(
        [
            [0.0, 0.8164966, 0.7071068],
            [0.8164966, 0.0, 0.5773503],
            [0.7071068, 0.5773503, 0.0],
        ]
    )
    np.testing.assert_allclose(knn.sim, expected, atol=1e-6)
    # score = sum of the history's rows: history {0, 2} -> row 0 + row 2
    np.testing.assert_allclose(knn.score(np.array([0, 2])), [0.7071068, 1.3938469, 0.7071068], atol=1e-6)


def test_itemknn_shrink_and_neighbours_by_hand() -> None:
    # shrink 1: cos(0,1) = 2 / (sqrt(6) + 1) = 2 / 3.4494897 = 0.5797959
    shrunk = ItemKNNScorer(ItemKNNParams(shrink=1.0)).fit(_from_matrix(X3))
    assert shrunk.sim[0, 1] == pytest.approx(0.5797959, abs=1e-6)
    # one neighbour per row: row 0 keeps item 1 (0.816 > 0.707), row 1 keeps item 0
    # (0.816 > 0.577), row 2 keeps item 0 (0.707 > 0.577)
    one = ItemKNNScorer(ItemKNNParams(neighbors=1)).fit(_from_matrix(X3))
    np.testing.assert_array_equal(one.sim > 0, [[0, 1, 0], [1, 0, 0], [1, 0, 0]])


# --- EASE ------------------------------------------------------------------------------


def test_ease_closed_form_on_4x3() -> None:
    x = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
    lam = 2.0
    ease = EASEScorer(EASEParams(l2=lam)).fit(_from_matrix(x))
    # With diag(B) = 0, ||X - XB||^2 + lam ||B||^2 splits into one ridge regression per
    # column j: B[-j, j] = (X_-j^T X_-j + lam I)^-1 X_-j^T x_j.
    b = np.zeros((3, 3))
    for j in range(3):
        others = [i for i in range(3) if i != j]
        xo = x[:, others]
        b[others, j] = np.linalg.solve(xo.T @ xo + lam * np.eye(2), xo.T @ x[:, j])
    # e.g. column 0: X_-0^T X_-0 + 2I = [[5, 2], [2, 5]], X_-0^T x_0 = [2, 2]
    #   -> B[1, 0] = B[2, 0] = 2 / 7 = 0.2857143
    assert b[1, 0] == pytest.approx(2 / 7) and b[2, 0] == pytest.approx(2 / 7)
    np.testing.assert_allclose(ease.weights, b, atol=1e-6)
    np.testing.assert_allclose(ease.score(np.array([1, 2])), b[1] + b[2], atol=1e-6)


# --- ALS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def movielens_train(movielens: Dataset) -> TrainData:
    return train_data(movielens, movielens.interactions)


@pytest.fixture(scope="module")
def als_full(movielens_train: TrainData) -> ALSScorer:
    return ALSScorer(ALSParams()).fit(movielens_train)


def test_als_fold_in_reproduces_implicits_user_factors(
    als_full: ALSScorer, movielens_train: TrainData
) -> None:
    histories = movielens_train.histories()
    assert als_full.user_factors.shape == (943, 32)
    assert als_full.item_factors.shape == (1682, 32)
    cosines = []
    for u in range(0, movielens_train.n_users, 7):
        mine, theirs = als_full.fold_in(histories[u]), als_full.user_factors[u]
        cosines.append(mine @ theirs / (np.linalg.norm(mine) * np.linalg.norm(theirs)))
    assert min(cosines) > 0.99


def test_als_fold_in_of_empty_history_is_zero(als_full: ALSScorer) -> None:
    np.testing.assert_array_equal(als_full.fold_in(np.empty(0, dtype=np.int64)), np.zeros(32))


# --- the same contract for every scorer ------------------------------------------------

SCORERS: dict[str, Callable[[], BaseScorer]] = {
    "popular": PopularScorer,
    "itemknn": lambda: ItemKNNScorer(ItemKNNParams(neighbors=5)),
    "als": lambda: ALSScorer(ALSParams(factors=4, iterations=5)),
    "ease": lambda: EASEScorer(EASEParams(l2=10.0)),
}
N_USERS, N_ITEMS = 30, 20


@pytest.fixture(scope="module")
def small_train() -> TrainData:
    """30 users with 6 random items each out of 20, in a random event order."""
    rng = np.random.default_rng(7)
    pairs = [(u, int(i)) for u in range(N_USERS) for i in rng.choice(N_ITEMS, 6, replace=False)]
    order = rng.permutation(len(pairs))
    users = np.array([pairs[k][0] for k in order]) + 100  # raw ids 100..129
    items = np.array([pairs[k][1] for k in order])
    n = len(pairs)
    return TrainData.from_arrays(users, items, np.full(n, 3.0), np.arange(n), N_ITEMS)


@pytest.fixture(params=list(SCORERS))
def fitted(request: pytest.FixtureRequest, small_train: TrainData) -> BaseScorer:
    scorer = SCORERS[request.param]()
    assert scorer.fit(small_train) is scorer
    return scorer


def test_contract_score_shape_and_dtype(fitted: BaseScorer, small_train: TrainData) -> None:
    for history in [small_train.histories()[0], np.empty(0, dtype=np.int64)]:
        scores = fitted.score(history)
        assert scores.shape == (N_ITEMS,)
        assert scores.dtype == np.float32
        assert np.isfinite(scores).all()


def test_contract_score_many_equals_stacked_score(fitted: BaseScorer, small_train: TrainData) -> None:
    histories = [*small_train.histories()[:5], np.empty(0, dtype=np.int64), np.array([3, 3, 7])]
    many = fitted.score_many(histories)
    assert many.shape == (len(histories), N_ITEMS)
    assert many.dtype == np.float32
    stacked = np.stack([fitted.score(h) for h in histories])
    np.testing.assert_allclose(many, stacked, rtol=1e-5, atol=1e-6)


def test_contract_params_are_json(fitted: BaseScorer) -> None:
    params = fitted.params()
    assert isinstance(params, dict)
    json.dumps(params)


@pytest.mark.parametrize("name", ["itemknn", "als", "ease"])
def test_scores_follow_the_current_history(name: str, small_train: TrainData) -> None:
    scorer = SCORERS[name]().fit(small_train)
    history = small_train.histories()[0]
    new_item = next(i for i in range(N_ITEMS) if i not in set(history.tolist()))
    before = scorer.score(history)
    after = scorer.score(np.append(history, new_item))
    assert not np.allclose(before, after)


def test_popular_counts_live_events(small_train: TrainData) -> None:
    pop = PopularScorer().fit(small_train)
    before = pop.score(np.empty(0, dtype=np.int64)).copy()
    np.testing.assert_array_equal(before, small_train.item_counts())
    pop.observe(4, 0)
    after = pop.score(np.empty(0, dtype=np.int64))
    assert after[4] == before[4] + 1
    np.testing.assert_array_equal(np.delete(after, 4), np.delete(before, 4))


# --- ScorerSession ---------------------------------------------------------------------


def test_session_never_recommends_seen_items(fitted: BaseScorer, small_train: TrainData) -> None:
    session = ScorerSession(fitted, small_train)
    for uid, history in zip(small_train.user_ids, small_train.histories(), strict=True):
        assert session.history(int(uid)).tolist() == history.tolist()
        recs = session.recommend(int(uid), N_ITEMS)
        # every unseen item, none of the seen ones
        assert sorted(recs.tolist()) == sorted(set(range(N_ITEMS)) - set(history.tolist()))
    # an ingested item disappears from the next request
    uid = int(small_train.user_ids[0])
    top = int(session.recommend(uid, 1)[0])
    session.ingest(uid, top, 5.0, 10_000)
    assert top not in session.recommend(uid, N_ITEMS).tolist()
    assert session.history(uid)[-1] == top


def test_session_cold_user_and_batch_agree(fitted: BaseScorer, small_train: TrainData) -> None:
    session = ScorerSession(fitted, small_train)
    assert session.history(999).tolist() == []
    assert len(session.recommend(999, 5)) == 5
    session.ingest(999, 2, 4.0, 1)
    assert 2 not in session.recommend(999, N_ITEMS).tolist()
    users = [int(u) for u in small_train.user_ids[:6]] + [999]
    batch = session.recommend_many(users, 10)
    for u, recs in zip(users, batch, strict=True):
        np.testing.assert_array_equal(recs, session.recommend(u, 10))

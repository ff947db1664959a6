"""LambdaRanker: learns a planted signal; its C-API and lleaves-compiled predicts equal LightGBM's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recloop.errors import DataError
from recloop.ranking.compiled import compile_booster
from recloop.ranking.ranker import LambdaRanker, RankerConfig, RankingFrame


def _frame(rng: np.random.Generator, queries: int, per_query: int = 20) -> RankingFrame:
    """Feature 0 decides relevance (plus noise); features 1-3 are noise."""
    x = rng.normal(size=(queries * per_query, 4)).astype(np.float32)
    labels = (x[:, 0] + 0.3 * rng.normal(size=len(x)) > 1.0).astype(int)
    return RankingFrame(x, labels, np.full(queries, per_query))


@pytest.fixture(scope="module")
def ranker() -> LambdaRanker:
    rng = np.random.default_rng(0)
    cfg = RankerConfig(max_rounds=60, min_data_in_leaf=5, threads=1)
    return LambdaRanker(cfg).fit(_frame(rng, 200), _frame(rng, 50), ["signal", "a", "b", "c"])


def test_direct_predict_equals_booster_predict(ranker: LambdaRanker) -> None:
    x = np.random.default_rng(1).normal(size=(157, 4)).astype(np.float32)
    assert ranker.booster is not None
    expected = ranker.booster.predict(x, num_iteration=ranker.best_iteration, num_threads=1)
    got = ranker.predict(x)
    assert got.dtype == np.float64 and got.shape == (157,)
    np.testing.assert_array_equal(got, expected)
    # float64 and non-contiguous input are converted, not misread
    np.testing.assert_array_equal(ranker.predict(np.asfortranarray(x.astype(np.float64))), expected)


def test_predict_learns_the_planted_signal(ranker: LambdaRanker) -> None:
    x = np.zeros((3, 4), dtype=np.float32)
    x[:, 0] = [-2.0, 0.0, 2.5]
    s = ranker.predict(x)
    assert s[2] > max(s[0], s[1])
    assert ranker.importances()["signal"] > 0.5


def test_predict_rejects_wrong_width_and_handles_empty(ranker: LambdaRanker) -> None:
    with pytest.raises(ValueError, match=r"\(n, 4\)"):
        ranker.predict(np.zeros((2, 3), dtype=np.float32))
    assert ranker.predict(np.zeros((0, 4), dtype=np.float32)).shape == (0,)


def test_compiled_forest_equals_lightgbm_and_is_cached(ranker: LambdaRanker, tmp_path: Path) -> None:
    x = np.random.default_rng(2).normal(size=(300, 4)).astype(np.float32)
    x[::5, 1] = np.nan  # missing values take LightGBM's default branch in both
    plain = ranker.predict(x)
    forest = ranker.compile(tmp_path)
    assert ranker.compiled is forest
    np.testing.assert_allclose(ranker.predict(x), plain, rtol=0, atol=1e-12)
    (binary,) = tmp_path.glob("ranker-*.so")
    written = binary.stat().st_mtime_ns
    again = LambdaRanker(ranker.config)
    again.booster, again.best_iteration, again.feature_names = (
        ranker.booster, ranker.best_iteration, ranker.feature_names)  # fmt: skip
    assert again.compile(tmp_path).key == forest.key  # same model text: the cached object
    assert list(tmp_path.glob("ranker-*.so")) == [binary]
    assert binary.stat().st_mtime_ns == written  # loaded, not compiled and written again
    np.testing.assert_allclose(again.predict(x), plain, rtol=0, atol=1e-12)


def test_a_wrong_compiled_object_is_refused(ranker: LambdaRanker, tmp_path: Path) -> None:
    other = LambdaRanker(RankerConfig(max_rounds=5, min_data_in_leaf=5, threads=1))
    rng = np.random.default_rng(3)
    other.fit(_frame(rng, 50), _frame(rng, 20), ["signal", "a", "b", "c"])
    forest = other.compile(tmp_path)
    assert ranker.booster is not None
    # plant the other model's object under this model's name: the check must catch it
    key = compile_booster(ranker.booster, ranker.best_iteration, tmp_path / "fresh").key
    (tmp_path / f"ranker-{key}.so").write_bytes((tmp_path / f"ranker-{forest.key}.so").read_bytes())
    (tmp_path / f"ranker-{key}.txt").write_text(
        ranker.booster.model_to_string(num_iteration=ranker.best_iteration)
    )
    with pytest.raises(DataError, match="RECLOOP_RANKER_RUNTIME=lightgbm"):
        compile_booster(ranker.booster, ranker.best_iteration, tmp_path)
    assert not (tmp_path / f"ranker-{key}.so").exists()  # the bad object is removed

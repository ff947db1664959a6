"""LightGBM LambdaRank over candidate features, with early stopping."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
from lightgbm import basic as lgb_basic
from pydantic import BaseModel

from recloop.ranking.compiled import CompiledForest, compile_booster
from recloop.runtime import training_thread_count

__all__ = ["LambdaRanker", "RankerConfig", "RankingFrame"]

_LIB: Any = lgb_basic._LIB  # type: ignore[attr-defined]  # LightGBM's loaded C library
_ONE_THREAD = lgb_basic._c_str("num_threads=1")


class RankerConfig(BaseModel):
    """LambdaRank hyperparameters."""

    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_rounds: int = 600
    early_stopping_rounds: int = 50
    truncation_level: int = 30
    seed: int = 42
    # None: the fixed training count (recloop.runtime); the model depends on the thread count
    threads: int | None = None


@dataclass(frozen=True)
class RankingFrame:
    """Rows of (query, candidate): features float32 (n, f), labels int (n,), group sizes."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray

    @property
    def queries(self) -> int:
        """Number of queries (groups)."""
        return len(self.groups)


class LambdaRanker:
    """Learns to order candidates; predicts one score per candidate (higher is better)."""

    def __init__(self, config: RankerConfig | None = None) -> None:
        self.config = config or RankerConfig()
        self.booster: lgb.Booster | None = None
        self.feature_names: list[str] = []
        self.best_iteration = 0
        self.valid_ndcg = 0.0
        self.compiled: CompiledForest | None = None

    def compile(self, cache_dir: Path) -> CompiledForest:
        """Serve :meth:`predict` from an lleaves-compiled copy (see :mod:`recloop.ranking.compiled`)."""
        if self.booster is None:
            raise RuntimeError("ranker is not fitted")
        self.compiled = compile_booster(self.booster, self.best_iteration, cache_dir)
        return self.compiled

    def _params(self, threads: int) -> dict[str, Any]:
        c = self.config
        return {
            "objective": "lambdarank", "metric": "ndcg", "eval_at": [10],
            "learning_rate": c.learning_rate, "num_leaves": c.num_leaves,
            "min_data_in_leaf": c.min_data_in_leaf, "feature_fraction": c.feature_fraction,
            "bagging_fraction": c.bagging_fraction, "bagging_freq": 1, "lambda_l2": c.lambda_l2,
            "lambdarank_truncation_level": c.truncation_level, "seed": c.seed,
            "num_threads": threads, "verbosity": -1, "deterministic": True,
            "force_row_wise": True,
        }  # fmt: skip

    def fit(self, train: RankingFrame, valid: RankingFrame, feature_names: list[str]) -> LambdaRanker:
        """Fit with early stopping on ``valid`` (a later period than ``train``)."""
        self.feature_names = list(feature_names)
        dtrain = lgb.Dataset(train.features, train.labels, group=train.groups,
                             feature_name=self.feature_names, free_raw_data=False)  # fmt: skip
        dvalid = lgb.Dataset(valid.features, valid.labels, group=valid.groups, reference=dtrain)
        evals: dict[str, Any] = {}
        threads = self.config.threads or training_thread_count()
        self.booster = lgb.train(
            self._params(threads), dtrain, num_boost_round=self.config.max_rounds,
            valid_sets=[dvalid], valid_names=["valid"],
            callbacks=[lgb.early_stopping(self.config.early_stopping_rounds, verbose=False),
                       lgb.record_evaluation(evals)],
        )  # fmt: skip
        self.best_iteration = int(self.booster.best_iteration or self.booster.current_iteration())
        curve = evals.get("valid", {}).get("ndcg@10", [0.0])
        self.valid_ndcg = float(curve[self.best_iteration - 1]) if curve else 0.0
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Scores float64 (n,), one thread (request path).

        Through the compiled forest once :meth:`compile` ran (serving). Otherwise it calls
        LightGBM's ``LGBM_BoosterPredictForMat`` directly on the float32 rows: the same C
        function ``Booster.predict`` ends in, without its per-call Python set-up (a new
        predictor object, parameter strings, dtype checks). ``tests/ranking`` checks both
        against ``Booster.predict``.
        """
        if self.booster is None:
            raise RuntimeError("ranker is not fitted")
        x = np.ascontiguousarray(features, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != len(self.feature_names):
            raise ValueError(f"features must be (n, {len(self.feature_names)}), got {x.shape}")
        out = np.empty(x.shape[0], dtype=np.float64)
        if x.shape[0] == 0:
            return out
        if self.compiled is not None:
            return self.compiled.predict(x)
        written = ctypes.c_int64(0)
        lgb_basic._safe_call(
            _LIB.LGBM_BoosterPredictForMat(
                self.booster._handle, x.ctypes.data_as(ctypes.c_void_p),
                ctypes.c_int(lgb_basic._C_API_DTYPE_FLOAT32), ctypes.c_int32(x.shape[0]),
                ctypes.c_int32(x.shape[1]), ctypes.c_int(1), ctypes.c_int(lgb_basic._C_API_PREDICT_NORMAL),
                ctypes.c_int(0), ctypes.c_int(self.best_iteration), _ONE_THREAD,
                ctypes.byref(written), out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            )
        )  # fmt: skip
        if written.value != x.shape[0]:
            raise RuntimeError(f"LightGBM wrote {written.value} scores for {x.shape[0]} rows")
        return out

    def importances(self) -> dict[str, float]:
        """Gain importance per feature, normalised to sum 1, largest first."""
        if self.booster is None:
            return {}
        gain = self.booster.feature_importance(importance_type="gain")
        total = float(gain.sum()) or 1.0
        pairs = sorted(zip(self.feature_names, gain, strict=True), key=lambda p: -p[1])
        return {name: float(g) / total for name, g in pairs}

    def save(self, path: Path) -> None:
        """Write the booster as LightGBM text."""
        if self.booster is None:
            raise RuntimeError("ranker is not fitted")
        self.booster.save_model(str(path), num_iteration=self.best_iteration)

    @classmethod
    def load(cls, path: Path, config: RankerConfig | None = None) -> LambdaRanker:
        """Read a booster written by :meth:`save`."""
        r = cls(config)
        r.booster = lgb.Booster(model_file=str(path))
        r.feature_names = list(r.booster.feature_name())
        r.best_iteration = r.booster.current_iteration()
        return r

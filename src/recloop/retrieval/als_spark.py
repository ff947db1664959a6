"""ALS on Spark: ``pyspark.ml.recommendation.ALS`` with implicit preferences (``recloop[spark]``).

The same model as :mod:`recloop.retrieval.als` fitted by a different engine: the training
matrix (user, item, count) goes to Spark as a DataFrame, ``ALS(implicitPrefs=True)`` fits it,
and the item factors come back as a float32 (n_items, factors) array in catalog index order
(items Spark never saw stay zero), so the FAISS index, fold-in and ranker downstream do not
know which engine fitted them. Spark's regularisation is weighted by each user's and item's
count (ALS-WR), implicit's is not: ``spark_reg_param`` is its own hyperparameter (0.05, not
tuned; benchmarks/spark_als.py compares the two engines on P1). ``SPARK_LOCAL_IP`` defaults
to 127.0.0.1; Spark's console progress and INFO logs are off.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from recloop.errors import ConfigError

__all__ = ["spark_item_factors"]


def _session(master: str) -> Any:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigError("the spark engine needs pyspark and Java 17: "
                          "pip install 'recloop[spark]'") from None
    return (SparkSession.builder.master(master).appName("recloop-als")
            .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
            .config("spark.driver.host", "127.0.0.1").config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())  # fmt: skip


def spark_item_factors(
    users: np.ndarray, items: np.ndarray, counts: np.ndarray, n_items: int, *, factors: int,
    reg_param: float, alpha: float, iterations: int, seed: int, master: str = "local[*]",
) -> np.ndarray:  # fmt: skip
    """Fit implicit ALS on Spark over (user, item, count) triples; item factors (n_items, factors)."""
    from pyspark.ml.recommendation import ALS

    spark = _session(master)
    spark.sparkContext.setLogLevel("ERROR")
    rows = list(zip(users.tolist(), items.tolist(), counts.astype(float).tolist(), strict=True))
    frame = spark.createDataFrame(rows, schema="user int, item int, rating double")
    model = ALS(rank=factors, regParam=reg_param, alpha=alpha, maxIter=iterations, seed=seed,
                implicitPrefs=True, userCol="user", itemCol="item", ratingCol="rating",
                nonnegative=False, coldStartStrategy="drop").fit(frame)  # fmt: skip
    out = np.zeros((n_items, factors), dtype=np.float32)
    for row in model.itemFactors.collect():
        out[int(row["id"])] = np.asarray(row["features"], dtype=np.float32)
    return out

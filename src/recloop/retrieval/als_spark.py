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

from recloop.errors import ConfigError, DataError
from recloop.events.schema import NEGATIVE_TYPES
from recloop.retrieval.base import TrainData

__all__ = ["spark_item_factors", "spark_item_factors_from_table"]


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
    spark = _session(master)
    spark.sparkContext.setLogLevel("ERROR")
    rows = list(zip(users.tolist(), items.tolist(), counts.astype(float).tolist(), strict=True))
    frame = spark.createDataFrame(rows, schema="user int, item int, rating double")
    return _fit(frame, n_items, factors, reg_param, alpha, iterations, seed)


def _fit(frame: Any, n_items: int, factors: int, reg_param: float, alpha: float, iterations: int,
         seed: int) -> np.ndarray:  # fmt: skip
    """Implicit ALS over a (user, item, rating) Spark frame; item factors float32 (n_items, factors)."""
    from pyspark.ml.recommendation import ALS

    model = ALS(rank=factors, regParam=reg_param, alpha=alpha, maxIter=iterations, seed=seed,
                implicitPrefs=True, userCol="user", itemCol="item", ratingCol="rating",
                nonnegative=False, coldStartStrategy="drop").fit(frame)  # fmt: skip
    out = np.zeros((n_items, factors), dtype=np.float32)
    for row in model.itemFactors.collect():
        out[int(row["id"])] = np.asarray(row["features"], dtype=np.float32)
    return out


def _table_pairs(spark: Any, data: TrainData) -> Any:
    """The binary (user, item) training pairs, read by Spark from the Delta table's parquet files.

    The rules of ``archive_interactions`` spelled in Spark SQL: positive events only, the
    first event of each (user, item) pair, each user's first ``n`` pairs in canonical event
    order (whole-second time, then the crc32 tie of ``event_order``, then the log order),
    where ``n`` is how many that user has in ``data``. Columns ``user`` (dense index) and
    ``item`` (catalog index). Only O(users + items) rows go from Python to Spark.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    origin = data.origin
    assert origin is not None
    # the listed files only: a plain read of the directory would also see files a later commit removed
    rows = spark.read.option("basePath", origin.path).parquet(*origin.files)
    text = dict(origin.user_keys)
    counts = np.bincount(data.users, minlength=data.n_users)
    keyed = enumerate(zip(data.user_ids.tolist(), counts.tolist(), strict=True))
    users = spark.createDataFrame([(text.get(u, str(u)), u, d, c) for d, (u, c) in keyed],
                                  schema="user_id string, uid long, user int, n int")  # fmt: skip
    items = spark.createDataFrame([(int(i), k) for k, i in enumerate(origin.item_ids)],
                                  schema="item_id long, item int")  # fmt: skip
    events = (rows.filter(~F.col("type").isin(*sorted(NEGATIVE_TYPES)))
              .join(F.broadcast(users), "user_id").join(F.broadcast(items), "item_id")
              .withColumn("ts", F.floor("timestamp"))
              .withColumn("tie", F.crc32(F.concat_ws(":", F.col("uid").cast("string"),
                                                     F.col("item_id").cast("string")))))  # fmt: skip
    order = [F.col("ts"), F.col("tie"), F.col("timestamp"), F.col("seq").asc_nulls_first(), F.col("event_id")]
    first = (events.withColumn("k", F.row_number().over(Window.partitionBy("user", "item").orderBy(*order)))
             .filter("k = 1"))  # fmt: skip
    ranked = first.withColumn("pos", F.row_number().over(Window.partitionBy("user").orderBy(*order)))
    return ranked.filter(F.col("pos") <= F.col("n")).select("user", "item")


def spark_item_factors_from_table(
    data: TrainData, *, factors: int, reg_param: float, alpha: float, iterations: int, seed: int,
    master: str = "local[*]",
) -> np.ndarray:  # fmt: skip
    """Item factors (n_items, factors) of implicit ALS fitted on Spark over the rows of
    ``data.origin`` read from its parquet files; the pairs Spark derives are checked
    against ``data`` (per-user counts) and a mismatch is an error, not a silent refit."""
    from pyspark.sql import functions as F

    spark = _session(master)
    spark.sparkContext.setLogLevel("ERROR")
    pairs = _table_pairs(spark, data).withColumn("rating", F.lit(1.0)).cache()
    got = np.zeros(data.n_users, dtype=np.int64)
    for row in pairs.groupBy("user").count().collect():
        got[int(row["user"])] = int(row["count"])
    want = np.bincount(data.users, minlength=data.n_users)
    if not np.array_equal(got, want):
        bad = int((got != want).sum())
        raise DataError(f"Spark read {int(got.sum())} training pairs from {data.origin}, the pipeline has "
                        f"{int(want.sum())} ({bad} users differ): the table changed under the training run "
                        "or its rows break the canonical order; retrain with --as-of a fixed version")
    out = _fit(pairs, data.n_items, factors, reg_param, alpha, iterations, seed)
    pairs.unpersist()
    return out

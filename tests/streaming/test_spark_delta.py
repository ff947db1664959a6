"""Spark reads the training rows from the Delta table's own parquet files: the (user, item)
pairs it derives in Spark SQL are exactly the pipeline's training matrix (positives only,
first event of a pair, each user's temporal prefix), and ALS fits from them. Real Spark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from recloop.archive import DeltaArchive, events_frame
from recloop.config import ALSParams, Settings
from recloop.data import Dataset
from recloop.evaluation.baselines import train_data
from recloop.evaluation.splits import temporal_user_split
from recloop.events.schema import Event
from recloop.pipelines.archive_data import export_dataset, training_frame
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.als_spark import _session, _table_pairs


def _live(data: Dataset) -> list[Event]:
    """Live events that exercise every rule: text user ids, a dislike, a repeated pair, one second."""
    t = float(data.interactions["timestamp"].max()) + 60
    ids = data.item_ids
    out = [Event(f"l{n}", "web-user", n, int(ids[n]), "like", t + n / 10) for n in range(12)]  # same seconds
    out += [Event("again", "web-user", 3, int(ids[3]), "click", t + 30),      # a repeat: not a new pair
            Event("nope", "web-user", 40, int(ids[40]), "dislike", t + 31),   # not an interaction
            Event("m1", "1", 500, int(ids[500]), "rate", t + 32, 4.0)]        # a MovieLens user goes on
    return out


def test_spark_derives_the_pipelines_training_matrix_from_the_parquet_files(
    movielens: Dataset, tmp_path: Path
) -> None:
    path = str(tmp_path / "events")
    export_dataset(movielens, path)
    DeltaArchive(path).append(events_frame(_live(movielens), seqs=list(range(1, 16))), last_seq=15)
    frame, label = training_frame(Settings(home=tmp_path), movielens, f"delta:{path}", None)
    train, _ = temporal_user_split(frame)
    td = train_data(movielens, train)
    assert td.origin is not None and str(td.origin) == label == f"delta:{path}@v1"

    rows = _table_pairs(_session("local[2]"), td).collect()
    users = np.array([r["user"] for r in rows])
    items = np.array([r["item"] for r in rows])
    ones = np.ones(len(rows), dtype=np.float32)
    got = sp.csr_matrix((ones, (users, items)), shape=(td.n_users, td.n_items))
    want = td.matrix()
    assert len(rows) == want.nnz and (got != want).nnz == 0

    als = ALSScorer(ALSParams(factors=8, iterations=3, engine="spark", spark_master="local[2]")).fit(td)
    assert als.input == f"delta:{path}@v1 (parquet, read by Spark)"
    assert als.item_factors.shape == (movielens.n_items, 8) and np.abs(als.item_factors).sum() > 0

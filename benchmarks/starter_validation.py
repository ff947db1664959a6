"""How the starter list (a new user's first list) was chosen: a validation replay inside the P2 bootstrap.

Usage::

    RECLOOP_HOME=HOME python benchmarks/starter_validation.py [--json PATH]

The P2 bootstrap (first 80% of events, shared/EVALUATION.md) is split again in time:
its first 80% feed the item statistics, its last 20% are replayed event by event. For
the first event of every user unseen before, each starter variant (trend weight,
diversity) is asked for a top-10 from the statistics as of then; HR@10 and NDCG@10 of
that one event are averaged. The P2 test period is never read. Writes
``benchmarks/results/starter_validation.json``; the chosen values are the defaults of
``recloop.serving.coldstart``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation import metrics as m
from recloop.evaluation.splits import prequential_split
from recloop.retrieval.trending import ItemStats
from recloop.serving.catalog import Catalog
from recloop.serving.coldstart import DIVERSITY, TREND_WEIGHT, starter_list

GRID = [(0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (2.0, 0.3), (4.0, 0.3), (6.0, 0.3), (10.0, 0.3), (20.0, 0.3),
        (20.0, 0.0), (40.0, 0.3)]  # fmt: skip
RESULTS = Path(__file__).parent / "results" / "starter_validation.json"


def main() -> None:
    """Run the grid, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    ds = load_dataset(get_settings())
    boot, _ = prequential_split(ds.interactions)
    cut = round(0.8 * len(boot))
    train, val = boot.iloc[:cut], boot.iloc[cut:]
    genres, allowed = Catalog(ds).genre_sets, np.ones(ds.n_items, dtype=bool)
    rows = []
    for trend_weight, diversity in GRID:
        stats = ItemStats(ds.n_items, 7.0)
        stats.add_many(ds.item_index(train["item_id"]), train["timestamp"].to_numpy(),
                       train["rating"].to_numpy().astype(np.float64))  # fmt: skip
        known = set(train["user_id"].tolist())
        hit, ndcg = [], []
        cols = (val["user_id"].tolist(), ds.item_index(val["item_id"]).tolist(), val["timestamp"].tolist(),
                val["rating"].tolist())  # fmt: skip
        for u, i, t, r in zip(*cols, strict=True):
            if u not in known:
                known.add(u)
                got = starter_list(stats, genres, allowed, 10, trend_weight=trend_weight, diversity=diversity)
                h, g = m.rank_ndcg(got.items.tolist(), int(i), 10)
                hit.append(h)
                ndcg.append(g)
            stats.add(int(i), float(t), float(r))
        rows.append({"trend_weight": trend_weight, "diversity": diversity, "first_events": len(hit),
                     "HR@10": float(np.mean(hit)), "NDCG@10": float(np.mean(ndcg))})  # fmt: skip
    table = Table(title="starter list on the validation replay (first event of each new user)")
    for col in ("trend weight", "diversity", "events", "HR@10", "NDCG@10"):
        table.add_column(col, justify="right")
    for row in rows:
        table.add_row(f"{row['trend_weight']:g}", f"{row['diversity']:g}", str(row["first_events"]),
                      f"{row['HR@10']:.4f}", f"{row['NDCG@10']:.4f}")  # fmt: skip
    Console().print(table)
    out = {"protocol": "validation replay inside the P2 bootstrap", "source": ds.source, "grid": rows,
           "chosen": {"trend_weight": TREND_WEIGHT, "diversity": DIVERSITY}}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

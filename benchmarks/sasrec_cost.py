"""What the SASRec source costs per request: scoring one user's live history, and training.

Usage::

    python benchmarks/sasrec_cost.py [--epochs 20] [--requests 2000] [--threads 1]
        [--json benchmarks/results/sasrec_cost.json]

Trains the SASRec network (recloop's default parameters, ``--epochs`` passes) on the P1
training split of MovieLens-100K and reports the wall time of that fit; then times
``SASRecSource.scores`` (the network's forward pass over the latest 50 items plus the
catalog-wide logits, what a request pays when the user's scores are not cached) for
``--requests`` random users of the test split, each at a random prefix of their history,
with torch at ``--threads`` intra-op threads; and a batch of every user (``score_many``)
as the offline cost per user. Writes ``{"machine", "config", "results"}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from recloop.config import Settings
from recloop.data import load_dataset
from recloop.evaluation.baselines import train_data
from recloop.evaluation.splits import temporal_user_split
from recloop.retrieval.history import History
from recloop.retrieval.sources import FitContext, Query, SourceSpec, source_kind
from recloop.retrieval.trending import ItemStats


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {"p50_ms": float(np.percentile(a, 50)), "p90_ms": float(np.percentile(a, 90)),
            "p99_ms": float(np.percentile(a, 99)), "mean_ms": float(a.mean()), "n": len(ms)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/sasrec_cost.json"))
    args = ap.parse_args()
    settings = Settings()
    data = load_dataset(settings)
    train, _ = temporal_user_split(data.interactions)
    td = train_data(data, train)
    params = settings.models.sasrec.model_copy(update={"epochs": args.epochs})
    spec = SourceSpec(kind="sasrec", quota=settings.models.sasrec_quota, params=params.model_dump())
    t = time.perf_counter()
    source = source_kind("sasrec").fit(spec, FitContext(td))
    fit_s = time.perf_counter() - t
    torch.set_num_threads(args.threads)
    histories = td.histories()
    rng = np.random.default_rng(0)
    stats = ItemStats(data.n_items)
    for h in histories[:50]:  # warm-up
        source.scores(Query(History.from_items(h), stats, 0.0))
    ms = []
    for _ in range(args.requests):
        h = histories[int(rng.integers(len(histories)))]
        q = Query(History.from_items(h[: int(rng.integers(1, len(h) + 1))]), stats, 0.0)
        t0 = time.perf_counter()
        source.scores(q)
        ms.append((time.perf_counter() - t0) * 1e3)
    t = time.perf_counter()
    source.scorer.score_many(histories)  # type: ignore[attr-defined]
    batch_s = time.perf_counter() - t
    results = {
        "fit": {"wall_s": fit_s, "epochs": args.epochs, "train_events": len(td.items),
                "s_per_epoch": fit_s / args.epochs, "torch_threads": params.threads},
        "score_one_history": {**_percentiles(ms), "torch_threads": args.threads},
        "score_many_all_users": {"wall_s": batch_s, "users": len(histories),
                                 "ms_per_user": batch_s * 1e3 / len(histories)},
    }  # fmt: skip
    out = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "loadavg_1m_at_end": os.getloadavg()[0]},
        "config": {"params": params.model_dump(), "n_items": data.n_items, "data_source": data.source},
        "results": results,
    }
    print(json.dumps(results, indent=1))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

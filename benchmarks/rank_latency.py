"""Single-user latency of the champion of RECLOOP_HOME on MovieLens: the whole rank, or candidates + features.

    RECLOOP_HOME=H PYTHONPATH=src .venv/bin/python benchmarks/rank_latency.py [--calls 1000]
        [--part rank|candidates] [--json benchmarks/results/rank_latency.json]

Run it with two code trees (PYTHONPATH) over homes each trained by its own code to compare
them; the first 50 calls are warm-up and not counted.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.ranking.bundle import load_bundle
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.registry import registry_from_settings
from recloop.retrieval.history import History


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--part", choices=["rank", "candidates"], default="rank")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = get_settings()
    data = load_dataset(settings)
    model = load_bundle(registry_from_settings(settings).download("champion"), data).model
    stats = item_stats(data, data.interactions, 7.0)
    hist = replay_histories(data, data.interactions)
    users, rng, lat = list(hist), np.random.default_rng(0), []
    for _ in range(args.calls):
        u = users[int(rng.integers(len(users)))]
        h = History.from_items(*hist[u], user_id=u)
        t0 = time.perf_counter_ns()
        if args.part == "rank":
            model.rank(h, stats, stats.now, 10)
        else:
            model.features.build(h, model.sources.generate(h, stats, stats.now), stats, stats.now)
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    a = np.asarray(lat[50:])
    out = {"part": args.part, "p50_ms": round(float(np.percentile(a, 50)), 3),
           "p99_ms": round(float(np.percentile(a, 99)), 3), "mean_ms": round(float(a.mean()), 3),
           "calls": len(a), "home": str(settings.home)}  # fmt: skip
    print(json.dumps(out))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

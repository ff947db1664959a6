"""Times the training pipeline stages and single-user scoring (p50/p99); writes JSON.

    .venv/bin/python benchmarks/training.py [--json benchmarks/results/training.json]

Uses a throwaway RECLOOP_HOME (the data wheel is copied from ~/.recloop/data if present).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.config import Settings
from recloop.data import load_dataset
from recloop.pipelines.train import train_and_register
from recloop.ranking.bundle import TwoStageConfig
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.retrieval.history import History


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/training.json"))
    ap.add_argument("--queries", type=int, default=1000, help="single-user scoring calls")
    args = ap.parse_args()
    console = Console()
    home = Path(tempfile.mkdtemp(prefix="recloop-bench-"))
    cached = Path.home() / ".recloop" / "data"
    if cached.exists():
        shutil.copytree(cached, home / "data")
    settings = Settings(home=home)
    data = load_dataset(settings)
    marks: list[tuple[str, float]] = []
    t_start = time.perf_counter()

    def mark(stage: str) -> None:
        marks.append((stage, time.perf_counter()))

    result = train_and_register(settings, TwoStageConfig(), mark, dataset=data)
    total = time.perf_counter() - t_start
    marks.append(("end", time.perf_counter()))
    stages = {name: marks[i + 1][1] - t for i, (name, t) in enumerate(marks[:-1])}
    from recloop.ranking.bundle import load_bundle
    from recloop.registry import registry_from_settings

    bundle = load_bundle(registry_from_settings(settings).download("champion"), data)
    stats = item_stats(data, data.interactions, 7.0)
    hist = replay_histories(data, data.interactions)
    users = list(hist)
    rng = np.random.default_rng(0)
    lat = []
    for _ in range(args.queries):
        u = users[int(rng.integers(len(users)))]
        h = History.from_items(*hist[u], user_id=u)
        t0 = time.perf_counter_ns()
        bundle.model.rank(h, stats, stats.now, 10)
        lat.append((time.perf_counter_ns() - t0) / 1e6)
    arr = np.asarray(lat)
    out = {
        "machine": {"nproc": os.cpu_count()},
        "pipeline_total_s": total,
        "stages_s": stages,
        "timings_s": result.timings,
        "p1_ndcg10": result.report.models["champion"].metrics["NDCG@10"],
        "scoring_ms": {
            "p50": float(np.percentile(arr, 50)),
            "p95": float(np.percentile(arr, 95)),
            "p99": float(np.percentile(arr, 99)),
            "mean": float(arr.mean()),
            "calls": len(arr),
        },
    }
    table = Table(title="training pipeline and single-user scoring")
    table.add_column("what")
    table.add_column("value", justify="right")
    for k, v in stages.items():
        table.add_row(f"stage: {k}", f"{v:.1f} s")
    table.add_row("total", f"{total:.1f} s")
    for k in ("p50", "p95", "p99"):
        table.add_row(f"scoring {k}", f"{out['scoring_ms'][k]:.2f} ms")
    console.print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    console.print(f"wrote {args.json}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

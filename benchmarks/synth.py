"""Synthetic data benchmark: generation speed and the structure of what it generates.

Usage::

    python benchmarks/synth.py [--shape ml20m] [--fractions 0.01 0.1] [--seed 0]
        [--out-dir /tmp/recloop-synth] [--json benchmarks/results/synth_SHAPE.json]

For each fraction: ``recloop data synth``'s generator into ``--out-dir`` (wall time,
events/s, peak RSS of this process, bytes on disk), then the tables' statistics read
back: the item-popularity power-law exponent (least-squares slope of log count against
log rank over ranks 10..n/2), the share of events held by the top 1% / 10% of items, the
user-activity distribution (min, median, p90, p99, max; its tail exponent by the Hill
estimator over the top 10% of users), sessions (share of a user's consecutive events under
an hour apart), new items (share whose first event is in the second half of the time
span), repeat-free check, and the rating histogram. MovieLens-20M's published
counts are the ``ml20m`` shape's full size; ``--fraction`` scales users and events by F
and items by F^0.6.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.data.synth import generate
from recloop.data.synth_source import read_synth_dir
from recloop.data.synth_spec import make_spec

console = Console(width=140)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _popularity(items: np.ndarray) -> dict[str, float]:
    counts = np.sort(np.bincount(items))[::-1]
    counts = counts[counts > 0]
    ranks = np.arange(1, len(counts) + 1)
    sel = slice(9, max(10, len(counts) // 2))
    slope = np.polyfit(np.log(ranks[sel]), np.log(counts[sel]), 1)[0]
    total = counts.sum()
    return {"zipf_exponent": float(-slope), "items_with_events": len(counts),
            "top1pct_share": float(counts[: max(1, len(counts) // 100)].sum() / total),
            "top10pct_share": float(counts[: max(1, len(counts) // 10)].sum() / total)}  # fmt: skip


def _activity(users: np.ndarray) -> dict[str, float]:
    act = np.sort(np.bincount(users)[np.bincount(users) > 0])
    x_min = act[int(len(act) * 0.9)]
    logs = np.log(act[act > x_min] / x_min)
    hill = 1.0 / logs.mean() if len(logs) and logs.mean() > 0 else float("nan")  # tail index, top 10%
    q = np.quantile(act, [0.5, 0.9, 0.99])
    return {"min": int(act[0]), "median": float(q[0]), "p90": float(q[1]), "p99": float(q[2]),
            "max": int(act[-1]), "mean": float(act.mean()), "tail_exponent_hill": float(hill)}  # fmt: skip


def stats(out: Path) -> dict[str, Any]:
    """The generated tables' structure (see the module docstring)."""
    data = read_synth_dir(out)
    inter = data.interactions
    by_user = inter.sort_values(["user_id", "timestamp"], kind="stable")
    gaps = by_user.groupby("user_id")["timestamp"].diff().dropna().to_numpy()
    t = inter["timestamp"].to_numpy()
    first = inter.groupby("item_id")["timestamp"].min().to_numpy()
    ratings = inter["rating"].value_counts(normalize=True).sort_index()
    return {
        "popularity": _popularity(inter["item_id"].to_numpy()),
        "activity": _activity(inter["user_id"].to_numpy()),
        "sessions": {"gap_under_1h_share": float((gaps < 3600).mean()),
                     "gap_over_1d_share": float((gaps > 86_400).mean())},
        "new_items_second_half_share": float((first > (t.min() + t.max()) / 2).mean()),
        "repeats": int(inter.duplicated(["user_id", "item_id"]).sum()),
        "ratings": {str(k): float(v) for k, v in ratings.items()},
        "span_days": float((t.max() - t.min()) / 86_400),
    }  # fmt: skip


def run(shape: str, fraction: float, seed: int, out_dir: Path) -> dict[str, Any]:
    """Generate one dataset, time it, read back its statistics; the directory is removed."""
    spec = make_spec(shape, fraction, seed)
    out = out_dir / f"{shape}-{fraction}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    manifest = generate(spec, out)
    wall = time.perf_counter() - t0
    rss = _peak_rss_mb()
    disk = sum(p.stat().st_size for p in out.iterdir())
    t1 = time.perf_counter()
    found = stats(out)
    load_s = time.perf_counter() - t1
    shutil.rmtree(out, ignore_errors=True)
    n = manifest["counts"]["events"]
    return {"shape": shape, "fraction": fraction, "seed": seed, "counts": manifest["counts"],
            "generate_s": wall, "events_per_s": n / wall, "peak_rss_mb_after_generate": rss,
            "bytes_on_disk": disk, "bytes_per_event": disk / n, "load_and_stats_s": load_s,
            "stats": found}  # fmt: skip


def main() -> None:
    """Parse the options, run every fraction, print a table, write the JSON."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--shape", default="ml20m")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.01, 0.1])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", type=Path, default=Path("/tmp/recloop-synth"))
    parser.add_argument("--json", type=Path, default=None, help="default benchmarks/results/synth_SHAPE.json")
    args = parser.parse_args()
    args.json = args.json or Path(f"benchmarks/results/synth_{args.shape}.json")
    runs = [run(args.shape, f, args.seed, args.out_dir) for f in args.fractions]
    table = Table(title=f"recloop data synth --shape {args.shape}")
    for col in ("fraction", "events", "s", "events/s", "zipf", "top1%", "act median", "act max", "MB"):
        table.add_column(col, justify="right")
    for r in runs:
        s = r["stats"]
        table.add_row(f"{r['fraction']}", f"{r['counts']['events']:,}", f"{r['generate_s']:.1f}",
                      f"{r['events_per_s']:,.0f}", f"{s['popularity']['zipf_exponent']:.2f}",
                      f"{s['popularity']['top1pct_share']:.1%}", f"{s['activity']['median']:.0f}",
                      f"{s['activity']['max']:,}", f"{r['bytes_on_disk'] / 1e6:.1f}")  # fmt: skip
    console.print(table)
    payload = {"cores": os.cpu_count(), "runs": runs}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""A/A benchmark: false-positive rates of fixed-horizon, naive-peeking and mSPRT tests.

Usage::

    python benchmarks/experiments_aa.py --runs 500 --json results/aa.json --seed 0

Prints a table and writes ``{"runs", "fpr_fixed", "fpr_sequential_peeking",
"fpr_naive_peeking", "params", "wall_s"}``. Targets: fixed within
[0.03, 0.07], sequential <= 0.05, naive clearly above 0.1.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from recloop.experiments.aa import AAParams, run_aa
from recloop.experiments.stats import proportion_ci


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Run the A/A simulation from command-line arguments; return the JSON payload."""
    defaults = AAParams()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="simulated A/A experiments")
    parser.add_argument("--days", type=int, default=defaults.days, help="daily peeks per run")
    parser.add_argument("--users-per-day", type=float, default=defaults.users_per_day, help="both arms")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="write results here")
    args = parser.parse_args(argv)

    params = AAParams(runs=args.runs, days=args.days, users_per_day=args.users_per_day, seed=args.seed)
    start = time.perf_counter()
    result = run_aa(params)
    wall_s = time.perf_counter() - start

    payload: dict[str, object] = {
        "runs": params.runs,
        "fpr_fixed": result.fpr_fixed,
        "fpr_sequential_peeking": result.fpr_sequential_peeking,
        "fpr_naive_peeking": result.fpr_naive_peeking,
        "params": {**dataclasses.asdict(params), "tau": params.tau},
        "wall_s": wall_s,
    }
    rows = [
        ("fixed horizon z-test", 1, result.fixed_reject, "0.03-0.07"),
        (f"mSPRT (tau={params.tau:.4f})", params.days, result.sequential_reject, "<= 0.05"),
        ("naive z-test peeking", params.days, result.naive_reject, "> 0.1"),
    ]
    table = Table(title=f"A/A false-positive rates ({params.runs} runs, alpha={params.alpha})")
    for column in ("analysis", "looks", "FPR", "Wilson 95% CI", "target"):
        table.add_column(column)
    for name, looks, rejects, target in rows:
        summary = proportion_ci(int(rejects.sum()), params.runs)
        ci = f"[{summary.ci_low:.3f}, {summary.ci_high:.3f}]"
        table.add_row(name, str(looks), f"{summary.rate:.3f}", ci, target)
    console = Console()
    console.print(table)
    console.print(f"wall time {wall_s:.3f} s")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        console.print(f"wrote {args.json}")
    return payload


if __name__ == "__main__":
    main()

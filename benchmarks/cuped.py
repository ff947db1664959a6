"""CUPED: variance reduction of A/B differences with each user's pre-experiment activity, and A/A error.

Usage::

    python benchmarks/cuped.py [--runs 2000] [--users 4000] [--seed 0] [--json benchmarks/results/cuped.json]

Setting: ``benchmarks/simlists.py`` (P2 cut, static lists, click model 1/r^0.8,
ground truth = held-out futures). Users (the 301 post-cut users, drawn with
replacement, fresh clicks) are split 50/50; each sees one list of 10.
Metric per user: clicks on the list (``clicks``) and whether they clicked at
all (``ctr``). Covariate: ``log(1 + interactions before the cut)``, fixed
before the experiment. ``--runs`` A/A (champion vs champion) and A/B
(champion vs most-popular) experiments of ``--users`` users each, analysed
with Welch's test on the plain and on the CUPED-adjusted metric.
Variance reduction = ``1 - mean(se_cuped^2) / mean(se^2)`` over the A/A runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.experiments.cuped import cuped_sums
from recloop.experiments.listsim import Population
from recloop.experiments.simulator import ClickModel

DEFAULT_JSON = Path(__file__).parent / "results" / "cuped.json"
K = 10
console = Console()


def simulate(
    pop: Population, lists: tuple[np.ndarray, np.ndarray], runs: int, n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Per-user clicks, covariate and arm (runs, n) of experiments serving ``lists[arm]``."""
    users = rng.integers(0, pop.n_users, size=(runs, n))
    arm = rng.random((runs, n)) < 0.5
    e = ClickModel().examine(K)
    rel = np.stack([pop.relevant[np.arange(pop.n_users)[:, None], lst] for lst in lists])  # (2, U, K)
    clicks = (rel[arm.astype(int), users] & (rng.random((runs, n, K)) < e)).sum(-1).astype(np.float64)
    return {"clicks": clicks, "x": np.log1p(pop.pre_activity[users]), "arm": arm}


def analyse(sim: dict[str, np.ndarray], metric: str) -> dict[str, Any]:
    """Rejection rates (|z| > 1.96) and variance reduction of plain vs CUPED on one metric."""
    y = sim["clicks"] if metric == "clicks" else (sim["clicks"] > 0).astype(np.float64)
    s = cuped_sums(y, sim["x"], sim["arm"])
    return {
        "reject_plain": float((np.abs(s["diff"] / s["se"]) > 1.96).mean()),
        "reject_cuped": float((np.abs(s["diff_cuped"] / s["se_cuped"]) > 1.96).mean()),
        "variance_reduction": float(1.0 - np.mean(s["se_cuped"] ** 2) / np.mean(s["se"] ** 2)),
        "mean_diff": float(s["diff"].mean()),
        "mean_diff_cuped": float(s["diff_cuped"].mean()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table; write and return the JSON payload."""
    from simlists import load

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000)
    ap.add_argument("--users", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = ap.parse_args(argv)
    t0, rng = time.perf_counter(), np.random.default_rng(args.seed)
    pop = load()
    champ, popular = pop.champion[:, :K], pop.popular[:, :K]
    out: dict[str, Any] = {}
    for name, lists in (("aa", (champ, champ)), ("ab", (champ, popular))):
        sims = [simulate(pop, lists, 250, args.users, rng) for _ in range(max(1, args.runs // 250))]
        sim = {k: np.concatenate([s[k] for s in sims]) for k in sims[0]}
        out[name] = {m: analyse(sim, m) for m in ("clicks", "ctr")}
    payload: dict[str, Any] = {
        "variance_reduction": out["aa"]["clicks"]["variance_reduction"],
        "aa_fpr": out["aa"]["clicks"]["reject_cuped"],
        "aa_fpr_plain": out["aa"]["clicks"]["reject_plain"],
        "metric": "clicks per user (one list of 10)",
        "covariate": "log(1 + pre-cut interactions)",
        "covariate_corr": float(np.corrcoef(np.log1p(pop.pre_activity), pop.expected_clicks(champ))[0, 1]),
        "by_metric": out,
        "runs": (args.runs // 250) * 250,
        "users_per_experiment": args.users,
        "setting": {
            "protocol": "p2-cut simulation (static lists)",
            "population_users": pop.n_users,
            "k": K,
            "test": "Welch, two-sided, alpha 0.05",
            "seed": args.seed,
        },
        "wall_s": time.perf_counter() - t0,
    }
    table = Table(title=f"CUPED over {payload['runs']} experiments of {args.users} users")
    for col in (
        "metric",
        "variance reduction",
        "A/A FPR plain",
        "A/A FPR CUPED",
        "A/B power plain",
        "A/B power CUPED",
    ):
        table.add_column(col, justify="right")
    for m in ("clicks", "ctr"):
        a, b = out["aa"][m], out["ab"][m]
        table.add_row(
            m,
            f"{a['variance_reduction']:.3f}",
            f"{a['reject_plain']:.3f}",
            f"{a['reject_cuped']:.3f}",
            f"{b['reject_plain']:.3f}",
            f"{b['reject_cuped']:.3f}",
        )
    console.print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2))
    console.print(f"wrote {args.json}")
    return payload


if __name__ == "__main__":
    main()

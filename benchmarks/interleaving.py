"""Interleaving vs A/B: users needed to detect champion vs most-popular at 95% power; A/A error rates.

Usage::

    python benchmarks/interleaving.py [--runs 200] [--aa-runs 1000] [--seed 0]
        [--json benchmarks/results/interleaving.json]

Setting: ``benchmarks/simlists.py`` (champion fitted on the P2 bootstrap of
MovieLens-100K, most-popular over the same history; ground truth = each
user's held-out future; click model 1/r^0.8 examination, independent per slot;
vectorised simulator :mod:`recloop.experiments.listsim`). A simulated user is
one of the 301 post-cut users drawn with replacement, with fresh clicks; one
list of 10 per user.

* A/B: users split 50/50, metric = lists with a click (the engine's ``ctr``),
  two-sided two-proportion z-test at 0.05; detected = significant in the
  right direction (the arm with the higher true CTR).
* Interleaving: every user gets a team-draft merge of both rankers; per-user
  preference = sign(clicks of champion's team - popular's); exact sign test at 0.05.
* Power at each size from ``--runs`` experiments; users to detect = the
  smallest size with power >= 0.95 (linear interpolation on the grid).
* A/A interleaving (champion vs champion): fixed-horizon sign test at 1,000
  users over ``--aa-runs`` runs, and the always-valid mSPRT looked at every
  50 users up to 2,000 (40 looks), stopped at the first p < 0.05.
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

from recloop.experiments.interleaving import SequentialPreference, sign_test
from recloop.experiments.listsim import InterleavingBank, Population, interleaving_bank
from recloop.experiments.simulator import ClickModel
from recloop.experiments.stats import pooled_z_p_value

DEFAULT_JSON = Path(__file__).parent / "results" / "interleaving.json"
AB_GRID = [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 10000, 12000, 15000, 20000]
IL_GRID = [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1500, 2000]
K = 10
console = Console()


def ab_power(pop: Population, n: int, runs: int, rng: np.random.Generator) -> float:
    """Share of ``runs`` A/B experiments of ``n`` users finding the right winner."""
    p = np.stack([pop.click_prob(pop.champion[:, :K]), pop.click_prob(pop.popular[:, :K])])
    right_sign = 1.0 if p[0].mean() > p[1].mean() else -1.0
    users = rng.integers(0, pop.n_users, size=(runs, n))
    arm = rng.random((runs, n)) < 0.5  # True: popular (b)
    clicked = rng.random((runs, n)) < p[arm.astype(int), users]
    n_b, s_b = arm.sum(1), (clicked & arm).sum(1)
    n_a, s_a = n - n_b, (clicked & ~arm).sum(1)
    pv = pooled_z_p_value(s_a, n_a, s_b, n_b)
    sign = np.sign(s_a / n_a - s_b / n_b)
    return float(((pv < 0.05) & (sign == right_sign)).mean())


def preferences(
    pop: Population, bank: InterleavingBank, runs: int, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Per-user preferences (runs, n) for ranker b over a: +1, 0, -1 (chunked to bound memory)."""
    e = ClickModel().examine(K)
    out = np.empty((runs, n), dtype=np.int8)
    step = max(1, 2_000_000 // (n * K))
    for lo in range(0, runs, step):
        r = min(step, runs - lo)
        u = rng.integers(0, pop.n_users, size=(r, n))
        s = rng.integers(0, bank.items.shape[1], size=(r, n))
        items, teams = bank.items[u, s], bank.teams[u, s]
        click = pop.relevant[u[..., None], items] & (rng.random((r, n, K)) < e)
        cb = (click & (teams == 1)).sum(-1)
        ca = (click & (teams == 0)).sum(-1)
        out[lo : lo + r] = np.sign(cb - ca)
    return out


def il_power(pop: Population, bank: InterleavingBank, n: int, runs: int, rng: np.random.Generator) -> float:
    """Share of ``runs`` interleaving experiments of ``n`` users preferring the champion (team a)."""
    x = preferences(pop, bank, runs, n, rng)
    wins_b, wins_a = (x > 0).sum(1), (x < 0).sum(1)
    return float(((sign_test(wins_b, wins_a) < 0.05) & (wins_a > wins_b)).mean())


def users_at(grid: list[int], power: list[float], target: float = 0.95) -> float | None:
    """Smallest size reaching ``target`` power, interpolated linearly between grid points."""
    for i, pw in enumerate(power):
        if pw >= target:
            if i == 0:
                return float(grid[0])
            x0, x1, y0, y1 = grid[i - 1], grid[i], power[i - 1], pw
            return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))
    return None


def aa(pop: Population, runs: int, rng: np.random.Generator) -> dict[str, Any]:
    """A/A interleaving false-positive rates: fixed horizon (1,000 users) and sequential with peeking."""
    bank = interleaving_bank(pop.champion, pop.champion, K)
    fixed = preferences(pop, bank, runs, 1000, rng).astype(np.float64)
    fpr = float((sign_test((fixed > 0).sum(1), (fixed < 0).sum(1)) < 0.05).mean())
    horizon, looks = 2000, np.arange(50, 2001, 50)
    x = preferences(pop, bank, runs, horizon, rng).astype(np.float64)
    cs, cs2 = np.cumsum(x, axis=1)[:, looks - 1], np.cumsum(x * x, axis=1)[:, looks - 1]
    seq = SequentialPreference(planned_users=horizon, planned_var=float(x.var()))
    p = seq.look_p(looks[None, :], cs, cs2)
    return {
        "aa_fpr_interleaving": fpr,
        "aa_fpr_interleaving_sequential": float((p.min(1) < 0.05).mean()),
        "aa_fixed_users": 1000,
        "aa_sequential_looks": len(looks),
        "aa_sequential_horizon": horizon,
        "aa_tie_share": float((fixed == 0).mean()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table; write and return the JSON payload."""
    from simlists import load  # the sibling module (benchmarks/ is not a package)

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--aa-runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = ap.parse_args(argv)
    t0, rng = time.perf_counter(), np.random.default_rng(args.seed)
    pop = load()
    bank = interleaving_bank(pop.champion, pop.popular, K)
    ab = [ab_power(pop, n, args.runs, rng) for n in AB_GRID]
    il = [il_power(pop, bank, n, args.runs, rng) for n in IL_GRID]
    n_ab, n_il = users_at(AB_GRID, ab), users_at(IL_GRID, il)
    payload: dict[str, Any] = {
        "runs": args.runs,
        "users_to_detect_ab": n_ab,
        "users_to_detect_interleaving": n_il,
        "ratio_ab_over_interleaving": n_ab / n_il if n_ab and n_il else None,
        **aa(pop, args.aa_runs, rng),
        "aa_runs": args.aa_runs,
        "true_ctr": {
            "champion": float(pop.click_prob(pop.champion[:, :K]).mean()),
            "popular": float(pop.click_prob(pop.popular[:, :K]).mean()),
        },
        "power_ab": dict(zip(map(str, AB_GRID), ab, strict=True)),
        "power_interleaving": dict(zip(map(str, IL_GRID), il, strict=True)),
        "setting": {
            "protocol": "p2-cut simulation (static lists)",
            "population_users": pop.n_users,
            "k": K,
            "click_model": "examine rank r with 1/r^0.8; click iff examined and in future",
            "alpha": 0.05,
            "power_target": 0.95,
            "seed": args.seed,
        },
        "wall_s": time.perf_counter() - t0,
    }
    table = Table(title=f"champion vs most-popular, {args.runs} experiments per size")
    for col in ("design", "users for 95% power", "A/A FPR (fixed)", "A/A FPR (sequential, 40 looks)"):
        table.add_column(col, justify="right")
    table.add_row("A/B (ctr)", f"{n_ab:,.0f}" if n_ab else "> grid", "-", "-")
    table.add_row(
        "interleaving",
        f"{n_il:,.0f}" if n_il else "> grid",
        f"{payload['aa_fpr_interleaving']:.3f}",
        f"{payload['aa_fpr_interleaving_sequential']:.3f}",
    )
    console.print(table)
    console.print(f"ratio A/B / interleaving: {payload['ratio_ab_over_interleaving']}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2))
    console.print(f"wrote {args.json}")
    return payload


if __name__ == "__main__":
    main()

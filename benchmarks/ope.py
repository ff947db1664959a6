"""Off-policy evaluation: IPS, SNIPS and DR estimates of candidate policies vs their true online value.

Usage::

    python benchmarks/ope.py [--lists 50000] [--reps 100] [--epsilon 0.3] [--pool 30] [--seed 0]
        [--json benchmarks/results/ope.json]

Setting: ``benchmarks/simlists.py`` (P2 cut, static lists, click model 1/r^0.8,
independent per slot, ground truth = held-out futures). Logging policy: the
champion with epsilon exploration (:mod:`recloop.experiments.exploration`: with
probability ``epsilon`` a uniformly random ordered 10 of its top ``pool``), exact
marginal propensities logged per slot. Value = expected clicks per list of 10.

Candidates (deterministic top-10 per user): the champion without exploration;
its top-10 in reverse order; its top-20 in a fixed per-user random order; its
ranks 11-20; a uniformly random 10 of its top ``pool`` (fixed per user); and
most-popular, which puts ~20% of its slots on items the logging policy never
shows (no estimator that reweights can see them: reported, flagged by
``unsupported_slots``, and left out of the ranking check). True value: exact
expected clicks per list averaged over the 301 users (what the policy gets
online in the same simulator). Each of ``--reps`` logs has ``--lists`` lists
(users drawn with replacement). DR's reward model is the per-item CTR model
(:class:`~recloop.experiments.ope.PositionItemCTR`), 2-fold cross-fitted.
Reported per policy: the first log's estimates and DR CI, and over all logs
the mean absolute error, 95% CI coverage, and how often DR ranks the
policies exactly as their true values do.
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

from recloop.experiments.exploration import epsilon_marginals
from recloop.experiments.listsim import Population
from recloop.experiments.ope import Estimate, PositionItemCTR, dr, ips, snips
from recloop.experiments.simulator import ClickModel

DEFAULT_JSON = Path(__file__).parent / "results" / "ope.json"
K = 10
console = Console()


def candidates(pop: Population, seed: int, pool: int) -> dict[str, np.ndarray]:
    """Deterministic candidate policies: (U, K) item ids per user (``popular`` last: outside the support)."""
    rng = np.random.default_rng(seed)
    u = np.arange(pop.n_users)[:, None]
    shuffled = np.argsort(rng.random((pop.n_users, 20)), axis=1)[:, :K]
    rand = np.argsort(rng.random((pop.n_users, pool)), axis=1)[:, :K]
    return {
        "champion": pop.champion[:, :K],
        "champion-reversed": pop.champion[:, K - 1 :: -1],
        "shuffled-top20": pop.champion[u, shuffled],
        "champion-ranks-11-20": pop.champion[:, K : 2 * K],
        f"random-of-top{pool}": pop.champion[u, rand],
        "popular": pop.popular[:, :K],
    }


def log_lists(
    pop: Population, n: int, eps: float, pool: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """One log of ``n`` lists served by the exploring champion: users, items, propensities, clicks."""
    users = rng.integers(0, pop.n_users, size=n)
    explore = rng.random(n) < eps
    perm = np.argsort(rng.random((n, pool)), axis=1)[:, :K]
    ranks = np.where(explore[:, None], perm, np.arange(K)[None, :])
    items = pop.champion[users[:, None], ranks]
    prop = epsilon_marginals(ranks, np.arange(K)[None, :], eps, pool)
    clicks = (pop.rel(users, items) & (rng.random((n, K)) < ClickModel().examine(K))).astype(np.float64)
    return {"users": users, "items": items, "prop": prop, "clicks": clicks}


def estimate(pop: Population, log: dict[str, np.ndarray], target: np.ndarray) -> dict[str, Estimate]:
    """IPS, SNIPS and cross-fitted DR of ``target`` (U, K) on one log."""
    t = target[log["users"]]
    tp = (t == log["items"]).astype(np.float64)
    n = len(log["users"])
    q_logged, q_target = np.zeros((n, K)), np.zeros(n)
    halves = np.arange(n) % 2 == 0
    for fit in (halves, ~halves):
        m = PositionItemCTR(pop.relevant.shape[1]).fit(log["items"][fit], log["clicks"][fit])
        q_logged[~fit] = np.clip(m.predict(log["items"][~fit]), 0, 1)
        q_target[~fit] = np.clip(m.predict(t[~fit]), 0, 1).sum(1)
    c, p = log["clicks"], log["prop"]
    return {"ips": ips(c, tp, p), "snips": snips(c, tp, p), "dr": dr(c, tp, p, q_logged, q_target)}


def support(log: dict[str, np.ndarray], target: np.ndarray, pool: int, champion: np.ndarray) -> float:
    """Share of the target's slots whose item is outside the logging pool (propensity 0)."""
    t = target[log["users"]]
    inside = (t[:, :, None] == champion[log["users"]][:, None, :pool]).any(-1)
    return float(1.0 - inside.mean())


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table; write and return the JSON payload."""
    from simlists import load

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--lists", type=int, default=50000)
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--epsilon", type=float, default=0.3)
    ap.add_argument("--pool", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = ap.parse_args(argv)
    t0, rng = time.perf_counter(), np.random.default_rng(args.seed)
    pop = load()
    pols = candidates(pop, args.seed, args.pool)
    truth = {k: float(pop.expected_clicks(v).mean()) for k, v in pols.items()}
    order = sorted(truth, key=truth.__getitem__)
    est: dict[str, dict[str, list[Estimate]]] = {k: {"ips": [], "snips": [], "dr": []} for k in pols}
    logged_value, ranking_hits, unsupported = [], 0, {k: 0.0 for k in pols}
    for rep in range(args.reps):
        log = log_lists(pop, args.lists, args.epsilon, args.pool, rng)
        logged_value.append(float(log["clicks"].sum(1).mean()))
        for k, v in pols.items():
            for name, e in estimate(pop, log, v).items():
                est[k][name].append(e)
            if rep == 0:
                unsupported[k] = support(log, v, args.pool, pop.champion)
        dr_vals = {k: est[k]["dr"][-1].value for k in pols if unsupported[k] == 0.0}
        ranking_hits += sorted(dr_vals, key=dr_vals.__getitem__) == [k for k in order if k in dr_vals]
    payload = summary(args, truth, est, logged_value, ranking_hits, unsupported, pop)
    payload["wall_s"] = time.perf_counter() - t0
    report(payload)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2))
    console.print(f"wrote {args.json}")
    return payload


def summary(
    args: argparse.Namespace,
    truth: dict[str, float],
    est: dict[str, dict[str, list[Estimate]]],
    logged: list[float],
    ranking_hits: int,
    unsupported: dict[str, float],
    pop: Population,
) -> dict[str, Any]:
    """The JSON payload (first log's figures per policy, and error / coverage over all logs)."""
    policies = []
    for k, tv in truth.items():
        e = est[k]
        row: dict[str, Any] = {"name": k, "true_ctr": tv, "unsupported_slots": unsupported[k]}
        for name in ("ips", "snips", "dr"):
            row[name] = e[name][0].value
            row[f"{name}_ci"] = list(e[name][0].ci)
            row[f"{name}_mae"] = float(np.mean([abs(x.value - tv) for x in e[name]]))
            row[f"{name}_coverage"] = float(np.mean([x.covers(tv) for x in e[name]]))
        row["dr_ci_covers"] = e["dr"][0].covers(tv)
        policies.append(row)
    ok = [p for p in policies if p["unsupported_slots"] == 0.0]
    by_dr = [p["name"] for p in sorted(ok, key=lambda p: p["dr"])]
    by_all = [p["name"] for p in sorted(policies, key=lambda p: p["dr"])]
    return {
        "policies": policies,
        "ranking_correct": by_dr == [p["name"] for p in sorted(ok, key=lambda p: p["true_ctr"])],
        "ranking_correct_share": ranking_hits / args.reps,
        "ranking_correct_including_unsupported": by_all == sorted(truth, key=truth.__getitem__),
        "ranking_scope": "policies the logging policy supports (unsupported_slots = 0); DR estimates",
        "logged_policy": {
            "name": f"champion + epsilon {args.epsilon} over top {args.pool}",
            "actual_ctr": logged[0],
            "actual_ctr_mean_over_logs": float(np.mean(logged)),
        },
        "metric": "expected clicks per list of 10 (ctr per list)",
        "setting": {
            "protocol": "p2-cut simulation (static lists)",
            "population_users": pop.n_users,
            "lists_per_log": args.lists,
            "logs": args.reps,
            "epsilon": args.epsilon,
            "pool": args.pool,
            "k": K,
            "reward_model": "per-item CTR x position (2-fold cross-fit)",
            "seed": args.seed,
        },
    }


def report(p: dict[str, Any]) -> None:
    """Print the per-policy table."""
    table = Table(
        title=f"OPE on logs of {p['logged_policy']['name']} (actual {p['logged_policy']['actual_ctr']:.3f})"
    )
    for col in (
        "policy",
        "true",
        "IPS",
        "SNIPS",
        "DR [95% CI]",
        "DR MAE",
        "DR cover",
        "IPS cover",
        "unsupported",
    ):
        table.add_column(col, justify="right")
    for r in p["policies"]:
        table.add_row(
            r["name"],
            f"{r['true_ctr']:.3f}",
            f"{r['ips']:.3f}",
            f"{r['snips']:.3f}",
            f"{r['dr']:.3f} [{r['dr_ci'][0]:.3f}, {r['dr_ci'][1]:.3f}]",
            f"{r['dr_mae']:.3f}",
            f"{r['dr_coverage']:.2f}",
            f"{r['ips_coverage']:.2f}",
            f"{r['unsupported_slots']:.2f}",
        )
    console.print(table)
    console.print(
        f"ranking correct: {p['ranking_correct']} (share over logs {p['ranking_correct_share']:.2f})"
    )


if __name__ == "__main__":
    main()

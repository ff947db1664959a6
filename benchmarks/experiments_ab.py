"""A/B benchmark: how fast the sequential test finds champion vs most-popular on simulated users.

Usage::

    python benchmarks/experiments_ab.py [--runs 20] [--aa-runs 10] [--requests-per-user 3]
        [--max-queries 5000] [--seed 0] [--json benchmarks/results/experiments_ab.json]

Setting: the P2 cut of shared/EVALUATION.md. The two-stage model is trained
(in process, ``fit_two_stage``) on the first 80% of MovieLens-100K in time
order; the service is built over that bootstrap exactly as
``RECLOOP_BASE_FRACTION=0.8 recloop serve`` builds it (``service_session``:
the Recommender with an embedded feature store, per-event fold-in).
The simulated population is every user active after the cut, with their
post-cut interactions and ratings as ground truth; the click model is
:mod:`recloop.experiments.simulator` (examine rank r with 1/r^0.8, click a
future item, rate it with the held-out rating). No HTTP: lists come from
:func:`recloop.experiments.serving.recommend_with_experiment` and events go
through ``service.ingest`` then ``attribute_events``, which is what the API
routes call.

1. Counterfactual truth: every user served by the champion, then every user
   served by most-popular (fresh services): the CTR each variant would have
   over the whole population. The right winner is the one with the higher CTR.
2. ``--runs`` A/B experiments (A = champion = control, B = popular, 50/50,
   primary metric ``ctr`` = lists with a click), each on a fresh service and
   store, with its own salt, user order and click seed. Results are looked at
   after every user; the first look with ``decision = winner:*`` is the
   stopping point. Reported: how often the right winner was declared, after
   how many users / lists, and the final rates with Wilson CIs, lift, p-values,
   sequential p-value, SRM status.
3. ``--aa-runs`` A/A experiments (champion vs champion): every declared
   winner is a false positive.

Writes JSON (and a PNG of the sequential p-value paths next to it).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from recloop.config import Settings, get_settings
from recloop.data import Dataset, load_dataset
from recloop.evaluation.splits import prequential_split
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.models import ExperimentSpec, Variant
from recloop.experiments.simulator import InProcessClient, SimUser, future_population, pick_users, simulate
from recloop.experiments.sqlite_store import SQLiteExperimentStore
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import TwoStageConfig
from recloop.serving.recommender import Recommender, ServedModel
from recloop.serving.replay import ServiceSession, service_session

DEFAULT_JSON = Path(__file__).parent / "results" / "experiments_ab.json"
CLICK_MODEL = "P(examine rank r) = 1 / r^0.8; click (then rate) iff examined and in the user's future"
console = Console()


@dataclass
class BenchRuntime:
    """What the serving helpers need (the fields of recloop.serving.runtime.Runtime they read)."""

    settings: Settings
    dataset: Dataset
    service: Recommender


class Bench:
    """The trained model, the data and a factory of fresh services over the P2 bootstrap."""

    def __init__(self, settings: Settings, max_queries: int) -> None:
        self.settings = settings
        self.data = load_dataset(settings)
        self.boot, _ = prequential_split(self.data.interactions)
        self.population = future_population(self.data, 0.8)
        self.cfg = TwoStageConfig(max_queries=max_queries)
        t0 = time.perf_counter()
        with console.status("fitting the two-stage model on the P2 bootstrap (80%)"):
            model, _, self.facts = fit_two_stage(self.data, self.boot, settings, self.cfg)
        self.fit_s = time.perf_counter() - t0
        self.served = ServedModel(model, "p2-bootstrap")

    def session(self) -> tuple[ServiceSession, BenchRuntime]:
        s = service_session(self.data, self.boot, self.served, self.cfg.half_life_days)
        return s, BenchRuntime(self.settings, self.data, s.service)


def progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)  # fmt: skip


def counterfactual(
    bench: Bench, variant: Variant, users: list[SimUser], rpu: int, seed: int
) -> dict[str, Any]:
    """CTR if every user were served ``variant``."""
    session, runtime = bench.session()
    try:
        report = simulate(InProcessClient(runtime, variant=variant), users, requests_per_user=rpu, seed=seed,
                          run_id="truth")  # fmt: skip
    finally:
        session.close()
    t = report.variants[variant.name]
    return {"ctr": t.ctr, "lists": t.requests, "clicked_lists": t.clicked_lists, "clicks": t.clicks,
            "wall_s": report.wall_s}  # fmt: skip


def experiment_run(
    bench: Bench, variants: tuple[Variant, Variant], run: int, seed: int, rpu: int, baseline: float,
    advance: Any,
) -> dict[str, Any]:  # fmt: skip
    """One experiment over the whole population, looked at after every user."""
    session, runtime = bench.session()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteExperimentStore(Path(tmp) / "experiments.db")
        engine = ExperimentEngine(store, seed=seed, cache_s=60.0)
        lists_per_arm = max(10, len(bench.population) * rpu // 2)
        exp = engine.create(ExperimentSpec(name=f"bench-{run}", variants=variants, primary_metric="ctr",
                                           salt=f"bench-{seed}", planned_exposures=lists_per_arm,
                                           baseline_rate=baseline))  # fmt: skip
        path: list[tuple[int, int, float]] = []
        first: dict[str, Any] = {}

        def look(n: int, _: SimUser) -> None:
            res = engine.look(exp.id)
            lists = sum(v["exposures"] for v in res["variants"])
            path.append((n, lists, res["sequential"]["p_value"]))
            if not first and res["decision"].startswith("winner:"):
                first.update(users=n, lists=lists, decision=res["decision"], results=res)
            advance(1)

        users = pick_users(bench.population, None, seed)
        try:
            report = simulate(InProcessClient(runtime, engine), users, requests_per_user=rpu, seed=seed,
                              run_id=f"run{run}", on_user=look)  # fmt: skip
            final = engine.look(exp.id)
        finally:
            store.close()
            session.close()
    return {"run": run, "seed": seed, "first_decision": first or None, "final": final,
            "path": path, "simulation": report.to_dict()}  # fmt: skip


def summarise(runs: list[dict[str, Any]], right: str) -> dict[str, Any]:
    """Power, users to decision, final figures averaged over runs."""
    decided = [r["first_decision"] for r in runs if r["first_decision"]]
    correct = [d for d in decided if d["decision"] == right]
    users = [d["users"] for d in correct]
    lists = [d["lists"] for d in correct]
    finals = [r["final"] for r in runs]

    def q(xs: list[int], p: float) -> float | None:
        return float(np.percentile(xs, p)) if xs else None

    return {
        "runs": len(runs), "declared": len(decided), "right_winner": right,
        "power": len(correct) / len(runs), "wrong_winner": len(decided) - len(correct),
        "users_to_decision": {"median": q(users, 50), "p25": q(users, 25), "p75": q(users, 75),
                              "max": max(users) if users else None},
        "lists_to_decision": {"median": q(lists, 50), "p25": q(lists, 25), "p75": q(lists, 75)},
        "final_decisions": {d: sum(f["decision"] == d for f in finals)
                            for d in sorted({f["decision"] for f in finals})},
        "srm_mismatches": sum(f["srm"]["mismatch"] for f in finals),
        "median_final_srm_p": statistics.median(f["srm"]["p_value"] or 1.0 for f in finals),
        "median_final_p_value": statistics.median(f["p_value"] or 1.0 for f in finals),
        "median_final_sequential_p": statistics.median(f["sequential"]["p_value"] for f in finals),
    }  # fmt: skip


def plot(runs: list[dict[str, Any]], aa: list[dict[str, Any]], alpha: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for group, color, label in ((runs, "tab:blue", "A/B champion vs popular"), (aa, "tab:gray", "A/A")):
        for k, r in enumerate(group):
            n, _, p = zip(*r["path"], strict=True)
            ax.plot(n, p, color=color, alpha=0.5, lw=1, label=label if k == 0 else None)
    ax.axhline(alpha, color="tab:red", ls="--", lw=1, label=f"alpha = {alpha}")
    ax.set(yscale="log", xlabel="simulated users", ylabel="always-valid p-value (mSPRT)",
           title="Sequential test on simulated MovieLens users (P2 cut)")  # fmt: skip
    lowest = min((p for r in runs + aa for _, _, p in r["path"]), default=alpha)
    ax.set_ylim(max(1e-12, min(lowest, alpha) / 3), 1.5)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark from command-line arguments; return the JSON payload."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="A/B experiments")
    parser.add_argument("--aa-runs", type=int, default=10, help="A/A experiments (false positives)")
    parser.add_argument("--requests-per-user", type=int, default=3)
    parser.add_argument("--max-queries", type=int, default=5000, help="ranker training queries")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    rpu, t_start = args.requests_per_user, time.perf_counter()

    bench = Bench(get_settings(), args.max_queries)
    champion, popular = Variant(name="A", model="champion"), Variant(name="B", model="popular")
    everyone = pick_users(bench.population, None, args.seed)
    truth = {v.name: counterfactual(bench, v, everyone, rpu, args.seed) for v in (champion, popular)}
    right = "winner:A" if truth["A"]["ctr"] > truth["B"]["ctr"] else "winner:B"

    n_users = len(bench.population)
    with progress() as prog:
        task = prog.add_task("A/B runs (users)", total=args.runs * n_users)
        ab = [experiment_run(bench, (champion, popular), r, args.seed + r, rpu, truth["A"]["ctr"],
                             lambda n: prog.advance(task, n)) for r in range(args.runs)]  # fmt: skip
        task = prog.add_task("A/A runs (users)", total=args.aa_runs * n_users)
        twin = Variant(name="A2", model="champion")
        aa = [experiment_run(bench, (champion, twin), r, 1000 + args.seed + r, rpu, truth["A"]["ctr"],
                             lambda n: prog.advance(task, n)) for r in range(args.aa_runs)]  # fmt: skip

    payload: dict[str, Any] = {
        "protocol": "p2-cut simulation", "data_source": bench.data.source,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "config": {"runs": args.runs, "aa_runs": args.aa_runs, "requests_per_user": rpu, "k": 10,
                   "click_model": CLICK_MODEL,
                   "users": n_users, "alpha": 0.05, "max_queries": args.max_queries, "seed": args.seed,
                   "fit_s": bench.fit_s, "fit_facts": bench.facts},
        "counterfactual": truth,
        "ab": summarise(ab, right),
        "aa": {"runs": len(aa), "false_winners": sum(r["first_decision"] is not None for r in aa),
               "srm_mismatches": sum(r["final"]["srm"]["mismatch"] for r in aa)},
        "example_run": {k: v for k, v in ab[0].items() if k != "path"} if ab else None,
        "runs": [{"run": r["run"], "first_decision": None if not r["first_decision"] else
                  {k: r["first_decision"][k] for k in ("users", "lists", "decision")},
                  "final": r["final"]} for r in ab],
        "wall_s": time.perf_counter() - t_start,
    }  # fmt: skip
    report(payload)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2))
    plot(ab, aa, 0.05, args.json.with_suffix(".png"))
    console.print(f"wrote {args.json} and {args.json.with_suffix('.png')}")
    return payload


def report(p: dict[str, Any]) -> None:
    t = p["counterfactual"]
    table = Table(title=f"counterfactual CTR over {p['config']['users']} users (lists with a click)")
    for col in ("variant", "lists", "clicked lists", "CTR"):
        table.add_column(col, justify="right")
    for name, model in (("A", "champion"), ("B", "popular")):
        table.add_row(f"{name} ({model})", str(t[name]["lists"]), str(t[name]["clicked_lists"]),
                      f"{t[name]['ctr']:.4f}")  # fmt: skip
    console.print(table)
    ab = p["ab"]
    table = Table(title=f"A/B: {ab['runs']} runs, right winner {ab['right_winner']}")
    for col in ("power", "wrong", "users to decision (median [p25, p75])", "lists to decision (median)",
                "final decisions", "SRM alerts", "A/A false winners"):  # fmt: skip
        table.add_column(col, justify="right")
    u = ab["users_to_decision"]
    table.add_row(f"{ab['power']:.2f}", str(ab["wrong_winner"]), f"{u['median']} [{u['p25']}, {u['p75']}]",
                  str(ab["lists_to_decision"]["median"]), json.dumps(ab["final_decisions"]),
                  str(ab["srm_mismatches"]), f"{p['aa']['false_winners']}/{p['aa']['runs']}")  # fmt: skip
    console.print(table)
    ex = p["example_run"]
    if ex and ex["first_decision"]:
        from recloop.cli.experiments import results_table

        console.print(f"run 0 at its first decision ({ex['first_decision']['users']} users):")
        console.print(results_table(ex["first_decision"]["results"]))


if __name__ == "__main__":
    main()

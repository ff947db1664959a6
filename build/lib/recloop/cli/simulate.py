"""``recloop simulate``: simulated MovieLens users against a running server (see the help)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from recloop.cli.experiments import DEFAULT_URL, results_table
from recloop.cli.output import console, err_console, fail, guarded, progress_bar
from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation.splits import prequential_split

__all__ = ["simulate"]

BASE_FRACTION = 0.8


def _check_server_base(client: Any, data: Any, users: list[Any]) -> None:
    """Fail if the server's base history already holds a simulated user's future."""
    boot, _ = prequential_split(data.interactions, BASE_FRACTION)
    counts = boot["user_id"].astype(str).value_counts()
    for user in users:
        expected = int(counts.get(user.user_id, 0))
        if expected + len(user.future) > 150:  # /v1/users shows at most 200 history rows
            continue
        served = client.get(f"/v1/users/{user.user_id}")
        base_rows = sum(1 for h in served["history"] if h["type"] == "rate")
        if base_rows > expected:
            fail(f"the server's base history of user {user.user_id} has {base_rows} interactions, "
                 f"the P2 bootstrap only {expected}: it already knows the future. Restart it with "
                 "`RECLOOP_BASE_FRACTION=0.8 recloop serve` (and a model trained that way).")  # fmt: skip
        return


def _report_table(report: Any, title: str) -> Table:
    """Users, requests, clicks and CTR per variant."""
    table = Table(title=title)
    for col in ("variant", "users", "requests", "clicks", "CTR (lists with a click)"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for name, t in sorted(report.variants.items()):
        table.add_row(name, f"{len(t.users):,}", f"{t.requests:,}", f"{t.clicks:,}", f"{t.ctr:.4f}")
    table.caption = f"{report.users} users, {report.requests} requests, {report.wall_s:.1f} s"
    return table


def simulate(
    url: Annotated[str, typer.Option(help="base URL of a running recloop serve", envvar="RECLOOP_URL")] = (
        DEFAULT_URL
    ),
    users: Annotated[int | None, typer.Option(help="simulated users (default: all ~300)")] = None,
    seed: Annotated[int, typer.Option(help="seed of the user order and the clicks")] = 0,
    experiment: Annotated[str | None, typer.Option(help="id of the running experiment to check")] = None,
    k: Annotated[int, typer.Option(help="list length asked for")] = 10,
    requests: Annotated[int, typer.Option(help="lists per user (feedback posted in between)")] = 3,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write a JSON summary here")] = None,
) -> None:
    """Drive a running server with simulated MovieLens users; print CTR per variant.

    The server must be started with RECLOOP_BASE_FRACTION=0.8 (the P2
    bootstrap: the first 80% of MovieLens in time order) so that it has not
    seen what the simulated users will do. Each simulated user is a real
    MovieLens user active after that cut; their post-cut interactions and
    ratings are the ground truth. For every list (GET .../recommendations?k=10)
    rank r is examined with probability 1/r^0.8; an examined item from the
    user's future is clicked and rated with the held-out rating, both POSTed
    with the list's request_id before the next list. Seeded and repeatable
    (event ids are deterministic, so rerunning a seed against the same
    server posts duplicates: use a new --seed or restart the server).
    """
    from recloop.experiments.simulator import HttpRecClient, future_population, pick_users
    from recloop.experiments.simulator import simulate as run_simulation

    client = guarded(lambda: HttpRecClient(url))
    try:
        if experiment is not None:
            known = {e["id"]: e for e in guarded(lambda: client.get("/v1/experiments"))["experiments"]}
            if experiment not in known:
                fail(f"no experiment {experiment!r} on {url}; see `recloop experiments list`")
            if known[experiment]["status"] != "running":
                fail(f"experiment {experiment} is stopped; create a new one to simulate traffic")
        data = guarded(lambda: load_dataset(get_settings()))
        population = future_population(data, BASE_FRACTION)
        if users is not None and users > len(population):
            err_console.print(f"only {len(population)} users are active after the cut; simulating all")
        picked = pick_users(population, users, seed)
        _check_server_base(client, data, picked)
        with progress_bar("simulated users", len(picked)) as advance:
            report = guarded(lambda: run_simulation(
                client, picked, k=k, requests_per_user=requests, seed=seed,
                run_id=f"sim-{experiment or 'none'}", on_user=lambda n, u: advance(1)))  # fmt: skip
        console.print(_report_table(report, f"simulated traffic against {url} "
                                            f"(model {client.model_version}, seed {seed})"))  # fmt: skip
        out: dict[str, Any] = {"url": url, "seed": seed, "experiment": experiment, **report.to_dict()}
        if experiment is not None:
            if set(report.variants) == {"-"}:
                err_console.print("the server reported no variant: is the experiment wired into "
                                  "GET /v1/users/{id}/recommendations?")  # fmt: skip
            out["results"] = guarded(lambda: client.get(f"/v1/experiments/{experiment}/results"))
            console.print(results_table(out["results"]))
        if json_path is not None:
            json_path.write_text(json.dumps(out, indent=2))
    finally:
        client.close()

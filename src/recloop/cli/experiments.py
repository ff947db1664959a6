"""``recloop experiments create|list|stop|results``: experiments on a running server, over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from recloop.cli.output import command_group, console, guarded
from recloop.client import DEFAULT_URL, RecloopClient

__all__ = ["DEFAULT_URL", "app", "parse_variant", "results_table"]

app = command_group("Online experiments (A/B or bandit) on a running `recloop serve`.")

Url = Annotated[str, typer.Option(help="base URL of a running recloop serve", envvar="RECLOOP_URL")]
AdminKey = Annotated[
    str | None,
    typer.Option("--admin-key", envvar="RECLOOP_ADMIN_API_KEY", help="the server's RECLOOP_ADMIN_API_KEY"),
]
_VARIANT_HELP = (
    "NAME=MODEL[:WEIGHT], repeated; the first is the control; "
    "MODEL: champion, challenger, popular or a version"
)


def parse_variant(text: str) -> dict[str, Any]:
    """``NAME=MODEL[:WEIGHT]`` (e.g. ``B=4:0.5``) -> a variant object of the API."""
    name, sep, rest = text.partition("=")
    model, _, weight = rest.partition(":")
    if not sep or not name or not model:
        raise typer.BadParameter(f"{text!r}: use NAME=MODEL[:WEIGHT], e.g. A=champion or B=4:0.5")
    try:
        return {"name": name, "model": model, "weight": float(weight) if weight else 1.0}
    except ValueError:
        raise typer.BadParameter(f"{text!r}: the weight {weight!r} is not a number") from None


def _fmt(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


def results_table(res: dict[str, Any]) -> Table:
    """The ``Results`` payload as a rich table, the tests' figures in its caption."""
    table = Table(title=f"experiment {res['id']} ({res['name']}, {res['status']})")
    for col in ("variant", "model", "exposures", "successes", "rate", "95% CI"):
        table.add_column(col, justify="left" if col in ("variant", "model") else "right")
    for v in res["variants"]:
        lo, hi = v["ci"]
        ci = "-" if lo is None else f"[{lo:.4f}, {hi:.4f}]"
        table.add_row(
            v["name"], v["model"], f"{v['exposures']:,}", f"{v['successes']:,}", _fmt(v["rate"]), ci
        )
    lo, hi = res["lift_ci"]
    lift = "-" if res["lift"] is None else f"{res['lift']:+.1%} [{_fmt(lo, '+.1%')}, {_fmt(hi, '+.1%')}]"
    seq, srm = res["sequential"], res["srm"]
    table.caption = (
        f"lift {lift}  p={_fmt(res['p_value'])}  |  sequential p={_fmt(seq['p_value'])} "
        f"reject={seq['reject']}  |  SRM p={_fmt(srm['p_value'])} mismatch={srm['mismatch']}  |  "
        f"decision: [bold]{res['decision']}[/]"
    )
    return table


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="experiment name")],
    variant: Annotated[list[str], typer.Option("--variant", "-v", help=_VARIANT_HELP)],
    metric: Annotated[str, typer.Option(help="ctr, like_rate, mean_rating or positive_rate")] = "ctr",
    guardrail: Annotated[list[str] | None, typer.Option(help="metric the winner must not harm")] = None,
    mode: Annotated[str, typer.Option(help="ab (weights), bandit (Thompson sampling) or interleaving "
                                                  "(team draft of exactly 2 variants)")] = "ab",
    window: Annotated[float | None, typer.Option(help="attribution window in seconds")] = None,
    auto_promote: Annotated[bool, typer.Option(help="promote a winning registry version")] = False,
    planned_exposures: Annotated[int | None, typer.Option(help="planned lists per variant")] = None,
    baseline_rate: Annotated[float | None, typer.Option(help="expected control rate")] = None,
    url: Url = DEFAULT_URL,
    admin_key: AdminKey = None,
) -> None:  # fmt: skip
    """Start an experiment (only one runs at a time)."""
    body: dict[str, Any] = {"name": name, "variants": [parse_variant(v) for v in variant],
                            "primary_metric": metric, "guardrails": guardrail or [], "mode": mode,
                            "auto_promote": auto_promote}  # fmt: skip
    for key, value in (("attribution_window_s", window), ("planned_exposures", planned_exposures),
                       ("baseline_rate", baseline_rate)):  # fmt: skip
        if value is not None:
            body[key] = value
    with RecloopClient(url, admin_key=admin_key) as api:
        exp = guarded(lambda: api.create_experiment(body))
    console.print(f"created experiment [bold]{exp.id}[/] ({exp.name}), status {exp.status}")


@app.command("list")
def list_experiments(url: Url = DEFAULT_URL) -> None:
    """Experiments on the server, newest first."""
    table = Table(title=f"experiments on {url}")
    for col in ("id", "name", "status", "created", "metric", "variants"):
        table.add_column(col)
    with RecloopClient(url) as api:
        listed = guarded(api.experiments).experiments
    for e in listed:
        variants = ", ".join(f"{v['name']}={v['model']}:{v['weight']:g}" for v in e.variants)
        table.add_row(e.id, e.name, e.status, e.created_at[:19], e.primary_metric, variants)
    console.print(table)


@app.command()
def stop(
    experiment_id: Annotated[str, typer.Argument(help="experiment id")],
    url: Url = DEFAULT_URL,
    admin_key: AdminKey = None,
) -> None:
    """Stop an experiment; its results stay readable."""
    with RecloopClient(url, admin_key=admin_key) as api:
        exp = guarded(lambda: api.stop_experiment(experiment_id))
    console.print(f"experiment {exp.id}: {exp.status}")


@app.command()
def results(
    experiment_id: Annotated[str, typer.Argument(help="experiment id")],
    url: Url = DEFAULT_URL,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write the JSON here")] = None,
) -> None:
    """Rates with CIs, lift, p-values, sequential test, SRM and the decision."""
    with RecloopClient(url) as api:
        res = guarded(lambda: api.experiment_results(experiment_id))
    console.print(results_table(res))
    if json_path is not None:
        json_path.write_text(json.dumps(res, indent=2))

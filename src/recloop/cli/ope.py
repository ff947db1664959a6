"""``recloop ope --policy VERSION``: off-policy estimate of a model's click-through on logged traffic."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import console, guarded
from recloop.config import get_settings

__all__ = ["ope"]


def ope(
    policy: Annotated[str, typer.Option("--policy", help="registry version (e.g. 4) or alias to evaluate")],
    experiment: Annotated[str | None, typer.Option(help="experiment id (default: the newest)")] = None,
    k: Annotated[int, typer.Option(help="list length of the logged exposures")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON report")] = False,
) -> None:
    """IPS, SNIPS and doubly robust estimates (95% CIs) beside the logged policy's actual clicks per list."""
    from recloop.pipelines.ope import ope_report

    report = guarded(lambda: ope_report(get_settings(), policy, experiment, k))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table(title=f"OPE of {policy} (v{report['version']}) on {report['lists']:,} logged lists")
    for col in ("estimator", "clicks per list", "95% CI"):
        table.add_column(col, justify="right")
    table.add_row("logged policy (actual)", f"{report['logged_ctr']:.4f}", "")
    for name in ("ips", "snips", "dr"):
        lo, hi = report[f"{name}_ci"]
        table.add_row(name.upper(), f"{report[name]:.4f}", f"[{lo:.4f}, {hi:.4f}]")
    console.print(table)
    console.print(f"gate: {'pass' if report['passes_gate'] else 'FAIL (significantly worse than serving)'}")

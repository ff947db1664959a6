"""``recloop flow retrain``: the retrain pipeline as a Prefect flow (its own environment)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from recloop.cli.output import command_group, console, guarded
from recloop.config import get_settings

__all__ = ["app"]

app = command_group("Orchestrated pipelines (Prefect, from .venv-flow: bash scripts/flow_env.sh).")


@app.command()
def retrain(
    source: Annotated[
        str | None, typer.Option(help="live events from delta:PATH[@VERSION] (default: the state store)")
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write the decision here")] = None,
    margin: Annotated[float, typer.Option(help="relative gain the primary metric needs")] = 0.01,
    window: Annotated[float, typer.Option(help="latest share of events held out")] = 0.1,
    max_queries: Annotated[int, typer.Option(help="ranker training queries")] = 5000,
    cron: Annotated[
        str | None, typer.Option(help="instead of one run: serve the flow on this schedule (Prefect server)")
    ] = None,
) -> None:
    """Load, plan, train, evaluate, gate, promote + report: one Prefect task each, retried."""
    from recloop.pipelines.flow import retrain_flow, serve_retrain_flow

    settings = get_settings()
    if cron is not None:
        guarded(lambda: serve_retrain_flow(settings, source, cron, max_queries=max_queries, margin=margin,
                                           window_fraction=window))  # fmt: skip
        return
    decision = guarded(lambda: retrain_flow(settings, source, max_queries=max_queries, margin=margin,
                                            window_fraction=window))  # fmt: skip
    console.print(f"[bold]{decision.decision}[/]: {decision.reason}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(decision.to_dict(), indent=2))

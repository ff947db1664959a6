"""``recloop replay --url``: the P2 protocol over HTTP against a running server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import console, guarded, progress_bar
from recloop.config import get_settings
from recloop.data import load_dataset

__all__ = ["replay"]


def replay(
    url: Annotated[str, typer.Option(help="base URL of a running recloop serve")] = ("http://127.0.0.1:8000"),
    limit: Annotated[int | None, typer.Option(help="replay only the first N events")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write JSON here")] = None,
) -> None:
    """Replay P2 events over HTTP (GET top-10, score, POST the event); print metrics."""
    from recloop.evaluation.http_replay import http_replay

    data = guarded(lambda: load_dataset(get_settings()))
    total = limit or 20_000
    with progress_bar("P2 over HTTP", total) as advance:
        out = guarded(lambda: http_replay(url, data, limit, advance))
    table = Table(title=f"P2 over HTTP against {url} (model {out['model_version']})")
    for k in out["metrics"]:
        table.add_column(k, justify="right")
    table.add_row(*(f"{v:,.1f}" if k.endswith("per_s") else f"{v:.4f}"
                    for k, v in out["metrics"].items()))  # fmt: skip
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps(out, indent=2))

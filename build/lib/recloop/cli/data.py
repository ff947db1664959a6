"""``recloop data fetch`` and ``recloop data info``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import command_group, console, guarded
from recloop.config import get_settings
from recloop.data import fetch_dataset, load_dataset

__all__ = ["app"]

app = command_group("MovieLens-100K: fetch into the cache and describe it.")

SourceOpt = Annotated[
    str | None,
    typer.Option(help="auto | grouplens | recbole (default: RECLOOP_DATA__SOURCE or auto)"),
]


@app.command()
def fetch(source: SourceOpt = None) -> None:
    """Put a checksum-verified copy of MovieLens-100K into $RECLOOP_HOME/data."""
    path = guarded(lambda: fetch_dataset(get_settings(), source))
    data = guarded(lambda: load_dataset(get_settings(), source))
    console.print(f"[green]ok[/] {path} ({data.info()['interactions']:,} ratings)")


@app.command()
def info(source: SourceOpt = None) -> None:
    """Counts, sparsity and time span of the data."""
    data = guarded(lambda: load_dataset(get_settings(), source))
    table = Table(title="MovieLens-100K", show_header=False)
    for key, value in data.info().items():
        shown = f"{value:,.4f}" if isinstance(value, float) else f"{value:,}" if isinstance(
            value, int) else str(value)  # fmt: skip
        table.add_row(key, shown)
    console.print(table)

"""``recloop data fetch``, ``info``, ``export`` and ``synth`` (synthetic data at scale)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import command_group, console, guarded, progress_bar
from recloop.config import get_settings
from recloop.data import fetch_dataset, load_dataset

__all__ = ["app"]

app = command_group("MovieLens-100K: fetch into the cache and describe it; synthetic data at scale.")

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
    table = Table(title=data.source, show_header=False)
    for key, value in data.info().items():
        shown = f"{value:,.4f}" if isinstance(value, float) else f"{value:,}" if isinstance(
            value, int) else str(value)  # fmt: skip
        table.add_row(key, shown)
    console.print(table)


@app.command()
def export(
    delta: Annotated[str, typer.Option("--delta", help="the Delta table to append the ratings to")],
    source: SourceOpt = None,
) -> None:
    """Write MovieLens's ratings into a Delta table as `rate` events (`train --source delta:PATH`)."""
    from recloop.pipelines.archive_data import export_dataset

    data = guarded(lambda: load_dataset(get_settings(), source))
    version = guarded(lambda: export_dataset(data, delta))
    console.print(f"[green]ok[/] {len(data.interactions):,} events -> {delta} (version {version})")


@app.command()
def synth(
    out: Annotated[Path, typer.Option("--out", help="the directory to write (created)")],
    shape: Annotated[str, typer.Option(help="ml20m (MovieLens-20M's counts) | shop (1M users, 200k items)")]
    = "ml20m",
    fraction: Annotated[float, typer.Option(help="scale users and events by F, items by F^0.6")] = 1.0,
    seed: Annotated[int, typer.Option(help="same seed, same bytes")] = 0,
    users: Annotated[int | None, typer.Option(help="override the number of users")] = None,
    items: Annotated[int | None, typer.Option(help="override the number of items")] = None,
    events: Annotated[int | None, typer.Option(help="override the number of events")] = None,
) -> None:
    """Generate a seeded synthetic dataset (parquet + manifest.json); use it with --data DIR."""
    from recloop.data.synth import generate
    from recloop.data.synth_spec import make_spec

    spec = guarded(lambda: make_spec(shape, fraction, seed, users, items, events))
    console.print(f"{spec.shape}: {spec.users:,} users, {spec.items:,} items, {spec.events:,} events, "
                  f"seed {spec.seed} -> {out}")  # fmt: skip
    t0 = time.perf_counter()
    with progress_bar("synthetic events", spec.events) as advance:
        manifest = guarded(lambda: generate(spec, out, advance))
    wall = time.perf_counter() - t0
    n = manifest["counts"]["events"]
    console.print(f"[green]ok[/] {n:,} events in {wall:.1f} s ({n / wall:,.0f} events/s); "
                  f"train on it with `recloop train --data {out}`")  # fmt: skip

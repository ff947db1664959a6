"""``recloop archive run|info|compact|vacuum``: the Delta Lake event archive."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import command_group, console, err_console, fail, guarded
from recloop.config import Settings, get_settings

__all__ = ["app"]

app = command_group("The Delta Lake event archive: copy the log into it, inspect, compact, vacuum.")

PathOpt = Annotated[
    str | None, typer.Option("--path", help="the Delta table (default RECLOOP_ARCHIVE__PATH)")
]


def _path(settings: Settings, path: str | None) -> str:
    chosen = path or settings.archive.path
    if not chosen:
        fail("no archive: pass --path or set RECLOOP_ARCHIVE__PATH")
    return str(chosen)


@app.command()
def run(
    path: PathOpt = None,
    follow: Annotated[bool, typer.Option(help="keep copying every RECLOOP_ARCHIVE__EVERY_S")] = False,
    trim: Annotated[
        bool, typer.Option(help="with Redis state: drop each batch from the store's log once it is committed")
    ] = False,
) -> None:
    """Copy every logged event the archive lacks (exactly once); `--follow` keeps going."""
    from recloop.archive import Archiver, DeltaArchive
    from recloop.data import load_dataset
    from recloop.features.store import open_event_log

    settings = get_settings()
    archive = DeltaArchive(_path(settings, path))
    data = guarded(lambda: load_dataset(settings))
    log_ = guarded(lambda: open_event_log(settings.state, data.n_items, settings.home))
    archiver = Archiver(log_, archive, settings.archive.batch, trim=trim)
    try:
        done = guarded(archiver.run_once)
        console.print(f"archived {done.copied:,} events (log position {done.last_seq}, "
                      f"version {done.version})")
        if follow:
            stop = threading.Event()
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            err_console.print(f"following the log every {settings.archive.every_s:g}s; Ctrl-C stops")
            archiver.follow(settings.archive.every_s, stop)
    finally:
        archiver.close()
        log_.close()


@app.command()
def info(path: PathOpt = None) -> None:
    """The table's versions (newest first): time, operation, rows added, log position."""
    from recloop.archive import DeltaArchive

    archive = DeltaArchive(_path(get_settings(), path))
    history = guarded(archive.history)
    table = Table(title=f"{archive.path}: {len(archive.read()):,} events at version {archive.version()}")
    for col in ("version", "time (UTC)", "operation", "rows added", "log position"):
        table.add_column(col)
    for c in history:
        when = dt.datetime.fromtimestamp(c["timestamp"] / 1000, dt.UTC).isoformat(timespec="seconds")
        table.add_row(str(c["version"]), when, c["operation"], str(c["rows_added"] or ""),
                      str(c["last_seq"] or ""))
    console.print(table)


@app.command()
def compact(path: PathOpt = None) -> None:
    """Rewrite small files into large ones (a new version; time travel still works)."""
    from recloop.archive import DeltaArchive

    got = guarded(DeltaArchive(_path(get_settings(), path)).compact)
    console.print(f"compacted: {got.get('numFilesRemoved', 0)} files -> {got.get('numFilesAdded', 0)}")


@app.command()
def vacuum(
    path: PathOpt = None,
    retention_hours: Annotated[int, typer.Option(help="keep what versions of the last N hours need")] = 168,
) -> None:
    """Delete files no recent version needs (versions older than the retention stop time-travelling)."""
    from recloop.archive import DeltaArchive

    removed = guarded(lambda: DeltaArchive(_path(get_settings(), path)).vacuum(retention_hours))
    console.print(f"vacuumed {len(removed)} files")

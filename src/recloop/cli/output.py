"""Console output shared by the commands: errors that name the fix, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from recloop.errors import RecloopError

__all__ = ["console", "fail", "guarded", "progress_bar"]

# a pipe gets wide tables instead of truncated 80-column ones
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)
T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """Print an error in red and exit with status 1."""
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(1)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn a :class:`RecloopError` into a clear message and exit 1."""
    try:
        return fn()
    except RecloopError as exc:
        fail(exc.message)


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar; yields ``advance(n)``."""
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console, transient=False,
    ) as prog:  # fmt: skip
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)

"""Console output shared by the commands: errors that name the fix, progress bars.

Every :class:`~recloop.errors.RecloopError` a command raises ends as one line
on stderr (``error: <message>``, never wrapped) and an exit code by kind
(:func:`exit_code`), whether the command caught it with :func:`guarded` or not
(:class:`GuardedGroup` catches the rest).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup

from recloop.errors import ConfigError, DataError, DependencyUnavailableError, RecloopError

__all__ = ["AsOfOption", "DataOption", "GuardedGroup", "PlainHelpGroup", "ReplaySampleOption",
           "SourceOption", "command_group", "console", "err_console", "exit_code", "fail", "guarded",
           "progress_bar", "say", "use_data_dir"]  # fmt: skip

# a pipe gets wide tables instead of truncated 80-column ones
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)
T = TypeVar("T")

# the events a command reads: shared by `recloop train` and `recloop evaluate`
SourceOption = Annotated[
    str | None, typer.Option(help="the events: movielens (default) or delta:PATH (the event archive)")
]
AsOfOption = Annotated[
    str | None, typer.Option(help="with delta:PATH: a table version or an ISO timestamp (time travel)")
]

# the dataset a command reads: train, evaluate, serve and replay
DataOption = Annotated[
    Path | None,
    typer.Option("--data", help="a `recloop data synth` directory instead of MovieLens-100K "
                 "(same as RECLOOP_DATA__DIR)"),
]  # fmt: skip
ReplaySampleOption = Annotated[
    int | None,
    typer.Option(help="P2: score a seeded uniform sample of N replayed events (every event is still "
                 "ingested); the output says so"),
]  # fmt: skip


def use_data_dir(path: Path | None) -> None:
    """Point this process's settings (and any worker it starts) at a synthetic directory."""
    if path is None:
        return
    if not path.is_dir():
        fail(f"--data {path}: no such directory; make one with `recloop data synth --out {path}`", 65)
    from recloop.config import get_settings

    os.environ["RECLOOP_DATA__DIR"] = str(path.resolve())
    get_settings.cache_clear()


EXIT_CODES: tuple[tuple[type[RecloopError], int], ...] = (
    (ConfigError, 78),  # sysexits EX_CONFIG: fix the settings
    (DependencyUnavailableError, 69),  # EX_UNAVAILABLE: a server is down
    (DataError, 65),  # EX_DATAERR: a file is missing or damaged
)


def exit_code(exc: RecloopError) -> int:
    """The exit status of a command that failed with ``exc``: 78 config, 69 a server down,
    65 damaged data, 1 anything else."""
    for kind, code in EXIT_CODES:
        if isinstance(exc, kind):
            return code
    return 1


def _error_line(message: str) -> None:
    text = Text.assemble(("error: ", "bold red"), " ".join(message.split()))
    err_console.print(text, soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` as one line on stderr and exit with ``code``."""
    _error_line(message)
    raise typer.Exit(code)


def say(message: str) -> None:
    """One status line on stdout, never wrapped (start-up messages people grep)."""
    console.print(Text(message), soft_wrap=True)


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``; turn a :class:`RecloopError` into a clear message and its exit code."""
    try:
        return fn()
    except RecloopError as exc:
        fail(exc.message, exit_code(exc))


class PlainHelpGroup(TyperGroup):
    """A group whose command list shows each command's whole first help paragraph, wrapped
    to the terminal (click cuts it at about 45 characters with "...")."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The ``Commands:`` section, one wrapped entry per visible command."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            text = cmd.short_help or (cmd.help or "").split("\n\n")[0]
            rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class GuardedGroup(PlainHelpGroup):
    """The top-level group: a RecloopError from any command becomes one line + exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; see the class docstring."""
        try:
            return super().invoke(ctx)
        except RecloopError as exc:
            _error_line(exc.message)
            ctx.exit(exit_code(exc))


def command_group(help: str, **options: Any) -> typer.Typer:
    """A sub-command group with plain help (click's formatter wraps at the terminal width;
    rich's boxed tables truncate option help at 80 columns)."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None, cls=PlainHelpGroup,
                       **options)  # fmt: skip


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar; yields ``advance(n)``."""
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=err_console, transient=False,
    ) as prog:  # fmt: skip
        task = prog.add_task(label, total=total)
        yield lambda n: prog.advance(task, n)

"""The ``recloop`` command line (Typer): one sub-module per command group.

Before any command runs, ``RECLOOP_*`` environment names that recloop does
not read are reported on stderr with the closest known name (pydantic-settings
ignores them silently, so ``RECLOOP_STATE_TYPE=redis`` would otherwise serve
from the embedded store without a word).
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from recloop import __version__
from recloop.cli import archive as _archive
from recloop.cli import consume as _consume
from recloop.cli import data as _data
from recloop.cli import evaluate as _evaluate
from recloop.cli import experiments as _experiments
from recloop.cli import flow as _flow
from recloop.cli import models as _models
from recloop.cli import ope as _ope
from recloop.cli import replay as _replay
from recloop.cli import retrain as _retrain
from recloop.cli import serve as _serve
from recloop.cli import simulate as _simulate
from recloop.cli import state as _state
from recloop.cli import train as _train
from recloop.cli.output import GuardedGroup, err_console
from recloop.config import unknown_env_names

__all__ = ["app", "main", "warn_unknown_env"]

app = typer.Typer(
    name="recloop",
    help="recloop: a real-time recommender with its whole MLOps loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=GuardedGroup,
)


def warn_unknown_env() -> None:
    """One warning line per ignored ``RECLOOP_*`` name, with a "did you mean"."""
    for name, guess in unknown_env_names(os.environ):
        hint = f"; did you mean {guess}?" if guess else "; see `recloop serve --help` and docs/"
        err_console.print(f"warning: {name} is not a recloop setting and is ignored{hint}",
                          markup=False, soft_wrap=True, highlight=False)  # fmt: skip


def _version(show: bool) -> None:
    if show:
        typer.echo(f"recloop {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", help="print the version and exit", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """recloop: a real-time recommender with its whole MLOps loop."""
    warn_unknown_env()


app.add_typer(_data.app, name="data")
app.command("evaluate")(_evaluate.evaluate)
app.command("tune")(_evaluate.tune_command)
app.command("train")(_train.train)
app.command("retrain")(_retrain.retrain)
app.command("worker")(_retrain.worker)
app.add_typer(_flow.app, name="flow")
app.add_typer(_models.app, name="models")
app.command("serve")(_serve.serve)
app.command("consume")(_consume.consume)
app.add_typer(_state.app, name="state")
app.add_typer(_archive.app, name="archive")
app.command("replay")(_replay.replay)
app.add_typer(_experiments.app, name="experiments")
app.command("simulate")(_simulate.simulate)
app.command("ope")(_ope.ope)


def main() -> None:
    """Console entry point."""
    app()

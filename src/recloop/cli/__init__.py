"""The ``recloop`` command line (Typer): one sub-module per command group."""

from __future__ import annotations

import typer

from recloop.cli import data as _data
from recloop.cli import evaluate as _evaluate
from recloop.cli import experiments as _experiments
from recloop.cli import models as _models
from recloop.cli import replay as _replay
from recloop.cli import retrain as _retrain
from recloop.cli import serve as _serve
from recloop.cli import simulate as _simulate
from recloop.cli import train as _train

__all__ = ["app"]

app = typer.Typer(
    name="recloop",
    help="recloop: a real-time recommender with its whole MLOps loop.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(_data.app, name="data")
app.command("evaluate")(_evaluate.evaluate)
app.command("tune")(_evaluate.tune_command)
app.command("train")(_train.train)
app.command("retrain")(_retrain.retrain)
app.command("worker")(_retrain.worker)
app.add_typer(_models.app, name="models")
app.command("serve")(_serve.serve)
app.command("replay")(_replay.replay)
app.add_typer(_experiments.app, name="experiments")
app.command("simulate")(_simulate.simulate)


def main() -> None:
    """Console entry point."""
    app()

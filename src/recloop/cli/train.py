"""``recloop train``: the training pipeline with a progress bar per stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from recloop.cli.evaluate import render_report, say_sample
from recloop.cli.output import (
    AsOfOption,
    DataOption,
    SourceOption,
    console,
    err_console,
    fail,
    guarded,
    use_data_dir,
)
from recloop.config import Settings, get_settings
from recloop.data import load_dataset
from recloop.ranking.bundle import TwoStageConfig
from recloop.stages import recording
from recloop.stages import stage as timed

__all__ = ["train"]


def _recipe(settings: Settings, max_queries: int, index: str, engine: str, master: str) -> TwoStageConfig:
    """The recipe the options ask for (index type, ALS engine), or a one-line error."""
    from recloop.pipelines.twostage import with_als_engine, with_index
    from recloop.retrieval.index import IndexConfig

    if index not in ("auto", "flat", "hnsw", "ivf"):
        fail(f"--index {index!r}: choose auto, flat, hnsw or ivf")
    if engine not in ("implicit", "spark"):
        fail(f"--engine {engine!r}: choose implicit or spark")
    cfg = with_index(TwoStageConfig(max_queries=max_queries), settings, IndexConfig(type=index))
    return with_als_engine(cfg, settings, engine, master)


def train(
    json_path: Annotated[Path | None, typer.Option("--json", help="write the P1 report here")] = None,
    max_queries: Annotated[int, typer.Option(help="ranker training queries (speed/quality)")] = 5000,
    index: Annotated[
        str, typer.Option(help="ALS index: auto (flat to 50k items, tuned IVF above) | flat | hnsw | ivf")
    ] = "auto",
    source: SourceOption = None,
    as_of: AsOfOption = None,
    engine: Annotated[
        str, typer.Option(help="who fits ALS: implicit (local) | spark (recloop[spark])")
    ] = "implicit",
    master: Annotated[
        str, typer.Option(help="with --engine spark: local[*] or spark://HOST:PORT")
    ] = "local[*]",
    data_dir: DataOption = None,
) -> None:
    """Train the two-stage model, evaluate it on P1 beside the baselines, register it."""
    from recloop.pipelines.archive_data import tag_data_source, training_frame
    from recloop.pipelines.train import train_and_register

    use_data_dir(data_dir)
    settings = get_settings()
    cfg = _recipe(settings, max_queries, index, engine, master)
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console) as prog:  # fmt: skip
        task = prog.add_task("starting", total=None)
        done: list[str] = []

        def stage(name: str) -> None:
            if done:
                prog.console.print(f"[green]✓[/] {done[-1]}")
            done.append(name)
            prog.update(task, description=name)

        with recording():
            with timed("load_data"):
                data = guarded(lambda: load_dataset(settings))
                inter, label = guarded(lambda: training_frame(settings, data, source, as_of))
            result = guarded(lambda: train_and_register(settings, cfg, stage, data, inter))
        if label is not None:
            guarded(lambda: tag_data_source(settings, result.version.version, label))
        prog.console.print(f"[green]✓[/] {done[-1]}")
    console.print(render_report(result.report))
    say_sample(result.report)
    v = result.version
    champ = " and is now [bold]champion[/] (first version)" if result.became_champion else ""
    console.print(f"registered version [bold]{v.version}[/] as challenger{champ}")
    console.print("timings: " + ", ".join(f"{k}={s:.1f}" for k, s in result.timings.items()))
    if label is not None:
        console.print(f"trained on {label} ({len(inter):,} interactions)")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {**result.report.to_dict(), "version": v.version, "timings": result.timings,
                   "stages": result.stages,
                   "data_source": label or (data.source if settings.data.dir else "movielens")}  # fmt: skip
        json_path.write_text(json.dumps(payload, indent=2))

"""``recloop train``: the training pipeline with a progress bar per stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from recloop.cli.evaluate import render_report
from recloop.cli.output import console, err_console, fail, guarded
from recloop.config import get_settings
from recloop.data import load_dataset

__all__ = ["train"]


def train(
    json_path: Annotated[Path | None, typer.Option("--json", help="write the P1 report here")] = None,
    max_queries: Annotated[int, typer.Option(help="ranker training queries (speed/quality)")] = 5000,
    index: Annotated[
        str, typer.Option(help="ALS vector index: flat (exact) | hnsw | ivf (large catalogs)")
    ] = "flat",
) -> None:
    """Train the two-stage model, evaluate it on P1 beside the baselines, register it."""
    from recloop.pipelines.train import train_and_register
    from recloop.pipelines.twostage import with_index
    from recloop.ranking.bundle import TwoStageConfig

    settings = get_settings()
    from recloop.retrieval.index import IndexConfig

    if index not in ("flat", "hnsw", "ivf"):
        fail(f"--index {index!r}: choose flat, hnsw or ivf")
    cfg = with_index(TwoStageConfig(max_queries=max_queries), settings, IndexConfig(type=index))
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console) as prog:  # fmt: skip
        task = prog.add_task("starting", total=None)
        done: list[str] = []

        def stage(name: str) -> None:
            if done:
                prog.console.print(f"[green]✓[/] {done[-1]}")
            done.append(name)
            prog.update(task, description=name)

        data = guarded(lambda: load_dataset(settings))
        inter = data.interactions.iloc[: round(settings.base_fraction * len(data.interactions))]
        result = guarded(lambda: train_and_register(settings, cfg, stage, data, inter))
        prog.console.print(f"[green]✓[/] {done[-1]}")
    console.print(render_report(result.report))
    v = result.version
    champ = " and is now [bold]champion[/] (first version)" if result.became_champion else ""
    console.print(f"registered version [bold]{v.version}[/] as challenger{champ}")
    console.print("timings: " + ", ".join(f"{k}={s:.1f}" for k, s in result.timings.items()))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        payload = {**result.report.to_dict(), "version": v.version, "timings": result.timings}
        json_path.write_text(json.dumps(payload, indent=2))

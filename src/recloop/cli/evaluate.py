"""``recloop evaluate`` (P1/P2 with baselines side by side) and ``recloop tune``."""

from __future__ import annotations

import dataclasses
import json
import math
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import (
    AsOfOption,
    DataOption,
    ReplaySampleOption,
    SourceOption,
    console,
    fail,
    guarded,
    progress_bar,
    use_data_dir,
)
from recloop.config import Settings, get_settings
from recloop.data import Dataset, load_dataset
from recloop.evaluation.baselines import BASELINE_NAMES
from recloop.evaluation.protocols import EvaluationReport, run_p1, run_p2
from recloop.evaluation.splits import prequential_split
from recloop.pipelines.archive_data import training_frame
from recloop.pipelines.models import builders_for

__all__ = ["evaluate", "render_report", "tune_command"]


class TaskName(StrEnum):
    """What is evaluated: top-N lists (P1/P2) or predicted ratings (RMSE/MAE on the P1 split)."""

    topn = "topn"
    rating = "rating"


RATING_KEYS = ["RMSE", "MAE"]


class ProtocolName(StrEnum):
    """The protocols of shared/EVALUATION.md."""

    p1 = "p1"
    p2 = "p2"


class P2Variant(StrEnum):
    """P2 as defined (``standard``) or with ratings <= 2 as negatives (docs/FEEDBACK.md)."""

    standard = "standard"
    negatives = "negatives"


_VARIANT_HELP = ("P2: standard (every rating a positive, as EVALUATION.md) or negatives (the registered "
                 "models' replay treats ratings <= 2 as negatives, as served; adds *_liked metrics)")
LIKED_RATING = 4.0  # the negatives variant also scores the events rated at least this

P1_KEYS = ["NDCG@10", "Recall@10", "Recall@20", "HR@10", "MAP@10", "Precision@10", "Coverage@10"]
P2_KEYS = ["NDCG@10", "HR@10", "NDCG@10_cold", "NDCG@10_warm", "HR@10_cold", "HR@10_warm",
           "events_per_s"]  # fmt: skip


def render_report(report: EvaluationReport) -> Table:
    """The report as one rich table: a row per model, a column per metric."""
    keys = {"p1": P1_KEYS, "p2": P2_KEYS}.get(report.protocol, RATING_KEYS)
    first = next(iter(report.models.values()), None)
    if first is not None and "NDCG@10_liked" in first.metrics:  # the P2 "negatives" variant
        keys = [*keys[:-1], "NDCG@10_liked", "HR@10_liked", keys[-1]]
    table = Table(title=f"{report.protocol.upper()} on {report.data['source']}")
    table.add_column("model", style="bold")
    for k in keys:
        table.add_column(k, justify="right")
    table.add_column("wall s", justify="right")
    for name, r in report.models.items():
        cells = [f"{r.metrics[k]:,.0f}" if k == "events_per_s" else f"{r.metrics[k]:.4f}"
                 for k in keys]  # fmt: skip
        table.add_row(name, *cells, f"{r.wall_s:.1f}")
    return table


def _write_json(report: EvaluationReport, json_path: Path | None) -> None:
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report.to_dict(), indent=2))
        console.print(f"wrote {json_path}")


def _evaluate_rating(models: str | None, json_path: Path | None) -> None:
    """The rating task: RMSE/MAE on the P1 split, every model tuned on validation."""
    from recloop.evaluation.rating import RATING_MODELS, run_rating

    names = [n.strip() for n in (models or ",".join(RATING_MODELS)).split(",") if n.strip()]
    unknown = [n for n in names if n not in RATING_MODELS]
    if unknown or not names:
        fail(f"--models for --task rating: choose from {', '.join(RATING_MODELS)} (got {models!r})")
    data = guarded(lambda: load_dataset(get_settings()))
    with progress_bar("rating models (tuned on validation)", len(names)) as advance:
        report = guarded(lambda: run_rating(data, names, advance))
    console.print(render_report(report))
    _write_json(report, json_path)


def _events_of(settings: Settings, data: Dataset, source: str | None, as_of: str | None) -> Dataset:
    """The dataset with its interactions read from ``--source`` (the catalog stays)."""
    if source in (None, "movielens") and as_of is None:
        return data
    inter, label = guarded(lambda: training_frame(settings, data, source, as_of))
    console.print(f"events: {label or 'movielens'} ({len(inter):,} interactions)")
    return dataclasses.replace(data, interactions=inter, source=label or data.source)


def say_sample(report: EvaluationReport) -> None:
    """One line under the table when P2 scored a sample of the replayed events, or P1 of the users."""
    if "replay_sample" in report.data:
        s = report.data["replay_sample"]
        console.print(f"P2 scored a seeded sample of {s['scored']:,} of {s['of']:,} replayed events "
                      f"(seed {s['seed']}); every event was ingested")  # fmt: skip
    if "user_sample" in report.data:
        s = report.data["user_sample"]
        console.print(f"P1 scored a seeded sample of {s['scored']:,} of {s['of']:,} users (seed "
                      f"{s['seed']}, RECLOOP_P1_MAX_USERS); every model trained on the whole train split")


def evaluate(
    protocol: Annotated[
        ProtocolName | None, typer.Option(help="p1 (temporal hold-out) or p2 (replay); --task topn")
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            help="comma-separated: champion, popular, itemknn, als, ease, sequence (SASRec alone) "
            "(--task rating: global_mean, bias, svd, nmf)"
        ),
    ] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write JSON here")] = None,
    limit: Annotated[int | None, typer.Option(help="P2: replay only the first N events")] = None,
    p2_variant: Annotated[P2Variant, typer.Option(help=_VARIANT_HELP)] = P2Variant.standard,
    task: Annotated[TaskName, typer.Option(help="topn (P1/P2 lists) or rating (RMSE/MAE)")] = TaskName.topn,
    source: SourceOption = None,
    as_of: AsOfOption = None,
    data_dir: DataOption = None,
    replay_sample: ReplaySampleOption = None,
    sample_seed: Annotated[int, typer.Option(help="seed of --replay-sample")] = 0,
) -> None:
    """Run models on the same split of one protocol (or the rating task) and print one table."""
    use_data_dir(data_dir)
    if task is TaskName.rating:
        if source is not None or as_of is not None:
            fail("--source/--as-of apply to --task topn; the rating task reads MovieLens's ratings")
        _evaluate_rating(models, json_path)
        return
    if protocol is None:
        fail("--protocol p1|p2 is required for --task topn")
    negatives = protocol is ProtocolName.p2 and p2_variant is P2Variant.negatives
    settings = get_settings()
    names = [n.strip() for n in (models or ",".join(BASELINE_NAMES)).split(",") if n.strip()]
    if not names:
        fail("--models is empty; name at least one of champion, popular, itemknn, als, ease, sequence")
    data = _events_of(settings, guarded(lambda: load_dataset(settings)), source, as_of)
    builders = guarded(lambda: builders_for(names, settings, "explicit" if negatives else "implicit"))
    if protocol is ProtocolName.p1:
        with progress_bar("P1 models", len(builders)) as advance:
            report = guarded(lambda: run_p1(data, builders, advance, max_users=settings.p1_max_users))
    else:
        _, rest = prequential_split(data.interactions)
        n = len(rest) if limit is None else min(limit, len(rest))
        with progress_bar("P2 replayed events", n * len(builders)) as advance:
            liked = LIKED_RATING if negatives else None
            report = guarded(lambda: run_p2(data, builders, advance, limit=limit, liked_min=liked,
                                            sample=replay_sample, sample_seed=sample_seed))  # fmt: skip
        if negatives:
            report.data["variant"] = "negatives"
    console.print(render_report(report))
    say_sample(report)
    for alias in ("champion", "challenger") if not negatives else ():
        if alias in report.models:  # keep the registered version's figures for the dashboard
            version = report.models[alias].params.get("version")
            out = settings.home / "reports" / f"v{version}" / f"evaluation_{report.protocol}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(report.to_dict(), indent=2))
    _write_json(report, json_path)


def tune_command(
    models: Annotated[str, typer.Option(help="comma-separated: itemknn, als, ease")] = ("itemknn,als,ease"),
) -> None:
    """Grid-search baseline hyperparameters on the P1 validation split (never test)."""
    from recloop.evaluation.tuning import GRIDS, TrialResult, tune

    names = [n.strip() for n in models.split(",") if n.strip()]
    unknown = [n for n in names if n not in GRIDS]
    if unknown:
        fail(f"no grid for {', '.join(unknown)}; choose from {', '.join(GRIDS)}")
    data = guarded(lambda: load_dataset(get_settings()))
    sizes = {n: math.prod(len(v) for v in GRIDS[n].values()) for n in names}
    with progress_bar("validation trials", sum(sizes.values())) as advance:

        def on_trial(t: TrialResult) -> None:
            advance(1)

        best = tune(data, get_settings(), names, on_trial)
    table = Table(title="best on the P1 validation split (NDCG@10)")
    table.add_column("model")
    table.add_column("params")
    table.add_column("NDCG@10", justify="right")
    for name, trial in best.items():
        table.add_row(name, json.dumps(trial.params), f"{trial.ndcg:.4f}")
    console.print(table)
    console.print("Copy the chosen values into recloop/config.py defaults to make them the config.")

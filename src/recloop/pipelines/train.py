"""``recloop train``: load -> split -> fit -> evaluate (P1, baselines beside) -> register.

The registered bundle is the model trained on P1's train split, so the P1
figures logged with it are the held-out figures of exactly that artifact.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.evaluation.baselines import baseline_builder, baselines_for
from recloop.evaluation.protocols import EvaluationReport, ModelBuilder, run_p1
from recloop.evaluation.splits import temporal_user_split
from recloop.pipelines.card import model_card, plot_importances
from recloop.pipelines.twostage import fit_two_stage, resolved
from recloop.ranking.bundle import TwoStageConfig, save_bundle
from recloop.ranking.inputs import replay_histories
from recloop.registry import ModelVersionInfo, registry_from_settings
from recloop.serving.session import ModelSession

__all__ = ["TrainResult", "train_and_register"]

Stage = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced: the registered version and its P1 report."""

    version: ModelVersionInfo
    report: EvaluationReport
    timings: dict[str, float]
    became_champion: bool


def _flatten(prefix: str, obj: Any, out: dict[str, Any]) -> None:
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = obj


def _metrics(report: EvaluationReport, facts: dict[str, Any]) -> dict[str, float]:
    """The champion's P1 metrics, each baseline's under ``baseline.<name>.``, fit facts under ``fit.``."""
    metrics = {k: float(v) for k, v in report.models["champion"].metrics.items()}
    for name, result in report.models.items():
        if name == "champion":
            continue
        for k, v in result.metrics.items():
            metrics[f"baseline.{name}.{k}"] = float(v)
    metrics.update({f"fit.{k}": float(v) for k, v in facts.items()
                    if isinstance(v, (int, float, np.floating))})  # fmt: skip
    return metrics


def train_and_register(
    settings: Settings,
    config: TwoStageConfig | None = None,
    stage: Stage | None = None,
    dataset: Dataset | None = None,
    interactions: Any = None,
    run_name: str = "train",
) -> TrainResult:
    """Run the whole pipeline and register a new version (alias ``challenger``)."""
    say = stage or (lambda _s: None)
    cfg = resolved(config or TwoStageConfig(), settings)  # the recipe spelled out, as registered
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say("load data")
    data = dataset or load_dataset(settings)
    inter = data.interactions if interactions is None else interactions
    train, test = temporal_user_split(inter)
    timings["load_split_s"] = time.perf_counter() - t
    fitted: dict[str, Any] = {}

    def build(ds: Dataset, frame: Any) -> ModelSession:
        t0 = time.perf_counter()
        model, stats, facts = fit_two_stage(ds, frame, settings, cfg, say)
        timings["fit_two_stage_s"] = time.perf_counter() - t0
        fitted.update(model=model, facts=facts)
        say("evaluate P1 (champion candidate + baselines)")
        return ModelSession(model, stats, replay_histories(ds, frame))

    builders = [ModelBuilder("champion", build, cfg.model_dump(mode="json")),
                *(baseline_builder(n, settings) for n in baselines_for(settings))]  # fmt: skip
    t = time.perf_counter()
    report = run_p1(data, builders, interactions=inter)
    timings["evaluate_p1_s"] = time.perf_counter() - t - timings["fit_two_stage_s"]
    say("log to MLflow and register")
    t = time.perf_counter()
    registry = registry_from_settings(settings)
    model = fitted["model"]
    facts = {**fitted["facts"], "train_rows": len(train), "test_rows": len(test),
             "data_source": data.source, "last_timestamp": int(train["timestamp"].max())}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        bundle = save_bundle(model, cfg, facts, data.item_ids,
                             Path(tmp) / "bundle")  # fmt: skip
        (bundle / "evaluation_p1.json").write_text(json.dumps(report.to_dict(), indent=1))
        (bundle / "importances.json").write_text(json.dumps(model.ranker.importances(), indent=1))
        plot_importances(model.ranker.importances(), bundle / "importances.png")
        params: dict[str, Any] = {}
        _flatten("", {"twostage": cfg.model_dump(mode="json")}, params)
        metrics = _metrics(report, facts)
        tags = {"protocol": "p1", "data_source": data.source, "stage": run_name}
        card = model_card(report, model.ranker.importances(), facts)
        version = registry.log_version(bundle, params, metrics, tags, card, run_name)
    registry.set_alias("challenger", version.version)
    promoted = registry.ensure_champion(version.version)
    timings["register_s"] = time.perf_counter() - t
    return TrainResult(registry.get(version.version), report, timings, promoted is not None)

"""``recloop train``: load -> split -> fit -> evaluate (P1, baselines beside) -> register.

The registered bundle is the model trained on P1's train split, so the P1
figures logged with it are the held-out figures of exactly that artifact.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.evaluation.baselines import baselines_for
from recloop.evaluation.protocols import EvaluationReport, ModelBuilder, p1_users, run_p1
from recloop.evaluation.splits import temporal_user_split
from recloop.pipelines.card import model_card, plot_importances
from recloop.pipelines.reuse import reusing_builder
from recloop.pipelines.twostage import fit_two_stage, resolved
from recloop.ranking.bundle import TwoStageConfig, save_bundle
from recloop.ranking.inputs import replay_histories
from recloop.registry import ModelVersionInfo, registry_from_settings
from recloop.serving.session import ModelSession
from recloop.stages import recording, stage

__all__ = ["TrainResult", "train_and_register"]

Stage = Callable[[str], None]


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced: the registered version and its P1 report."""

    version: ModelVersionInfo
    report: EvaluationReport
    timings: dict[str, float]
    became_champion: bool
    stages: list[dict[str, Any]] = field(default_factory=list)  # recloop.stages records, in end order


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
    """Run the whole pipeline and register a new version (alias ``challenger``).

    The result's ``stages`` time every step (:mod:`recloop.stages`).
    """
    with recording() as log:
        result = _train_and_register(settings, config, stage, dataset, interactions, run_name)
    return replace(result, stages=[r.to_dict() for r in log])


def _train_and_register(
    settings: Settings,
    config: TwoStageConfig | None,
    say_stage: Stage | None,
    dataset: Dataset | None,
    interactions: Any,
    run_name: str,
) -> TrainResult:
    say = say_stage or (lambda _s: None)
    cfg = resolved(config or TwoStageConfig(), settings)  # the recipe spelled out, as registered
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say("load data")
    with stage("load_split"):
        data = dataset or load_dataset(settings)
        inter = data.interactions if interactions is None else interactions
        train, test = temporal_user_split(inter)
    timings["load_split_s"] = time.perf_counter() - t
    fitted: dict[str, Any] = {}
    max_users = settings.p1_max_users

    def build(ds: Dataset, frame: Any) -> ModelSession:
        t0 = time.perf_counter()
        model, stats, facts = fit_two_stage(ds, frame, settings, cfg, say)
        timings["fit_two_stage_s"] = time.perf_counter() - t0
        fitted.update(model=model, facts=facts)
        say("evaluate P1 (champion candidate + baselines)")
        with stage("histories"):  # only the users P1 scores
            scored = frame[frame["user_id"].isin(users)]
            return ModelSession(model, stats, replay_histories(ds, scored))

    users = p1_users(test["user_id"].to_numpy(), max_users)
    builders = [ModelBuilder("champion", build, cfg.model_dump(mode="json")),
                *(reusing_builder(n, settings, fitted, users) for n in baselines_for(settings))]  # fmt: skip
    t = time.perf_counter()
    report = run_p1(data, builders, interactions=inter, max_users=max_users)
    timings["evaluate_p1_s"] = time.perf_counter() - t - timings["fit_two_stage_s"]
    say("log to MLflow and register")
    t = time.perf_counter()
    with stage("register"):
        version, promoted = _register(settings, fitted, report, cfg, data, train, test, run_name)
    timings["register_s"] = time.perf_counter() - t
    return TrainResult(registry_from_settings(settings).get(version), report, timings, promoted)


def _register(
    settings: Settings, fitted: dict[str, Any], report: EvaluationReport, cfg: TwoStageConfig,
    data: Dataset, train: Any, test: Any, run_name: str,
) -> tuple[int, bool]:  # fmt: skip
    """Save the bundle, log it to MLflow, set ``challenger``; (version, became champion)."""
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
    return version.version, promoted is not None

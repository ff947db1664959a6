"""The two-stage model on the P1 *validation* split, one settings variant per argument.

Usage::

    python benchmarks/twostage_validation.py '{"sasrec_quota": 100}' '{"sasrec_quota": 50}'
        [--json benchmarks/results/twostage_validation.json]

Each argument is a JSON object of ``settings.models`` fields. The model is fitted exactly as
``recloop train`` fits it (default recipe with those settings) on P1's train split minus its
last 20% per user, and scored on that 20% (shared/EVALUATION.md, Tuning); P1's test split is
never read. Prints and writes ``{"variants": [{"models", "NDCG@10", "facts", "wall_s"}]}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pandas as pd

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.evaluation.protocols import ModelBuilder, run_p1
from recloop.evaluation.splits import temporal_user_split
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import TwoStageConfig
from recloop.ranking.inputs import replay_histories
from recloop.serving.session import ModelSession


def _variant(ds: Dataset, train: pd.DataFrame, settings: Settings, models: dict[str, Any]) -> dict[str, Any]:
    st = settings.model_copy(update={"models": settings.models.model_copy(update=models)})
    facts: dict[str, float] = {}

    def build(d: Dataset, frame: pd.DataFrame) -> ModelSession:
        model, stats, fit_facts = fit_two_stage(d, frame, st, TwoStageConfig())
        facts.update(fit_facts)
        return ModelSession(model, stats, replay_histories(d, frame))

    t = time.perf_counter()
    report = run_p1(ds, [ModelBuilder("twostage", build)], interactions=train)
    return {"models": models, "NDCG@10": report.models["twostage"].metrics["NDCG@10"], "facts": facts,
            "wall_s": time.perf_counter() - t}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="+", help="JSON objects of settings.models fields")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/twostage_validation.json"))
    args = ap.parse_args()
    settings = Settings()
    ds = load_dataset(settings)
    train, _ = temporal_user_split(ds.interactions)  # P1's train; run_p1 splits it again
    out = []
    for arg in args.variants:
        row = _variant(ds, train, settings, json.loads(arg))
        print(json.dumps(row), flush=True)
        out.append(row)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"split": "P1 validation", "variants": out}, indent=1))


if __name__ == "__main__":
    main()

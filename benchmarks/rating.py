"""Rating prediction on the P1 split: recloop's models beside scikit-surprise's SVD, one run.

Usage: ``python benchmarks/rating.py --home HOME [--json benchmarks/results/rating.json]``
(HOME holds the MovieLens data). recloop's ``global_mean``, ``bias``, ``svd`` (biased MF,
ALS) and ``nmf`` are tuned on the validation split inside P1 train and scored once on P1
test (``recloop evaluate --task rating``). scikit-surprise's ``SVD`` (its defaults, seed 0)
and ``BaselineOnly`` are trained on the same P1 train events and scored on the same test
events, if ``surprise`` imports (``pip install scikit-surprise``, benchmark only); if not,
the JSON says so and its published ML-100K 5-fold SVD RMSE (0.934, a random split, so not
comparable with a temporal one) stands as a secondary reference. Prints a table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from recloop.config import Settings
from recloop.data import load_dataset
from recloop.evaluation.rating import RATING_MODELS, run_rating
from recloop.evaluation.splits import temporal_user_split

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_SVD_ML100K_5FOLD = 0.934


def surprise_rows(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    """scikit-surprise's SVD and BaselineOnly on the same split, or why they did not run."""
    try:
        from surprise import SVD, BaselineOnly, Reader
        from surprise import Dataset as SurpriseData
    except ImportError as exc:
        return {"unavailable": str(exc)}
    full = SurpriseData.load_from_df(train[["user_id", "item_id", "rating"]],
                                     Reader(rating_scale=(1, 5))).build_full_trainset()  # fmt: skip
    out: dict[str, Any] = {}
    for name, algo in (
        ("surprise_svd", SVD(random_state=0)),
        ("surprise_baseline", BaselineOnly(verbose=False)),
    ):
        t0 = time.perf_counter()
        algo.fit(full)
        pred = np.array(
            [algo.predict(u, i).est for u, i in zip(test["user_id"], test["item_id"], strict=True)]
        )
        err = pred - test["rating"].to_numpy()
        out[name] = {"metrics": {"RMSE": float(np.sqrt(np.mean(err**2))), "MAE": float(np.mean(np.abs(err)))},
                     "params": {"defaults": True}, "wall_s": time.perf_counter() - t0}  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path.home() / ".recloop")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "rating.json")
    args = parser.parse_args()
    data = load_dataset(Settings(home=args.home))
    report = run_rating(data, list(RATING_MODELS)).to_dict()
    train, test = temporal_user_split(data.interactions)
    extra = surprise_rows(train, test)
    report["models"].update({k: v for k, v in extra.items() if k != "unavailable"})
    report["surprise"] = extra.get("unavailable", "ran on the same split")
    report["published_reference"] = {"surprise_svd_ml100k_5fold_RMSE": PUBLISHED_SVD_ML100K_5FOLD}
    table = Table(title="rating prediction, P1 split (tuned on validation)")
    for col in ("model", "RMSE", "MAE", "wall s"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, r in report["models"].items():
        table.add_row(name, f"{r['metrics']['RMSE']:.4f}", f"{r['metrics']['MAE']:.4f}", f"{r['wall_s']:.1f}")
    Console().print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2))
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

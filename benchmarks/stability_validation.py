"""How much list stability to serve: a validation replay inside the P2 bootstrap, per strength.

Usage::

    RECLOOP_HOME=HOME python benchmarks/stability_validation.py [--limit 3000]
        [--strengths 0,0.05,0.1,0.15,0.2,0.3,0.5] [--json PATH]

The P2 bootstrap (first 80% of events, shared/EVALUATION.md) is split again in time:
the champion's registered recipe is fitted once on its first 80%, then the next
``--limit`` events are replayed test-then-train through the serving path (implicit
semantics, as P2) once per stability strength (serving/stability.py). For each it
reports NDCG@10/HR@10 and the list churn per event: of the user's previous list (the
one shown before their previous event), how many items, other than ones the user has
touched since, are gone from the list shown now. The P2 test period is never read.
Writes ``benchmarks/results/stability_validation.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation.protocols import replay
from recloop.evaluation.splits import prequential_split
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import load_bundle
from recloop.registry import registry_from_settings
from recloop.serving.recommender import ServedModel
from recloop.serving.replay import ServiceSession, service_session
from recloop.serving.stability import Stability

RESULTS = Path(__file__).parent / "results" / "stability_validation.json"


class ChurnRecorder:
    """A replay session that also counts, per event, the items replaced since the user's last list."""

    def __init__(self, session: ServiceSession) -> None:
        self.session = session
        self.last: dict[str, list[int]] = {}
        self.churn: list[int] = []

    def recommend(self, user_id: int | str, k: int) -> np.ndarray:
        user = str(user_id)
        items = self.session.recommend(user, k)
        before = self.last.get(user)
        if before is not None:
            seen = set(self.session.service.live.history(user).seen.tolist())
            now = set(items.tolist())
            self.churn.append(sum(1 for i in before if i not in now and i not in seen))
        self.last[user] = items.tolist()
        return items

    def recommend_many(self, user_ids: Any, k: int) -> list[np.ndarray]:
        return [self.recommend(u, k) for u in user_ids]

    def ingest(self, user_id: int | str, item: int, rating: float, timestamp: int) -> None:
        self.session.ingest(user_id, item, rating, timestamp)


def main() -> None:
    """Fit once, replay per strength, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=3000)
    ap.add_argument("--strengths", default="0,0.05,0.1,0.15,0.2,0.3,0.5")
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args()
    settings = get_settings()
    ds = load_dataset(settings)
    boot, _ = prequential_split(ds.interactions)
    cut = round(0.8 * len(boot))
    train, val = boot.iloc[:cut], boot.iloc[cut:].iloc[: args.limit]
    registry = registry_from_settings(settings)
    cfg = load_bundle(registry.download(registry.get("champion").version), ds).config
    model, _, _ = fit_two_stage(ds, train, settings, cfg)
    warm = set(int(u) for u in train["user_id"].unique())
    rows = []
    for strength in (float(s) for s in args.strengths.split(",")):
        session = service_session(ds, train, ServedModel(model, "validation"), cfg.half_life_days,
                                  stability=Stability(100_000, strength))  # fmt: skip
        rec = ChurnRecorder(session)
        metrics = replay(rec, ds, val, warm)  # type: ignore[arg-type]
        session.close()
        churn = np.asarray(rec.churn, dtype=np.float64)
        rows.append({"strength": strength, "NDCG@10": metrics["NDCG@10"], "HR@10": metrics["HR@10"],
                     "churn_mean": float(churn.mean()), "churn_median": float(np.median(churn)),
                     "churn_p90": float(np.percentile(churn, 90)), "lists_compared": len(churn)})  # fmt: skip
    out = Table(title=f"validation replay inside the P2 bootstrap ({len(val)} events)")
    for col in ("strength", "NDCG@10", "HR@10", "churn/event mean", "median", "p90"):
        out.add_column(col)
    for r in rows:
        out.add_row(f"{r['strength']:.2f}", f"{r['NDCG@10']:.4f}", f"{r['HR@10']:.4f}",
                    f"{r['churn_mean']:.2f}", f"{r['churn_median']:.0f}", f"{r['churn_p90']:.0f}")
    Console().print(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"protocol": "validation replay inside the P2 bootstrap",
                                     "source": ds.source, "events": len(val), "rows": rows}, indent=2))
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

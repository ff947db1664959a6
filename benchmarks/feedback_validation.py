"""Which feedback settings keep next-event accuracy: a validation replay inside the P2 bootstrap.

Usage::

    RECLOOP_HOME=HOME python benchmarks/feedback_validation.py [--limit 5000] [--json PATH]

The P2 bootstrap (first 80% of events, shared/EVALUATION.md) is split again in time:
the champion's registered recipe is fitted once on its first 80%, then the next
``--limit`` events are replayed test-then-train through the serving path under each
setting: implicit (every rating positive, as P1/P2), explicit with the demotion strength
at 0 / 0.3 / 1.0, and explicit with ratings >= 3 all of weight 1 (only ratings <= 2
change). Reports NDCG@10/HR@10 over all replayed events and over those rated >= 4. The
P2 test period is never read. Writes ``benchmarks/results/feedback_validation.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import recloop.events.feedback as fb
import recloop.serving.demotion as demotion
from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation.protocols import replay
from recloop.evaluation.splits import prequential_split
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import load_bundle
from recloop.registry import registry_from_settings
from recloop.serving.recommender import ServedModel
from recloop.serving.replay import service_session

RESULTS = Path(__file__).parent / "results" / "feedback_validation.json"
FLAT = ((2.5, fb.Feedback(1.0, "positive")), (1.5, fb.Feedback(-0.5, "negative")),
        (float("-inf"), fb.Feedback(-1.0, "negative")))  # fmt: skip
SETTINGS: list[tuple[str, str, float, Any]] = [
    ("implicit", "implicit", 0.0, None),
    ("explicit, demotion 0", "explicit", 0.0, None),
    ("explicit, demotion 0.3", "explicit", 0.3, None),
    ("explicit, demotion 1.0", "explicit", 1.0, None),
    ("explicit >=3 weight 1, demotion 0", "explicit", 0.0, FLAT),
    ("explicit >=3 weight 1, demotion 0.3", "explicit", 0.3, FLAT),
]


def main() -> None:
    """Fit once, replay under each setting, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=5000)
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
    rules, strength = fb.RATING_RULES, demotion.DEMOTION_STRENGTH
    rows = []
    for name, semantics, demote, table in SETTINGS:
        fb.RATING_RULES = rules if table is None else table
        demotion.DEMOTION_STRENGTH = demote
        session = service_session(ds, train, ServedModel(model, "validation"), cfg.half_life_days,
                                  semantics)  # type: ignore[arg-type]  # fmt: skip
        metrics = replay(session, ds, val, warm, liked_min=4.0)
        session.close()
        rows.append({"setting": name, **{k: metrics[k] for k in ("NDCG@10", "HR@10", "NDCG@10_liked",
                                                                  "HR@10_liked")}})  # fmt: skip
    fb.RATING_RULES, demotion.DEMOTION_STRENGTH = rules, strength
    out = Table(title=f"validation replay inside the P2 bootstrap ({len(val)} events)")
    for col in ("setting", "NDCG@10", "HR@10", "NDCG@10 liked", "HR@10 liked"):
        out.add_column(col)
    for r in rows:
        keys = ("NDCG@10", "HR@10", "NDCG@10_liked", "HR@10_liked")
        out.add_row(r["setting"], *(f"{r[k]:.4f}" for k in keys))
    Console().print(out)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"protocol": "validation replay inside the P2 bootstrap",
                                     "source": ds.source, "events": len(val), "rows": rows}, indent=2))
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

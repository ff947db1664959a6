"""List churn per event: how many of a user's top-10 one like replaces, by history length.

Usage::

    RECLOOP_HOME=HOME python benchmarks/churn.py [--per-bucket 40] [--seed 7] [--json PATH]
        [--p2 P2.json]

``HOME`` is a trained RECLOOP_HOME (``recloop train``). The registered champion's
recipe is refitted on the P2 bootstrap history (the first 80% of events,
shared/EVALUATION.md) and served through the P2 path (embedded store, per-event
fold-in: :func:`recloop.pipelines.recipe.registered_builder`). Users of the
bootstrap are bucketed by history length; in each bucket ``--per-bucket``
users (seeded sample) each receive one ``like``, of two kinds:

* ``top1``: the item in position 1 of their list (the obvious click);
* ``random``: a random unseen item among those with at least 20 ratings;
* ``top1_wallclock``: in a second, fresh store over the same model, other users like their
  top-1 with today's time as the timestamp (what the API stamps an event without one),
  the data's clock being 1998: what a server started on the data sees.

Churn = the items of the list before the like, other than the liked one, that are
gone from the list after it (0..9 for ``top1``, 0..10 for ``random``). Each user
gets one like of one kind (the users of a bucket alternate), so no like sees
another's effect. Prints a table and writes mean/median/p90 churn per bucket and
kind to ``benchmarks/results/churn.json``; ``--p2`` copies the champion's P2
NDCG@10/HR@10 from a ``recloop evaluate --protocol p2 --json`` file beside them.
Run it with ``PYTHONPATH`` pointing at the source tree under test (before/after).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation.splits import prequential_split
from recloop.events.schema import Event
from recloop.pipelines.recipe import registered_builder
from recloop.serving.replay import ServiceSession, service_session
from recloop.serving.stability import Stability

BUCKETS = ((1, 19), (20, 49), (50, 99), (100, 199), (200, 10_000))
RESULTS = Path(__file__).parent / "results" / "churn.json"


def _churn(session: ServiceSession, user: str, item: int, n: int) -> int:
    """Apply one like of ``item`` by ``user``; the before-list items (not ``item``) gone after."""
    svc = session.service
    before = svc.rank_items(user, 10).tolist()
    at = float(svc.live.stats.now) + 60.0
    svc.apply([Event(f"churn-{n}", user, item, int(svc.live.catalog.ids[item]), "like", at)])
    after = set(svc.rank_items(user, 10).tolist())
    return sum(1 for i in before if i != item and i not in after)


def _wall_clock(session: ServiceSession, sizes: Any, per_bucket: int, rng: np.random.Generator,
                n: int) -> dict[str, Any]:  # fmt: skip
    """Likes of the top-1 stamped with today's wall clock, as the API stamps them, in a fresh store.

    MovieLens ends in 1998, so the first such event is 28 years past the data, as on a
    server started on the data: ``session`` must hold no event yet.
    """
    out: dict[str, Any] = {}
    svc = session.service
    for lo, hi in BUCKETS:
        users = sizes[(sizes >= lo) & (sizes <= hi)].index.to_numpy()
        got: list[int] = []
        for u in rng.permutation(users)[:per_bucket].tolist():
            user = str(u)
            before = svc.rank_items(user, 10).tolist()
            item = before[0]
            item_id = int(svc.live.catalog.ids[item])
            svc.apply([Event(f"churn-wall-{n}", user, item, item_id, "like", time.time())])
            n += 1
            after = set(svc.rank_items(user, 10).tolist())
            got.append(sum(1 for i in before if i != item and i not in after))
        out.setdefault(f"{lo}-{hi}", {})["top1_wallclock"] = _summary(got)
    return out


def _summary(values: list[int]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    if not len(a):
        return {"users": 0.0}
    return {"users": float(len(a)), "mean": float(a.mean()), "median": float(np.median(a)),
            "p90": float(np.percentile(a, 90)), "max": float(a.max())}  # fmt: skip


def run(per_bucket: int, seed: int, semantics: str) -> dict[str, Any]:
    """Refit the champion recipe on the P2 bootstrap and measure churn per bucket and kind."""
    settings = get_settings()
    dataset = load_dataset(settings)
    boot, _ = prequential_split(dataset.interactions)
    t0 = time.perf_counter()
    kw: dict[str, Any] = {} if semantics == "implicit" else {"semantics": semantics}  # older code: none
    session = registered_builder("champion", settings, **kw).build(dataset, boot)
    assert isinstance(session, ServiceSession), "the champion was trained on this very split"
    fit_s = time.perf_counter() - t0
    sizes = boot.groupby("user_id").size()
    counts = np.bincount(dataset.item_index(boot["item_id"]), minlength=dataset.n_items)
    popular = np.flatnonzero(counts >= 20)
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    n = 0
    for lo, hi in BUCKETS:
        users = sizes[(sizes >= lo) & (sizes <= hi)].index.to_numpy()
        users = rng.permutation(users)[:per_bucket]
        got: dict[str, list[int]] = {"top1": [], "random": []}
        for k, u in enumerate(users.tolist()):
            user = str(u)
            if k % 2 == 0:
                kind, item = "top1", int(session.service.rank_items(user, 1)[0])
            else:
                seen = set(session.service.live.history(user).seen.tolist())
                kind, item = "random", int(rng.choice([i for i in popular.tolist() if i not in seen]))
            got[kind].append(_churn(session, user, item, n))
            n += 1
        out[f"{lo}-{hi}"] = {kind: _summary(v) for kind, v in got.items()}
    session.close()
    steady = Stability(settings.shown_lists, settings.stability_strength)  # as the settings say
    fresh = service_session(dataset, boot, session.service.model, session.service.live.half_life_days,
                            stability=steady, **kw)  # fmt: skip
    for bucket, kinds in _wall_clock(fresh, sizes, per_bucket, rng, n).items():
        out[bucket] |= kinds
    fresh.close()
    return {"protocol": "churn on the P2 bootstrap (shared/EVALUATION.md split)", "source": dataset.source,
            "semantics": semantics, "per_bucket": per_bucket, "seed": seed, "fit_s": fit_s,
            "buckets": out}  # fmt: skip


def main() -> None:
    """Parse arguments, run, print, write JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--per-bucket", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", type=Path, default=RESULTS)
    ap.add_argument("--p2", type=Path, default=None, help="a P2 report to copy the champion's figures from")
    ap.add_argument("--semantics", choices=("implicit", "explicit"), default="implicit",
                    help="feedback semantics of the replay service (implicit: P2's; explicit: served)")
    args = ap.parse_args()
    result = run(args.per_bucket, args.seed, args.semantics)
    if args.p2 is not None:
        p2 = json.loads(args.p2.read_text())["models"]
        result["p2"] = {name: {k: m["metrics"][k] for k in ("NDCG@10", "HR@10")} for name, m in p2.items()}
    table = Table(title="top-10 items replaced by one like (mean / median / p90)")
    for col in ("history", "top1 like", "random like", "top1 like, wall clock"):
        table.add_column(col)
    for bucket, kinds in result["buckets"].items():
        shown = (kinds["top1"], kinds["random"], kinds["top1_wallclock"])
        cells = [f"{s['mean']:.2f} / {s['median']:.0f} / {s['p90']:.0f} (n={s['users']:.0f})"
                 if s["users"] else "-" for s in shown]  # fmt: skip
        table.add_row(bucket, *cells)
    Console().print(table)
    if "p2" in result:
        Console().print("P2 beside it:", result["p2"])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

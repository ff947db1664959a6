"""Memory of distinct new users: N brand-new ids through the serving path, caches against their bounds.

Builds the serving runtime as ``recloop serve`` does (``build_runtime``), then for each of
N distinct new user ids, in process and as fast as one core allows: with probability
``--event-share`` one event first (``Recommender.ingest``, the path of ``POST /v1/events``:
the store append, the fold-in), then the user's recommendations (``Recommender.recommend``,
the path of ``GET /v1/users/{id}/recommendations`` when no experiment runs; a user without
events gets the starter list). Every ``--every`` users one row: each per-user cache's bytes
and bound (what the ``recloop_user_cache_*`` gauges export), the process RSS, the store's
users and, for the embedded store, the bytes of the new users' stored events in memory (the
state users created, kept by design: it is what the store persists; Redis keeps it in the
Redis server, outside this process).

``held_over_users``: per cache, how many users came after it first reached 95% of its bound;
the caches' total never passes the sum of the bounds however many users come.

    python benchmarks/user_memory.py --home HOME --users 200000 --event-share 0.6 \\
        --json benchmarks/results/user_memory.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from rich.progress import Progress

from recloop.config import MemoryStateConfig, RedisStateConfig, Settings
from recloop.serving.runtime import Runtime, build_runtime

sys.path.insert(0, str(Path(__file__).parent))
from soak import rss_mb


def store_mb(runtime: Runtime) -> float | None:
    """Bytes of the embedded store's per-user histories in memory (dict slots, ids, buffers), MiB."""
    users = getattr(runtime.store, "_users", None)
    if users is None:
        return None
    total = sys.getsizeof(users) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in users.items())
    return round(total / 2**20, 2)


def row(runtime: Runtime, n: int, t0: float, with_events: int) -> dict[str, Any]:
    """One measurement: caches (MiB and bound), RSS, the store."""
    caches = [*runtime.service.caches(), *runtime.live.caches()]
    return {"users": n, "with_events": with_events, "wall_s": round(time.monotonic() - t0, 1),
            "rss_mb": round(rss_mb(os.getpid()), 1),
            "caches_mb": {c.name: round(c.nbytes / 2**20, 2) for c in caches},
            "entries": {c.name: len(c) for c in caches},
            "caches_total_mb": round(sum(c.nbytes for c in caches) / 2**20, 1),
            "bound_total_mb": round(sum(c.limit_bytes for c in caches) / 2**20, 1),
            "store_users": runtime.store.users(), "store_mb": store_mb(runtime)}  # fmt: skip


def held(rows: list[dict[str, Any]], bounds: dict[str, float]) -> dict[str, int]:
    """Per cache: users served after it first held 95% of its bound (0: never reached)."""
    out = {}
    for name, bound in bounds.items():
        first = next((r["users"] for r in rows if r["caches_mb"][name] >= 0.95 * bound), None)
        out[name] = 0 if first is None else rows[-1]["users"] - first
    return out


def drive(runtime: Runtime, n: int, share: float, every: int, seed: int) -> list[dict[str, Any]]:
    """``n`` distinct new users through ingest (a share of them) and recommend; rows every ``every``."""
    rng, svc, n_items = random.Random(seed), runtime.service, len(runtime.service.live.catalog)
    item_ids = [v.item_id for v in svc.live.catalog.views]
    rows, t0, with_events = [], time.monotonic(), 0
    with Progress() as bar:
        task = bar.add_task("distinct new users", total=n)
        for i in range(1, n + 1):
            user = f"new-{i}-{uuid.uuid4().hex[:12]}"
            if rng.random() < share:
                item = item_ids[rng.randrange(n_items)]
                ev = {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": item,
                      "type": rng.choice(["click", "like", "view"])}  # fmt: skip
                svc.ingest([ev])
                with_events += 1
            svc.recommend(user, 10)
            if i % every == 0 or i == n:
                rows.append(row(runtime, i, t0, with_events))
                bar.update(task, completed=i)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="a trained RECLOOP_HOME (champion set)")
    ap.add_argument("--state", default="memory", help="memory, or a Redis URL (its own server: flushed)")
    ap.add_argument("--users", type=int, default=200_000)
    ap.add_argument("--event-share", type=float, default=0.6, help="share of the new users posting one event")
    ap.add_argument("--every", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ["RECLOOP_INSECURE_DEV"] = "true"
    if args.state == "memory":
        state: Any = MemoryStateConfig(path=Path(tempfile.mkdtemp(prefix="usermem-")) / "state.db")
    else:
        state = RedisStateConfig(url=args.state, prefix=f"usermem-{uuid.uuid4().hex[:8]}")
    runtime = build_runtime(Settings(home=args.home, state=state))
    try:
        start = row(runtime, 0, time.monotonic(), 0)
        rows = drive(runtime, args.users, args.event_share, args.every, seed=0)
    finally:
        runtime.close()
    bounds = {c.name: c.limit_bytes / 2**20 for c in [*runtime.service.caches(), *runtime.live.caches()]}
    end = rows[-1]
    out = {"users": args.users, "event_share": args.event_share, "state": args.state,
           "bounds_mb": {k: round(v, 1) for k, v in bounds.items()}, "bound_total_mb": end["bound_total_mb"],
           "caches_end_mb": end["caches_total_mb"], "caches_max_mb": max(r["caches_total_mb"] for r in rows),
           "held_over_users": held(rows, bounds),
           "rss_start_mb": start["rss_mb"], "rss_end_mb": end["rss_mb"],
           "store_mb_end": end["store_mb"], "store_users_end": end["store_users"],
           "store_bytes_per_user_with_events": None if end["store_mb"] is None or not end["with_events"]
           else round(((end["store_mb"] - (start["store_mb"] or 0)) * 2**20) / end["with_events"], 1),
           "users_per_s": round(args.users / end["wall_s"], 1), "start": start, "rows": rows}  # fmt: skip
    print(json.dumps({k: v for k, v in out.items() if k not in ("rows", "start")}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

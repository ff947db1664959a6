"""Feature-store memory at scale: bytes per user in Redis and in the embedded store.

Usage::

    python benchmarks/store_memory.py [--shapes shop ml20m] [--users 20000 10000] [--port 6391]
        [--json benchmarks/results/store_memory.json]

For each shape, ``recloop data synth`` makes ``--users`` users (one count per shape) with the shape's activity
(events per user) and catalog; their events (``rate``, ids ``s-<seq>``) are appended in
time order, 500 per call, into:

* **Redis**: a redis-server of its own started on ``--port`` (no persistence; stopped at
  the end), so ``INFO memory`` ``used_memory`` deltas are this store's alone. Phases:
  ``loaded`` (histories + the whole log + the id sets), ``log_trimmed`` (after
  ``trim_log``, what ``recloop archive run --trim`` leaves once the archive holds the
  log), ``steady`` (also after the idempotency window: the id buckets expired; the
  benchmark uses a 2 s window and waits for the real expiry), and ``steady`` less the
  item-stats hash (it grows with the catalog, not the users). Per-component bytes from
  ``MEMORY USAGE`` (every user key summed; the log and id sets whole).
* **embedded**: a SQLite file (its size after a checkpoint: the durable log with its
  unique id index, the backend's only durable record) and the bytes of the per-user
  state in memory (``sys.getsizeof`` of the users dict, its keys and packed buffers).

The id sets hold what arrived within the idempotency window, whatever the users: their
cost is given per event (bytes per id in a set of these ids; x events per window).

Figures are scaled to one million users (bytes / users * 1e6, in GiB); the issue's bar
is 0.8 GiB of Redis per 1M users. Writes JSON with every phase and the component sizes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from recloop.data.synth import generate
from recloop.data.synth_source import read_synth_dir
from recloop.data.synth_spec import SHAPES, make_spec
from recloop.events.schema import Event
from recloop.features.redis_store import RedisFeatureStore
from recloop.features.sqlite_store import SQLiteFeatureStore

console = Console(width=150)
GIB = 1024**3
BATCH = 500


def events_for(shape: str, users: int, seed: int = 0) -> tuple[list[Event], int, int]:
    """``users`` synthetic users of ``shape``'s activity as store events; (events, users, items)."""
    d = SHAPES[shape]
    spec = make_spec(shape, seed=seed, users=users, items=d.items, events=round(users * d.events / d.users))
    with tempfile.TemporaryDirectory() as tmp:
        generate(spec, Path(tmp) / "d")
        inter = read_synth_dir(Path(tmp) / "d").interactions
    rows = zip(inter["user_id"].to_numpy(), inter["item_id"].to_numpy(), inter["rating"].to_numpy(),
               inter["timestamp"].to_numpy(), strict=True)  # fmt: skip
    out = [Event(f"s-{n}", str(u), int(i) - 1, int(i), "rate", float(t), float(r))
           for n, (u, i, r, t) in enumerate(rows)]  # fmt: skip
    return out, users, spec.items


def _load(store: Any, events: list[Event], label: str) -> float:
    t0 = time.perf_counter()
    with Progress(console=console, transient=True) as prog:
        task = prog.add_task(label, total=len(events))
        for start in range(0, len(events), BATCH):
            store.append(events[start : start + BATCH])
            prog.advance(task, BATCH)
    return time.perf_counter() - t0


@contextmanager
def own_redis(port: int) -> Iterator[redis.Redis]:
    """A redis-server of this benchmark's own on ``port`` (no persistence), stopped after."""
    work = tempfile.mkdtemp(prefix="recloop-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                             "--dir", work], stdout=subprocess.DEVNULL)  # fmt: skip
    client = redis.Redis(port=port)
    try:
        for _ in range(50):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def _used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def _usage(client: redis.Redis, pattern: str) -> int:
    keys = client.scan_iter(match=pattern, count=1000)
    return sum(int(client.memory_usage(k, samples=0) or 0) for k in keys)


def _id_bytes(client: redis.Redis, events: list[Event]) -> float:
    """Bytes per id of a set holding these events' ids (what a 24 h window holds per event)."""
    key = "store-memory:ids-cost"
    for start in range(0, len(events), 10_000):
        client.sadd(key, *[e.event_id for e in events[start : start + 10_000]])
    used = int(client.memory_usage(key, samples=0) or 0)
    client.delete(key)
    return used / len(events)


def redis_run(client: redis.Redis, port: int, events: list[Event], users: int, items: int) -> dict[str, Any]:
    """Load, then trim the log, then let the id buckets expire; used_memory at each phase."""
    client.flushdb()  # this benchmark's own server: nothing else lives there
    base = _used(client)
    prefix = f"mem-{uuid.uuid4().hex[:6]}"
    store = RedisFeatureStore(f"redis://127.0.0.1:{port}/0", prefix, items, idempotency_window_s=2.0)
    wall = _load(store, events, "redis")
    parts = {"histories": _usage(client, f"{prefix}:u:*"), "log": _usage(client, f"{prefix}:log"),
             "ids": _usage(client, f"{prefix}:ids:*"),
             "items_catalog": _usage(client, f"{prefix}:items")}  # fmt: skip
    phases = {"loaded": _used(client) - base}
    store.trim_log(store.event_count())
    phases["log_trimmed"] = _used(client) - base
    deadline = time.time() + 30
    while list(client.scan_iter(match=f"{prefix}:ids:*")) and time.time() < deadline:
        time.sleep(0.5)
        client.randomkey()  # let the server's active expiry run
    phases["steady"] = _used(client) - base
    # the item stats hash grows with the catalog, not the users: stated apart
    phases["steady_per_user_state"] = phases["steady"] - parts["items_catalog"]
    assert len(store.user_events(events[0].user_id)) > 0
    store.close()
    id_cost = _id_bytes(client, events)
    per_m = {k: v / users * 1e6 / GIB for k, v in phases.items()}
    return {"bytes": phases, "gib_per_1m_users": per_m, "components_bytes": parts,
            "bytes_per_user_history": parts["histories"] / users, "load_s": wall,
            "id_set_bytes_per_event": id_cost,
            "ids_gib_per_1m_events_in_window": id_cost * 1e6 / GIB,
            "events_per_s": len(events) / wall}  # fmt: skip


def _held(store: SQLiteFeatureStore) -> int:
    """Bytes of the store's per-user state: the users dict, its keys and packed buffers."""
    users = store._users
    return sys.getsizeof(users) + sum(sys.getsizeof(k) + sys.getsizeof(v) for k, v in users.items())


def sqlite_run(events: list[Event], users: int, items: int) -> dict[str, Any]:
    """Load into a SQLite-backed store; file size and the per-user state's bytes in memory."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "state.db"
        store = SQLiteFeatureStore(path, items)
        wall = _load(store, events, "embedded")
        held = _held(store)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        store.close()
    return {"file_bytes": size, "memory_bytes": held,
            "gib_per_1m_users": {"file": size / users * 1e6 / GIB, "memory": held / users * 1e6 / GIB},
            "load_s": wall, "events_per_s": len(events) / wall}  # fmt: skip


def main() -> None:
    """Run every shape on both backends; print a table; write the JSON."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--shapes", nargs="+", default=["shop", "ml20m"])
    parser.add_argument("--users", type=int, nargs="+", default=[20_000, 10_000], help="one per shape")
    parser.add_argument("--port", type=int, default=6391)
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/store_memory.json"))
    args = parser.parse_args()
    runs: dict[str, Any] = {}
    with own_redis(args.port) as client:
        for shape, n_users in zip(args.shapes, args.users, strict=True):
            events, users, items = events_for(shape, n_users)
            runs[shape] = {"users": users, "items": items, "events": len(events),
                           "events_per_user": len(events) / users,
                           "redis": redis_run(client, args.port, events, users, items),
                           "embedded": sqlite_run(events, users, items)}  # fmt: skip
            del events
            gc.collect()
    table = Table(title="feature store memory, GiB per 1M users (issue bar: Redis < 0.8)")
    for col in ("shape", "events/user", "redis loaded", "log trimmed", "steady", "steady w/o catalog",
                "B/user history", "B/id", "sqlite file", "embedded RAM"):
        table.add_column(col, justify="right")
    for shape, r in runs.items():
        g, e = r["redis"]["gib_per_1m_users"], r["embedded"]["gib_per_1m_users"]
        table.add_row(shape, f"{r['events_per_user']:.1f}", f"{g['loaded']:.2f}", f"{g['log_trimmed']:.2f}",
                      f"{g['steady']:.2f}", f"{g['steady_per_user_state']:.2f}",
                      f"{r['redis']['bytes_per_user_history']:,.0f}",
                      f"{r['redis']['id_set_bytes_per_event']:.0f}",
                      f"{e['file']:.2f}", f"{e['memory']:.2f}")  # fmt: skip
    console.print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"cores": os.cpu_count(), "runs": runs}, indent=2) + "\n")
    console.print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

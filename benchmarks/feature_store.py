"""Feature store benchmark: append throughput and history read latency, both backends.

Usage::

    python benchmarks/feature_store.py [--backends memory redis]
        [--redis-url redis://127.0.0.1:6379/0] [--singles 5000] [--batches 300]
        [--reads 5000] [--json PATH]

For each backend, on an empty store (a temporary SQLite file; a unique Redis
prefix, deleted afterwards) and a 1,682-item catalog (MovieLens-100K size):

* ``single``: ``--singles`` appends of one event each (the API's per-request
  path); per-call latency and events/s over the whole run;
* ``batch100``: ``--batches`` appends of 100 events each; per-call latency
  and events/s;
* ``user_events``: ``--reads`` reads of a user with 300 events (270 positive,
  30 dislikes), per-call latency.

Latencies are ``time.perf_counter_ns`` around one public call, reported as
median and p99 in microseconds. Writes ``{"cores", "n_items", "backends":
{name: {"single": {...}, "batch100": {...}, "user_events": {...}}}}``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.events.schema import Event
from recloop.features import FeatureStore, open_store
from recloop.runtime import cpu_count

DEFAULT_JSON = Path(__file__).parent / "results" / "feature_store.json"
N_ITEMS = 1682


def make_events(start: int, n: int, user: str | None = None) -> list[Event]:
    """``n`` events with ids ``b<start>...``: mostly clicks, every 10th a dislike, some rates."""
    out = []
    for i in range(start, start + n):
        kind = "dislike" if i % 10 == 9 else "rate" if i % 10 == 3 else "click"
        out.append(
            Event(
                event_id=f"b{i}",
                user_id=user or f"u{i % 943}",
                item=(i * 7919) % N_ITEMS,
                item_id=(i * 7919) % N_ITEMS + 1,
                type=kind,  # type: ignore[arg-type]
                timestamp=1.7e9 + i * 0.5,
                value=4.0 if kind == "rate" else None,
                request_id=f"r{i}",
            )
        )
    return out


def timed(calls: int, fn: Callable[[int], object], progress: Progress, label: str) -> np.ndarray:
    """Latency of ``fn(k)`` for k = 0..calls-1, microseconds, float64 (calls,)."""
    out = np.empty(calls, dtype=np.float64)
    task = progress.add_task(label, total=calls)
    for k in range(calls):
        t0 = time.perf_counter_ns()
        fn(k)
        out[k] = (time.perf_counter_ns() - t0) / 1e3
        if k % 100 == 99:
            progress.advance(task, 100)
    progress.update(task, completed=calls)
    return out


def summary(lat_us: np.ndarray, events_per_call: int) -> dict[str, float]:
    """Median/p99 latency and events per second over the whole run."""
    return {
        "calls": int(lat_us.size),
        "p50_us": round(float(np.median(lat_us)), 1),
        "p99_us": round(float(np.percentile(lat_us, 99)), 1),
        "events_per_s": round(events_per_call * lat_us.size / (lat_us.sum() / 1e6)),
    }


def bench(store: FeatureStore, args: argparse.Namespace, progress: Progress, name: str) -> Any:
    """The three measurements on one (empty) store."""
    singles = make_events(0, args.singles)
    single = timed(
        args.singles,
        lambda k: store.append(singles[k : k + 1]),
        progress,
        f"{name}: single appends",
    )
    batches = make_events(10_000_000, 100 * args.batches)
    batch = timed(
        args.batches,
        lambda k: store.append(batches[100 * k : 100 * k + 100]),
        progress,
        f"{name}: batches of 100",
    )
    store.append(make_events(20_000_000, 300, user="heavy"))
    assert len(store.user_events("heavy")) == 270
    reads = timed(args.reads, lambda _: store.user_events("heavy"), progress, f"{name}: user_events (300)")
    return {
        "single": summary(single, 1),
        "batch100": summary(batch, 100),
        "user_events": summary(reads, 1) | {"history_len": 300},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=["memory", "redis"])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--singles", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--reads", type=int, default=5000)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        for name in args.backends:
            config: MemoryStateConfig | RedisStateConfig = (
                MemoryStateConfig()
                if name == "memory"
                else RedisStateConfig(url=args.redis_url, prefix=f"recloop-bench-{uuid.uuid4().hex}")
            )
            store = open_store(config, N_ITEMS, Path(tmp))
            try:
                results[name] = bench(store, args, progress, name)
            finally:
                store.clear()
                store.close()

    report = {"cores": cpu_count(), "n_items": N_ITEMS, "backends": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")

    table = Table(title="feature store")
    for col in ("backend", "measure", "p50 µs", "p99 µs", "events/s"):
        table.add_column(col)
    for name, res in results.items():
        for measure, s in res.items():
            table.add_row(name, measure, str(s["p50_us"]), str(s["p99_us"]), str(s["events_per_s"]))
    Console().print(table)
    Console().print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

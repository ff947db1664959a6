"""Start-up benchmark: time from `recloop serve` to a 200 on /ready over a large live state.

Usage::

    python benchmarks/startup.py --home HOME [--sizes 100000 1000000] [--runs 3]
        [--state-dir DIR] [--json PATH]

``HOME`` is a trained RECLOOP_HOME (``recloop data fetch && recloop train``).
For each size, an embedded state file (``<state-dir>/state-<n>.db``, reused
when it already holds ``n`` events) is filled with ``n`` live events shaped
like the API's traffic: MovieLens users and 20% new users, catalog items,
the six event types (every 5th a ``rate`` with a value, every 10th a
``dislike``), increasing timestamps after the data's last one. Then, per
run, a fresh ``recloop serve`` subprocess starts on it and ``/ready`` is
polled every 50 ms; also timed in process: opening the store alone
(``SQLiteFeatureStore``). Prints a table and writes medians and every run to
``benchmarks/results/startup.json``. Run it with ``PYTHONPATH`` pointing at
the source tree under test (so "before" and "after" use the same script).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from recloop.config import DataConfig, Settings
from recloop.data import load_dataset
from recloop.events.schema import Event, EventType
from recloop.features.sqlite_store import SQLiteFeatureStore
from recloop.runtime import cpu_count

DEFAULT_JSON = Path(__file__).parent / "results" / "startup.json"
TYPES: tuple[EventType, ...] = ("click", "view", "like", "purchase", "click", "rate", "click", "view",
                                "like", "dislike")  # fmt: skip
console = Console(stderr=True)


def fill(path: Path, n: int, home: Path, progress: Progress) -> None:
    """Write ``n`` live events into a new state file at ``path`` (see the module docstring)."""
    data = load_dataset(Settings(home=home, data=DataConfig()))
    item_ids = [int(i) for i in data.item_ids]
    users = sorted(data.interactions["user_id"].unique().tolist())
    t0 = float(data.interactions["timestamp"].max()) + 1.0
    store = SQLiteFeatureStore(path, data.n_items)
    task = progress.add_task(f"fill {n:,} events", total=n)
    batch: list[Event] = []
    for k in range(n):
        kind = TYPES[k % len(TYPES)]
        user = str(users[(k * 7919) % len(users)]) if k % 5 else f"live-{(k * 31) % (n // 50 + 1)}"
        item = (k * 104729) % data.n_items
        value = float(1 + k % 5) if kind == "rate" else None
        batch.append(Event(f"bench-{k}", user, item, item_ids[item], kind, t0 + k * 0.5, value))
        if len(batch) == 5000:
            store.append(batch)
            progress.advance(task, len(batch))
            batch = []
    if batch:
        store.append(batch)
        progress.advance(task, len(batch))
    store.close()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def time_to_ready(home: Path, state: Path, log: Path) -> float:
    """Seconds from spawning `recloop serve` to the first 200 of /ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env |= {"RECLOOP_HOME": str(home), "RECLOOP_STATE__TYPE": "memory", "RECLOOP_STATE__PATH": str(state),
            "RECLOOP_ADMIN_API_KEY": "startup-benchmark-key"}  # fmt: skip
    cmd = [sys.executable, "-c", "from recloop.cli import main; main()", "serve", "--port", str(port)]
    t0 = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    # one client for the whole poll: httpx.get() builds an SSL context per call, which on a
    # 2-core machine keeps a core busy and slows the server being measured
    try:
        with httpx.Client(timeout=1.0) as http:
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"recloop serve exited with {proc.returncode}; see {log}")
                try:
                    if http.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                        return time.perf_counter() - t0
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def store_open_s(state: Path, n_items: int) -> float:
    """Seconds to open the embedded store on ``state`` (the replay of its log)."""
    t0 = time.perf_counter()
    store = SQLiteFeatureStore(state, n_items)
    took = time.perf_counter() - t0
    store.close()
    return took


def main() -> None:
    """Parse arguments, fill the states, time the starts, print and write the results."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, default=Path.home() / ".recloop")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--state-dir", type=Path, default=Path(tempfile.gettempdir()) / "recloop-startup")
    parser.add_argument("--label", default="", help="free text stored with the results (e.g. a commit)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args()
    args.state_dir.mkdir(parents=True, exist_ok=True)
    n_items = load_dataset(Settings(home=args.home, data=DataConfig())).n_items
    results: dict[str, Any] = {}
    with Progress(console=console) as progress:
        for n in args.sizes:
            state = args.state_dir / f"state-{n}.db"
            if not state.exists() or _count(state) != n:
                for suffix in ("", "-wal", "-shm", ".lock"):
                    Path(f"{state}{suffix}").unlink(missing_ok=True)
                fill(state, n, args.home, progress)
            task = progress.add_task(f"start on {n:,} events", total=args.runs)
            ready, opened = [], []
            for _ in range(args.runs):
                opened.append(store_open_s(state, n_items))
                ready.append(time_to_ready(args.home, state, args.state_dir / "serve.log"))
                progress.advance(task)
            results[str(n)] = {"events": n, "time_to_ready_s": statistics.median(ready),
                               "store_open_s": statistics.median(opened),
                               "runs": {"time_to_ready_s": ready, "store_open_s": opened}}  # fmt: skip
    table = Table(title=f"recloop serve start-up ({cpu_count()} cores, median of {args.runs})")
    for col in ("live events", "time to /ready (s)", "store open (s)"):
        table.add_column(col, justify="right")
    for r in results.values():
        table.add_row(f"{r['events']:,}", f"{r['time_to_ready_s']:.2f}", f"{r['store_open_s']:.2f}")
    Console().print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"cores": cpu_count(), "runs": args.runs, "label": args.label, "sizes": results}
    args.json.write_text(json.dumps(payload, indent=2))
    console.print(f"wrote {args.json}")


def _count(state: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    finally:
        conn.close()


if __name__ == "__main__":
    main()

"""Soak test: a real ``recloop serve`` under mixed traffic, half of it from brand-new users.

Per window: the server's RSS (from /proc), requests, errors and latency percentiles.
``flat_after_warmup_mb`` is the RSS growth from the end of the first quarter of the run
to its end: with bounded per-user memory it stays near zero however many new users came.
``--new-users N`` instead sends N recommendation requests for N distinct new ids and
reports the RSS difference (the memory cost of N distinct users). Each window also reads
the per-user caches' bytes from ``/metrics`` (``recloop_user_cache_bytes``: flat once each
is at its bound) and, on Redis, the server's ``used_memory`` (the users' stored events).

    python benchmarks/soak.py --home /tmp/home --minutes 4 --json /tmp/soak.json
    python benchmarks/soak.py --home /tmp/home --state redis://127.0.0.1:6390/0 --minutes 30 ...
    python benchmarks/soak.py --home /tmp/home --new-users 100000 --json /tmp/users.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import numpy as np

RECLOOP = Path(sys.executable).with_name("recloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(home: Path, state: str, log: Path, allow_volatile: bool = False
                 ) -> tuple[subprocess.Popen[bytes], str]:  # fmt: skip
    """``recloop serve`` on a free port with a private state (embedded file or a Redis prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(RECLOOP_HOME=str(home), RECLOOP_INSECURE_DEV="true")
    if state == "memory":
        env.update(RECLOOP_STATE__TYPE="memory", RECLOOP_STATE__PATH=str(log.with_suffix(".db")))
    else:
        env.update(RECLOOP_STATE__TYPE="redis", RECLOOP_STATE__URL=state,
                   RECLOOP_STATE__PREFIX=f"soak-{uuid.uuid4().hex[:8]}")
        if allow_volatile:
            env.update(RECLOOP_STATE__ALLOW_VOLATILE="true")
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([str(RECLOOP), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"recloop serve exited {proc.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"recloop serve not ready; see {log}")


class Window:
    """Counters of one reporting window (filled by the client threads)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0
        self.new_users = 0

    def record(self, ms: float, ok: bool, new: bool) -> None:
        with self.lock:
            self.latencies.append(ms)
            self.errors += 0 if ok else 1
            self.new_users += 1 if new else 0


def _one_request(client: httpx.Client, rng: random.Random, window: Window) -> None:
    new = rng.random() < 0.5
    user = f"soak-{uuid.uuid4().hex}" if new else str(rng.randint(1, 943))
    t0 = time.perf_counter()
    try:
        if rng.random() < 0.3:
            ev = {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": rng.randint(1, 1682),
                  "type": rng.choice(["click", "like", "view"])}
            r = client.post("/v1/events", json=ev)
        else:
            r = client.get(f"/v1/users/{user}/recommendations", params={"k": 10})
        ok = r.status_code < 400
    except httpx.HTTPError:
        ok = False
    window.record((time.perf_counter() - t0) * 1000, ok, new)


def _client_loop(url: str, stop: threading.Event, current: list[Window], seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            _one_request(client, rng, current[0])


def cache_mb(url: str) -> dict[str, float]:
    """``recloop_user_cache_bytes`` per cache from the server's /metrics, in MiB."""
    out: dict[str, float] = {}
    try:
        text = httpx.get(f"{url}/metrics", timeout=10).text
    except httpx.HTTPError:
        return out
    for line in text.splitlines():
        if line.startswith("recloop_user_cache_bytes{"):
            name = line.split('cache="', 1)[1].split('"', 1)[0]
            out[name] = round(float(line.rsplit(" ", 1)[1]) / 2**20, 2)
    return out


def redis_used_mb(state: str) -> float | None:
    """The Redis server's ``used_memory`` in MiB (None for the embedded store)."""
    if not state.startswith("redis"):
        return None
    import redis

    return round(int(redis.Redis.from_url(state).info("memory")["used_memory"]) / 2**20, 1)


def _summary(w: Window, t: float, rss: float) -> dict[str, Any]:
    lat = np.asarray(w.latencies) if w.latencies else np.zeros(1)
    return {"t_s": round(t, 1), "rss_mb": round(rss, 1), "requests": len(w.latencies),
            "errors": w.errors, "new_users": w.new_users,
            "p50_ms": round(float(np.percentile(lat, 50)), 2),
            "p95_ms": round(float(np.percentile(lat, 95)), 2),
            "p99_ms": round(float(np.percentile(lat, 99)), 2)}


def soak(url: str, pid: int, minutes: float, window_s: float, clients: int,
         state: str = "memory") -> dict[str, Any]:  # fmt: skip
    """Run the mixed traffic for ``minutes``; one summary row per ``window_s``."""
    stop, current = threading.Event(), [Window()]
    threads = [threading.Thread(target=_client_loop, args=(url, stop, current, i), daemon=True)
               for i in range(clients)]
    for th in threads:
        th.start()
    t0, rows = time.monotonic(), []
    while time.monotonic() - t0 < minutes * 60:
        time.sleep(window_s)
        done, current[0] = current[0], Window()
        rows.append(_summary(done, time.monotonic() - t0, rss_mb(pid)))
        caches = cache_mb(url)
        rows[-1].update(caches_mb=caches, caches_total_mb=round(sum(caches.values()), 1),
                        redis_used_mb=redis_used_mb(state))  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    stop.set()
    for th in threads:
        th.join(timeout=15)
    quarter = rows[max(0, len(rows) // 4 - 1)]
    warm = quarter["rss_mb"]
    return {"windows": rows, "rss_after_warmup_mb": warm, "rss_end_mb": rows[-1]["rss_mb"],
            "flat_after_warmup_mb": round(rows[-1]["rss_mb"] - warm, 1),
            "flat_after_warmup_pct": round(100 * (rows[-1]["rss_mb"] - warm) / warm, 1),
            "caches_after_warmup_mb": quarter["caches_total_mb"],
            "caches_end_mb": rows[-1]["caches_total_mb"],
            "redis_after_warmup_mb": quarter["redis_used_mb"], "redis_end_mb": rows[-1]["redis_used_mb"],
            "requests": sum(r["requests"] for r in rows), "errors": sum(r["errors"] for r in rows),
            "new_users": sum(r["new_users"] for r in rows)}


def distinct_users(url: str, pid: int, n: int, clients: int) -> dict[str, Any]:
    """RSS before and after ``n`` recommendation requests from ``n`` distinct new ids."""
    before, errors, lock = rss_mb(pid), [0], threading.Lock()

    def work(lo: int, hi: int) -> None:
        with httpx.Client(base_url=url, timeout=10) as client:
            for i in range(lo, hi):
                user = f"new-{i}-{uuid.uuid4().hex[:6]}"
                if client.get(f"/v1/users/{user}/recommendations").status_code != 200:
                    with lock:
                        errors[0] += 1

    step = -(-n // clients)
    t0 = time.monotonic()
    threads = [threading.Thread(target=work, args=(i * step, min(n, (i + 1) * step))) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    after = rss_mb(pid)
    return {"distinct_new_users": n, "rss_before_mb": round(before, 1), "rss_after_mb": round(after, 1),
            "growth_mb": round(after - before, 1), "bytes_per_user": round((after - before) * 2**20 / n, 1),
            "errors": errors[0], "wall_s": round(time.monotonic() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", type=Path, required=True, help="a trained RECLOOP_HOME (champion set)")
    ap.add_argument("--state", default="memory", help="memory, or a Redis URL (e.g. redis://127.0.0.1:6379/14)")
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--window-s", type=float, default=10.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--allow-volatile", action="store_true",
                    help="Redis without persistence (RECLOOP_STATE__ALLOW_VOLATILE=true)")
    ap.add_argument("--new-users", type=int, default=0, help="measure N distinct new users instead")
    ap.add_argument("--json", type=Path, help="write the result here")
    args = ap.parse_args()
    log = Path(tempfile.mkdtemp(prefix="soak-")) / "serve.log"
    proc, url = start_server(args.home, args.state, log, args.allow_volatile)
    try:
        if args.new_users:
            out = distinct_users(url, proc.pid, args.new_users, args.clients)
        else:
            out = soak(url, proc.pid, args.minutes, args.window_s, args.clients, args.state)
        out.update(state=args.state, server_alive=proc.poll() is None, log=str(log),
                   malloc_arena_max=os.environ.get("MALLOC_ARENA_MAX"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    summary = {k: v for k, v in out.items() if k != "windows"}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

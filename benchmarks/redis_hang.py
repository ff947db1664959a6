"""Redis hung under traffic: a real ``recloop serve`` on a private Redis that is SIGSTOPped.

A redis-server of its own (a free port, AOF everysec, in a temp dir: the shared server on 6379
is never touched) backs ``recloop serve``. Writers post events, readers ask recommendations,
probes poll ``/health`` (every 50 ms) and ``/ready`` (every 250 ms). After ``--before-s`` the
Redis process gets SIGSTOP for ``--hang-s`` seconds, then SIGCONT, and traffic goes on for
``--after-s``. Per phase (before / hung / after): ``/health`` latency (p50, p99, max, how many
over 100 ms), ``/ready`` status codes, write outcomes and their latency. Then every
acknowledged event id (a 200 whose result is ``applied`` or ``duplicate``) is looked up in
Redis: ``acknowledged_lost`` must be 0.

    python benchmarks/redis_hang.py --home /tmp/home --json benchmarks/results/redis_hang.json
"""

from __future__ import annotations

import argparse
import json
import os
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
import redis

from recloop.features.redis_ids import stored_ids

RECLOOP = Path(sys.executable).with_name("recloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_redis(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A private redis-server (AOF everysec) on a free port."""
    port = _free_port()
    cmd = ["redis-server", "--port", str(port), "--dir", str(workdir), "--appendonly", "yes",
           "--appendfsync", "everysec", "--save", ""]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return proc, url
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the private redis-server did not start")


def start_server(home: Path, redis_url: str, prefix: str, timeout_s: float, log: Path) -> tuple[Any, str]:
    """``recloop serve`` on a free port over ``home`` with the private Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(RECLOOP_HOME=str(home), RECLOOP_INSECURE_DEV="true", RECLOOP_STATE__TYPE="redis",
               RECLOOP_STATE__URL=redis_url, RECLOOP_STATE__PREFIX=prefix,
               RECLOOP_STATE__TIMEOUT_S=str(timeout_s))  # fmt: skip
    port = _free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen([str(RECLOOP), "serve", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
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


class Recorder:
    """Timestamped samples of every probe and client, shared by the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rows: dict[str, list[dict[str, Any]]] = {"health": [], "ready": [], "write": [], "read": []}
        self.stop = threading.Event()

    def add(self, kind: str, **row: Any) -> None:
        with self.lock:
            self.rows[kind].append(row)


def _timed(client: httpx.Client, method: str, path: str, **kw: Any) -> tuple[int, float, Any]:
    t0 = time.perf_counter()
    try:
        r = client.request(method, path, **kw)
        is_json = r.headers.get("content-type", "").startswith("application/json")
        code, body = r.status_code, (r.json() if is_json else None)
    except httpx.TransportError as exc:
        code, body = 0, repr(exc)
    return code, (time.perf_counter() - t0) * 1000, body


def probe(rec: Recorder, url: str, path: str, kind: str, every_s: float) -> None:
    with httpx.Client(base_url=url, timeout=30) as c:
        while not rec.stop.is_set():
            code, ms, _ = _timed(c, "GET", path)
            rec.add(kind, t=time.time(), code=code, ms=ms)
            rec.stop.wait(every_s)


def writer(rec: Recorder, url: str, n: int) -> None:
    with httpx.Client(base_url=url, timeout=60) as c:
        k = 0
        while not rec.stop.is_set():
            eid = f"hang-{n}-{k}-{uuid.uuid4().hex[:6]}"
            ev = {"event_id": eid, "user_id": f"hang-user-{n}-{k % 50}", "item_id": 1 + k % 1600,
                  "type": "click"}  # fmt: skip
            code, ms, body = _timed(c, "POST", "/v1/events", json=ev)
            status = body["results"][0]["status"] if code == 200 and isinstance(body, dict) else None
            rec.add("write", t=time.time(), code=code, ms=ms, event_id=eid, status=status, body=ev)
            k += 1
            rec.stop.wait(0.02)


def reader(rec: Recorder, url: str) -> None:
    with httpx.Client(base_url=url, timeout=60) as c:
        k = 0
        while not rec.stop.is_set():
            code, ms, _ = _timed(c, "GET", f"/v1/users/{1 + k % 900}/recommendations")
            rec.add("read", t=time.time(), code=code, ms=ms)
            k += 1
            rec.stop.wait(0.02)


def _phase(t: float, hang: tuple[float, float]) -> str:
    return "before" if t < hang[0] else "hung" if t < hang[1] else "after"


def _latency(ms: list[float]) -> dict[str, Any]:
    if not ms:
        return {"n": 0}
    a = np.array(ms)
    return {"n": len(a), "p50_ms": round(float(np.percentile(a, 50)), 2),
            "p99_ms": round(float(np.percentile(a, 99)), 2), "max_ms": round(float(a.max()), 2),
            "over_100ms": int((a > 100).sum())}  # fmt: skip


def _codes(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {str(c): sum(1 for r in rows if r["code"] == c) for c in sorted({r["code"] for r in rows})}


def summarize(rec: Recorder, hang: tuple[float, float]) -> dict[str, Any]:
    """Per phase: latencies of /health and reads, /ready and write status codes, write latencies by code."""
    out: dict[str, Any] = {}
    for phase in ("before", "hung", "after"):
        rows = {k: [r for r in v if _phase(r["t"], hang) == phase] for k, v in rec.rows.items()}
        writes = {"codes": _codes(rows["write"])}
        for c in writes["codes"]:
            writes[f"latency_{c}"] = _latency([r["ms"] for r in rows["write"] if r["code"] == int(c)])
        out[phase] = {
            "health": _latency([r["ms"] for r in rows["health"]]) | {"codes": _codes(rows["health"])},
            "ready_codes": _codes(rows["ready"]),
            "writes": writes,
            "reads": _latency([r["ms"] for r in rows["read"]]) | {"codes": _codes(rows["read"])},
        }
    return out


def check_loss(rec: Recorder, redis_url: str, prefix: str) -> dict[str, Any]:
    """Acknowledged events missing from Redis (must be 0), and failed writes Redis ran later."""
    r = redis.Redis.from_url(redis_url)
    acked = [w["event_id"] for w in rec.rows["write"]
             if w["code"] == 200 and w["status"] in ("applied", "duplicate")]  # fmt: skip
    failed = [w["event_id"] for w in rec.rows["write"] if w["code"] != 200]
    have = lambda ids: stored_ids(r, prefix, ids)  # noqa: E731  (the time-bucketed id hashes)
    lost = [i for i, ok in zip(acked, have(acked), strict=True) if not ok]
    ran_later = sum(have(failed))
    r.close()
    return {"acknowledged": len(acked), "acknowledged_lost": len(lost), "lost_ids": lost[:20],
            "failed_writes": len(failed), "failed_writes_applied_after_resume": int(ran_later)}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="redis-hang-"))
    redis_proc, redis_url = start_redis(work)
    prefix = f"hang-{uuid.uuid4().hex[:8]}"
    server = None
    try:
        server, url = start_server(args.home, redis_url, prefix, args.timeout_s, work / "serve.log")
        rec = Recorder()
        threads = [threading.Thread(target=probe, args=(rec, url, "/health", "health", 0.05)),
                   threading.Thread(target=probe, args=(rec, url, "/ready", "ready", 0.25)),
                   *[threading.Thread(target=writer, args=(rec, url, n)) for n in range(args.writers)],
                   threading.Thread(target=reader, args=(rec, url))]  # fmt: skip
        for t in threads:
            t.start()
        time.sleep(args.before_s)
        hang_start = time.time()
        os.kill(redis_proc.pid, signal.SIGSTOP)
        time.sleep(args.hang_s)
        os.kill(redis_proc.pid, signal.SIGCONT)
        hang_end = time.time()
        time.sleep(args.after_s)
        rec.stop.set()
        for t in threads:
            t.join(120)
        phases = summarize(rec, (hang_start, hang_end))
        loss = check_loss(rec, redis_url, prefix)
    finally:
        os.kill(redis_proc.pid, signal.SIGCONT)
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        redis_proc.terminate()
        redis_proc.wait(10)
    return {"hang_s": args.hang_s, "state_timeout_s": args.timeout_s, "writers": args.writers,
            "phases": phases, "loss": loss}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--home", type=Path, required=True, help="a trained RECLOOP_HOME")
    p.add_argument("--hang-s", type=float, default=15.0)
    p.add_argument("--before-s", type=float, default=5.0)
    p.add_argument("--after-s", type=float, default=10.0)
    p.add_argument("--timeout-s", type=float, default=2.0, help="RECLOOP_STATE__TIMEOUT_S of the server")
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "redis_hang.json")
    args = p.parse_args()
    out = run(args)
    print(json.dumps(out, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

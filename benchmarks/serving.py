"""Serving benchmark: a real `recloop serve` process driven by wrk over 127.0.0.1.

Usage::

    python benchmarks/serving.py [--home ~/.recloop] [--duration 15] [--connections 8]
        [--threads 2] [--fresh 300] [--json benchmarks/results/serving.json]

Starts ``recloop serve`` (one uvicorn worker on the asyncio loop, ``memory``
state backend in a temporary SQLite file, the champion of ``--home``; run
``recloop train`` first) and measures, each with wrk (``-t2 -c8 -d15s --latency``):

* ``health``: ``GET /health`` -- the framework ceiling of this server;
* ``recommendations``: ``GET /v1/users/{random MovieLens user}/recommendations``
  -- the full pipeline (candidates, features, LightGBM, rules, reasons); also
  the share of requests that reused the user's history-dependent scores
  (``user_scores_reused``: a user's second and later requests with no event
  in between);
* ``events_single``: ``POST /v1/events`` with one event (user and item ids vary
  with a Lua counter); events/s are events the server *applied* (from
  ``/v1/stats``) over wrk's duration;
* ``events_batch100``: ``POST /v1/events`` with 100 events per request;

the same recommendations run on two more servers, for comparison only
(``--no-variants`` skips them): ``recommendations_uvloop`` (``--loop uvloop``)
and ``recommendations_no_user_cache`` (``RECLOOP_USER_CACHE_MB=0``: every
request recomputes every source, the cost of a request right after an event);
and, from a Python client on a keep-alive connection, ``fresh`` (``--fresh``
trials): GET a random user's list, then time POST a like on one of its items
-> GET the list again (sent -> response received), checking the liked item is
gone; also the GET's server-side ``latency_ms``.

wrk's latency distribution (50/75/90/99%) is parsed from its ``--latency``
output; p95 (not printed by wrk) comes from a Lua ``done`` callback. Writes
``{"machine", "config", "results": {name: {...}}, "targets", "passed"}``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

DEFAULT_JSON = Path(__file__).parent / "results" / "serving.json"
RECLOOP = Path(sys.executable).with_name("recloop")
N_USERS, N_ITEMS = 943, 1682  # MovieLens-100K ids are 1..N (use_catalog: another data set's)
TARGETS = {
    "recommendations.p99_ms": ("<", 20.0),
    "recommendations.requests_per_s": (">=", 500.0),
    "events_single.events_per_s": (">=", 2000.0),
    "events_batch100.events_per_s": (">=", 10000.0),
    "fresh.p99_ms": ("<", 10.0),
}

LABELS = {
    "recommendations": "recs",
    "events_single": "event",
    "events_batch100": "batch100",
    "recommendations_uvloop": "recs uvloop",
    "recommendations_no_user_cache": "recs no cache",
}

console = Console(width=None if sys.stdout.isatty() else 120)  # the table needs ~110 columns

# -- Lua scripts ---------------------------------------------------------------------------

_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_DONE requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p95_us=%d p99_us=%d max_us=%d mean_us=%.1f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
"""

# per-thread ids ("tid", from setup) keep event ids unique across wrk threads (up to 16)
_THREADS = r"""
local n_threads = 0
setup = function(thread)
  thread:set("tid", n_threads)
  n_threads = n_threads + 1
end
"""

_EVENTS = (
    _THREADS
    + r"""
local counter = 0
local types = {"click", "view", "like", "click", "purchase"}
local function next_event(kind)
  counter = counter + 1
  local n = counter * 16 + tid
  return string.format('{"event_id":"RUN-%s-%d","user_id":"%d","item_id":%d,"type":"%s"}',
    kind, n, n % N_USERS + 1, (n * 7919) % N_ITEMS + 1, types[n % #types + 1])
end
local function post(body)
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
end
"""
)

LUA = {
    "health": _DONE,
    "recommendations": _THREADS
    + r"""
init = function(args) math.randomseed(os.time() * 100 + tid) end
request = function()
  return wrk.format("GET", "/v1/users/" .. math.random(1, N_USERS) .. "/recommendations?k=10")
end
"""
    + _DONE,
    "events_single": _EVENTS + 'request = function() return post(next_event("s")) end\n' + _DONE,
    "events_batch100": _EVENTS
    + r"""
request = function()
  local parts = {}
  for j = 1, 100 do parts[j] = next_event("b") end
  return post('{"events":[' .. table.concat(parts, ",") .. ']}')
end
"""
    + _DONE,
}

def use_catalog(n_users: int, n_items: int) -> None:
    """Draw users and items from 1..n_users / 1..n_items (a `recloop data synth` set's ids)."""
    global N_USERS, N_ITEMS
    N_USERS, N_ITEMS = n_users, n_items


# -- the server ----------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def check_champion(home: Path) -> str:
    """The champion version under ``home``; exits with what to run if there is none."""
    from recloop.config import Settings
    from recloop.registry import registry_from_settings

    hint = f"run `RECLOOP_HOME={home} recloop train` first"
    if not (home / "mlflow.db").exists():
        sys.exit(f"no model registry under {home}: {hint}")
    version = registry_from_settings(Settings(home=home)).alias_version("champion")
    if version is None:
        sys.exit(f"no champion model under {home}: {hint}")
    return str(version)


class Server:
    """``recloop serve`` in a subprocess (memory backend in ``state_dir``)."""

    def __init__(
        self, home: Path, state_dir: Path, loop: str = "asyncio", env_extra: dict[str, str] | None = None
    ) -> None:
        self.port = free_port()
        state_dir.mkdir(parents=True, exist_ok=True)
        self.log = state_dir / "serve.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
        env |= {"RECLOOP_HOME": str(home), "RECLOOP_STATE__TYPE": "memory",
                "RECLOOP_STATE__PATH": str(state_dir / "state.db"),
                "RECLOOP_ADMIN_API_KEY": "serving-benchmark-key"} | (env_extra or {})  # fmt: skip
        cmd = [str(RECLOOP), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--workers", "1", "--loop", loop]  # fmt: skip
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    @property
    def url(self) -> str:
        """Base URL."""
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Poll /ready; exit with the server's output if it dies or never gets ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"recloop serve exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if self.call("GET", "/ready")[0] == 200:
                    return
            except OSError:
                self.conn.close()
            time.sleep(0.2)
        sys.exit(f"recloop serve not ready after {timeout:.0f} s:\n{self.tail()}")

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        """One request on the keep-alive connection -> (status, parsed JSON).

        Reconnects once if the server closed the idle connection (requests are
        idempotent: events carry their event_id).
        """
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, json.loads(resp.read())
            except (http.client.RemoteDisconnected, ConnectionError):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def metric(self, name: str, labels: str = "") -> float:
        """One Prometheus sample from /metrics (0 if absent)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        m = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+-]+)$", text, re.M)
        return float(m.group(1)) if m else 0.0

    def tail(self) -> str:
        """The last lines the server printed."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- wrk -------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict[str, Any]:
    """wrk --latency output (plus our WRK_DONE line) -> figures in ms and per second."""
    dist = {f"p{p}_ms": _ms(v) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M)}
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    done = re.search(r"^WRK_DONE (.*)$", out, re.M)
    if rps is None or done is None or len(dist) != 4:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    d = {k: float(v) for k, v in (kv.split("=") for kv in done.group(1).split())}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = {k: int(d[k]) for k in ("connect", "read", "write", "timeout")}
    errors["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return {
        "requests": int(d["requests"]),
        "duration_s": round(d["duration_us"] / 1e6, 3),
        "requests_per_s": round(float(rps.group(1)), 1),
        "p50_ms": dist["p50_ms"],
        "p75_ms": dist["p75_ms"],
        "p90_ms": dist["p90_ms"],
        "p95_ms": round(d["p95_us"] / 1e3, 3),
        "p99_ms": dist["p99_ms"],
        "max_ms": round(d["max_us"] / 1e3, 3),
        "mean_ms": round(d["mean_us"] / 1e3, 3),
        "errors": errors,
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    name: str, server: Server, path: str, args: argparse.Namespace, lua_dir: Path, run_id: str,
    progress: Progress,
) -> dict[str, Any]:  # fmt: skip
    """One wrk run of ``name`` (its Lua script) against ``server``; parsed figures.

    Adds the server's CPU use over the run (cores, and CPU ms per request): on a
    shared machine, throughput is only comparable together with the CPU it got.
    """
    url = server.url + path
    script = lua_dir / f"{name}.lua"
    lua = LUA[name].replace("N_USERS", str(N_USERS)).replace("N_ITEMS", str(N_ITEMS))
    script.write_text(lua.replace("RUN", run_id))
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--latency", "--timeout", "10s", "-s", str(script), url]  # fmt: skip
    task = progress.add_task(f"wrk {name}", total=args.duration)
    t0, cpu0 = time.monotonic(), cpu_seconds(server.proc.pid)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while proc.poll() is None:
        progress.update(task, completed=min(time.monotonic() - t0, args.duration))
        time.sleep(0.25)
    out = proc.stdout.read() if proc.stdout else ""
    cpu, wall = cpu_seconds(server.proc.pid) - cpu0, time.monotonic() - t0
    progress.update(task, completed=args.duration)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}")
    (lua_dir / f"{name}.out").write_text(out)
    res = parse_wrk(out)
    res["server_cpu_cores"] = round(cpu / wall, 2)
    res["server_cpu_ms_per_request"] = round(1e3 * cpu / max(res["requests"], 1), 3)
    return res


# -- the scenarios ---------------------------------------------------------------------------


def events_total(server: Server) -> int:
    """Applied events so far, from /v1/stats."""
    status, stats = server.call("GET", "/v1/stats")
    assert status == 200, stats
    return int(stats["events_total"])


def ingest(
    name: str, server: Server, args: argparse.Namespace, lua_dir: Path, run_id: str,
    progress: Progress,
) -> dict[str, Any]:  # fmt: skip
    """A wrk ingestion run; events/s are the events the server applied."""
    before = events_total(server)
    res = run_wrk(name, server, "/v1/events", args, lua_dir, run_id, progress)
    applied = events_total(server) - before
    res["events_applied"] = applied
    res["events_per_s"] = round(applied / res["duration_s"], 1)
    return res


def fresh(server: Server, trials: int, seed: int, progress: Progress) -> dict[str, Any]:
    """Like an item of a random user's list, GET again; time and check freshness."""
    rng = random.Random(seed)
    e2e, post_ms, get_ms, server_ms = [], [], [], []
    stale = 0
    task = progress.add_task("fresh: like -> GET", total=trials)
    for n in range(trials):
        user = str(rng.randint(1, N_USERS))
        status, before = server.call("GET", f"/v1/users/{user}/recommendations?k=10")
        assert status == 200, before
        liked = rng.choice(before["items"])["item_id"]
        event = {"event_id": f"fresh-{seed}-{n}", "user_id": user, "item_id": liked,
                 "type": "like"}  # fmt: skip
        t0 = time.perf_counter()
        status, ack = server.call("POST", "/v1/events", event)
        t1 = time.perf_counter()
        status2, after = server.call("GET", f"/v1/users/{user}/recommendations?k=10")
        t2 = time.perf_counter()
        assert status == 200 and ack["accepted"] == 1, ack
        assert status2 == 200, after
        stale += liked in {it["item_id"] for it in after["items"]}
        e2e.append((t2 - t0) * 1e3)
        post_ms.append((t1 - t0) * 1e3)
        get_ms.append((t2 - t1) * 1e3)
        server_ms.append(after["latency_ms"])
        progress.advance(task)

    def pct(xs: list[float], p: float) -> float:
        return round(float(np.percentile(xs, p)), 3)

    return {
        "trials": trials,
        "stale": stale,
        "p50_ms": pct(e2e, 50), "p95_ms": pct(e2e, 95), "p99_ms": pct(e2e, 99),
        "max_ms": round(max(e2e), 3),
        "post_p50_ms": pct(post_ms, 50), "post_p99_ms": pct(post_ms, 99),
        "get_p50_ms": pct(get_ms, 50), "get_p99_ms": pct(get_ms, 99),
        "server_get_p50_ms": pct(server_ms, 50), "server_get_p99_ms": pct(server_ms, 99),
    }  # fmt: skip


def recommendations(
    server: Server, args: argparse.Namespace, lua_dir: Path, run_id: str, progress: Progress
) -> dict[str, Any]:
    """The recommendations wrk run, with the service's own latency and the share of requests
    that reused the user's history-dependent scores (no event of the user's since their
    last request: every request in this run, after each user's first)."""
    counter, hit, miss = "recloop_user_scores_total", '{result="hit"}', '{result="miss"}'
    before = server.metric(counter, hit), server.metric(counter, miss)
    res = run_wrk("recommendations", server, "", args, lua_dir, run_id, progress)
    hits = server.metric(counter, hit) - before[0]
    misses = server.metric(counter, miss) - before[1]
    res["user_scores_reused"] = round(hits / max(hits + misses, 1.0), 4)
    return res | server_latency(server)


def recommendations_variant(
    name: str, home: Path, tmp_dir: Path, loop: str, env: dict[str, str], args: argparse.Namespace,
    run_id: str, progress: Progress,
) -> dict[str, Any]:  # fmt: skip
    """The recommendations run on a separate server (another event loop or settings)."""
    server = Server(home, tmp_dir / name, loop, env)
    try:
        server.wait_ready()
        for user in range(1, 51):
            server.call("GET", f"/v1/users/{user}/recommendations?k=10")
        res = recommendations(server, args, tmp_dir, run_id, progress)
    except BaseException:
        console.print(f"[red]server output ({name}):[/]\n{server.tail()}")
        raise
    finally:
        server.stop()
    return res | {"loop": loop, "env": env}


def server_latency(server: Server) -> dict[str, float]:
    """The service's own recommendation latency (last 5,000 requests) from /v1/stats."""
    _, stats = server.call("GET", "/v1/stats")
    return {"server_p50_ms": round(stats["latency_ms"]["p50"], 3),
            "server_p99_ms": round(stats["latency_ms"]["p99"], 3)}  # fmt: skip


def judge(results: dict[str, Any]) -> dict[str, bool]:
    """Each target figure -> whether it was met."""
    out = {}
    for key, (op, bound) in TARGETS.items():
        name, field = key.split(".")
        value = results[name][field]
        out[key] = value < bound if op == "<" else value >= bound
    return out


def machine() -> dict[str, Any]:
    """Where this ran: cores, CPU model, load average at the start."""
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        model = m.group(1) if m else ""
    return {"nproc": os.cpu_count(), "sched_affinity": len(os.sched_getaffinity(0)),
            "cpu": model, "python": platform.python_version(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip


def render(results: dict[str, Any]) -> Table:
    """The results as a rich table (latencies in ms)."""
    table = Table(title="recloop serving: 1 worker, memory backend (ms; cpu = server CPU ms/request)")
    for col in ("scenario", "req/s", "evt/s", "p50", "p75", "p90", "p95", "p99", "max", "cpu", "err"):
        table.add_column(col, justify="left" if col == "scenario" else "right")

    def f(x: Any) -> str:
        if x is None:
            return ""
        return f"{x:,.0f}" if x >= 100 else f"{x:.2f}"

    for name, r in results.items():
        errors = r.get("errors", {"stale": r.get("stale", 0)})
        table.add_row(LABELS.get(name, name), f(r.get("requests_per_s")), f(r.get("events_per_s")),
                      *(f(r.get(f"p{p}_ms")) for p in (50, 75, 90, 95, 99)), f(r.get("max_ms")),
                      f(r.get("server_cpu_ms_per_request")), str(sum(errors.values())))  # fmt: skip
    return table


def render_targets(results: dict[str, Any], passed: dict[str, bool]) -> Table:
    """Each target figure, what was measured and whether it was met."""
    table = Table(title="targets")
    for col in ("figure", "target", "measured", "met"):
        table.add_column(col)
    for key, ok in passed.items():
        name, field = key.split(".")
        op, bound = TARGETS[key]
        table.add_row(key, f"{op} {bound:g}", f"{results[name][field]:g}",
                      "[green]yes[/]" if ok else "[red]no[/]")  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path.home() / ".recloop")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fresh", type=int, default=300, help="like -> GET trials")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument(
        "--no-variants",
        dest="variants",
        action="store_false",
        help="skip the comparison runs (uvloop; no per-user score cache)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk`")
    home = args.home.expanduser().resolve()
    version = check_champion(home)
    run_id = uuid.uuid4().hex[:8]
    info = machine()

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="recloop-bench-") as tmp, Progress() as progress:
        tmp_dir = Path(tmp)
        server = Server(home, tmp_dir)
        try:
            task = progress.add_task("starting recloop serve", total=None)
            t0 = time.monotonic()
            server.wait_ready()
            startup_s = round(time.monotonic() - t0, 1)
            progress.update(task, total=1, completed=1)
            for user in range(1, 51):  # warm caches and code paths
                server.call("GET", f"/v1/users/{user}/recommendations?k=10")
            results["health"] = run_wrk("health", server, "/health", args, tmp_dir, run_id, progress)
            results["recommendations"] = recommendations(server, args, tmp_dir, run_id, progress)
            for name in ("events_single", "events_batch100"):
                results[name] = ingest(name, server, args, tmp_dir, run_id, progress)
            results["fresh"] = fresh(server, args.fresh, args.seed, progress)
        except BaseException:
            console.print(f"[red]server output:[/]\n{server.tail()}")
            raise
        finally:
            server.stop()
        if args.variants:  # the same recommendations run under another loop / without the cache
            results["recommendations_uvloop"] = recommendations_variant(
                "recommendations_uvloop", home, tmp_dir, "uvloop", {}, args, run_id, progress
            )
            results["recommendations_no_user_cache"] = recommendations_variant(
                "recommendations_no_user_cache", home, tmp_dir, "asyncio",
                {"RECLOOP_USER_CACHE_MB": "0"}, args, run_id, progress)  # fmt: skip

    passed = judge(results)
    report = {
        "machine": info,
        "config": {"home": str(home), "model_version": version, "workers": 1, "loop": "asyncio",
                   "state": "memory", "wrk_threads": args.threads,
                   "connections": args.connections, "duration_s": args.duration,
                   "fresh_trials": args.fresh, "startup_s": startup_s},
        "results": results,
        "targets": {k: f"{op} {bound:g}" for k, (op, bound) in TARGETS.items()},
        "passed": passed,
    }  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    console.print(render(results))
    console.print(render_targets(results, passed))
    f = results["fresh"]
    console.print(f"fresh: {f['trials']} trials, {f['stale']} stale; POST p50 {f['post_p50_ms']} "
                  f"ms, GET p50 {f['get_p50_ms']} ms (server {f['server_get_p50_ms']} ms); "
                  f"recommendations server-side p50/p99 "
                  f"{results['recommendations']['server_p50_ms']}/"
                  f"{results['recommendations']['server_p99_ms']} ms")  # fmt: skip
    console.print(f"machine: {info['nproc']} cores, load {info['loadavg_at_start']}; "
                  f"wrote {args.json}")  # fmt: skip


if __name__ == "__main__":
    main()

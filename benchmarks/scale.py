"""The whole loop at growing size: cost per stage, serving, ingest and P2 quality, and the cost curve.

Usage::

    python benchmarks/scale.py [--runs ml100k,ml20m-0.1,ml20m,shop] [--replay-sample 2000]
        [--replay-limit 200000] [--duration 10] [--work /tmp/recloop-scale]
        [--json benchmarks/results/scale.json] [--png benchmarks/results/scale.png] [--no-serve] [--no-p2]

Each run (``ml100k``: MovieLens-100K; ``ml20m-0.1``: ``recloop data synth --shape ml20m
--fraction 0.1``; ``ml20m``, ``shop``: the full shapes; ``SHAPE-F`` any fraction) goes
through the same commands a person would type, each a subprocess whose resident memory
(``/proc/PID/statm``, every 50 ms) this script samples:

1. ``recloop data synth`` (synthetic runs): wall time and peak RSS of the generation;
2. ``recloop train --data DIR --json`` in a fresh ``RECLOOP_HOME``: wall time and peak RSS
   of the whole pipeline, and per stage (the train JSON's ``stages``, timed by the pipeline
   itself, :mod:`recloop.stages`): the peak of the sampled RSS inside each stage's window;
   the registered bundle's size on disk;
3. ``recloop serve`` (one worker, embedded state) driven by wrk as in benchmarks/serving.py
   (its Server, wrk runs and freshness trials are reused): recommendation p50/p99 and
   req/s over random users, single and batch-of-100 ingest events/s, and event ->
   fresh-recommendation latency (POST a like, GET the list again);
4. ``recloop evaluate --protocol p2 --data DIR --replay-sample N --limit L --models
   champion,popular,itemknn,als,ease``: P2 NDCG@10 on a seeded sample of N of the first L
   replayed events (every one of the L is ingested), the champion's recipe refitted on
   the bootstrap beside the baselines.

Writes the JSON, a log-log PNG of training wall time and peak RSS against events (per
stage too), and prints the least-squares exponents of time and memory against events
over the runs. The machine is shared (2 cores): the figures say so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def _load(name: str, path: Path) -> Any:
    """A benchmark module by file, under its own name (``serving`` is also the tests' package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


serving = _load("serving_bench", Path(__file__).parent / "serving.py")

RECLOOP = Path(sys.executable).with_name("recloop")
RESULTS = Path(__file__).parent / "results"
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024
SHAPES = {"ml20m": ("ml20m", 1.0), "shop": ("shop", 1.0)}
MODELS = "champion,popular,itemknn,als,ease"
# the targets: whole `recloop train` wall (s) and peak RSS (MB)
TARGETS = {"ml20m": (600.0, 16 * 1024.0), "shop": (1800.0, 20 * 1024.0)}


# -- sampled subprocesses ---------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident MB of one process now (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / MB
    except (OSError, IndexError):
        return 0.0


def run_sampled(cmd: list[str], env: dict[str, str], log: Path, every: float = 0.05) -> dict[str, Any]:
    """Run ``cmd`` to the end, sampling its RSS; wall s, CPU s (user + system), peak MB, samples.

    On the shared machine the CPU seconds say how much of the wall time was the run's own.
    """
    samples: list[tuple[float, float]] = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(every):
                samples.append((time.time(), rss_mb(proc.pid)))

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        code = proc.wait()
        stop.set()
        thread.join()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"{' '.join(cmd)} exited {code}:\n{tail}")
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 1),
            "peak_rss_mb": round(max((m for _, m in samples), default=0.0), 1),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()], "samples": samples}  # fmt: skip


def env_for(home: Path, data_dir: Path | None, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a recloop subprocess: its own home, the data set, nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env["RECLOOP_HOME"] = str(home)
    if data_dir is not None:
        env["RECLOOP_DATA__DIR"] = str(data_dir)
    if os.environ.get("RECLOOP_DATA__RECBOLE_WHEEL"):
        env["RECLOOP_DATA__RECBOLE_WHEEL"] = os.environ["RECLOOP_DATA__RECBOLE_WHEEL"]
    return env | (extra or {})


def stage_costs(stages: list[dict[str, Any]], samples: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Each pipeline stage's wall s and the peak of the sampled RSS inside its time window."""
    out = []
    for s in stages:
        inside = [m for t, m in samples if s["start"] <= t <= s["end"]]
        out.append({"name": s["name"], "wall_s": s["wall_s"],
                    "peak_rss_mb": round(max(inside, default=s["rss_end_mb"]), 1)})  # fmt: skip
    return out


def dir_mb(path: Path) -> float:
    """Bytes under ``path``, in MB."""
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / MB, 1)


# -- one run ------------------------------------------------------------------------------------


def parse_run(name: str) -> tuple[str, float] | None:
    """``ml100k`` -> None; ``ml20m`` / ``shop`` -> (shape, 1.0); ``ml20m-0.1`` -> (ml20m, 0.1)."""
    if name == "ml100k":
        return None
    if name in SHAPES:
        return SHAPES[name]
    shape, _, frac = name.partition("-")
    if shape not in SHAPES or not frac:
        raise SystemExit(f"unknown run {name!r}: ml100k, ml20m, shop or SHAPE-FRACTION (ml20m-0.1)")
    return shape, float(frac)


def generate(name: str, spec: tuple[str, float], work: Path) -> tuple[Path, dict[str, Any]]:
    """``recloop data synth`` into ``work/name`` (sampled); the directory and its cost."""
    out = work / f"data-{name}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(RECLOOP), "data", "synth", "--shape", spec[0], "--fraction", str(spec[1]), "--out", str(out)]
    res = run_sampled(cmd, env_for(work / "home-gen", None), work / f"synth-{name}.log")
    manifest = json.loads((out / "manifest.json").read_text())
    res.pop("samples")
    return out, res | {"counts": manifest["counts"], "disk_mb": dir_mb(out)}


def train(name: str, data_dir: Path | None, work: Path) -> tuple[Path, dict[str, Any]]:
    """``recloop train --data DIR --json`` in a fresh home (sampled); the home and the figures."""
    home = work / f"home-{name}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    out = work / f"train-{name}.json"
    cmd = [str(RECLOOP), "train", "--json", str(out)]
    res = run_sampled(cmd, env_for(home, data_dir), work / f"train-{name}.log")
    report = json.loads(out.read_text())
    samples = res.pop("samples")
    models = {k: v["metrics"]["NDCG@10"] for k, v in report["models"].items()}
    return home, res | {"stages": stage_costs(report.get("stages", []), samples),
                        "timings": report["timings"], "p1_ndcg10": models, "p1_data": report["data"],
                        "bundle_mb": dir_mb(home / "mlartifacts")}  # fmt: skip


ML100K_USERS = 943


def serve(home: Path, data_dir: Path | None, n_users: int, n_items: int,
          args: argparse.Namespace) -> dict[str, Any]:  # fmt: skip
    """Recommendations, single and batch ingest, freshness on one `recloop serve` worker.

    ``recommendations`` draws users from the first 943 ids (MovieLens-100K's user count:
    the same traffic shape at every size, each user's personal scores reused between
    their requests as in the ML-100K run); ``recommendations_all_users`` draws from every
    user (nearly every request recomputes every source: the cold worst case), next to
    ML-100K's own no-cache figure.
    """
    serving.use_catalog(min(n_users, ML100K_USERS), n_items)
    extra = {"RECLOOP_DATA__DIR": str(data_dir)} if data_dir else {}
    run_id = f"scale{int(time.time())}"
    with tempfile.TemporaryDirectory(prefix="recloop-scale-") as tmp, serving.Progress() as progress:
        server = serving.Server(home, Path(tmp), env_extra=extra)
        try:
            t0 = time.monotonic()
            server.wait_ready(timeout=900)
            startup = round(time.monotonic() - t0, 1)
            rss = rss_mb(server.proc.pid)
            for user in range(1, 51):
                server.call("GET", f"/v1/users/{user}/recommendations?k=10")
            out: dict[str, Any] = {"startup_s": startup, "rss_mb_ready": round(rss, 1)}
            out["recommendations"] = serving.recommendations(server, args, Path(tmp), run_id, progress)
            if n_users > ML100K_USERS:
                serving.use_catalog(n_users, n_items)
                out["recommendations_all_users"] = serving.recommendations(server, args, Path(tmp), run_id,
                                                                           progress)  # fmt: skip
            for kind in ("events_single", "events_batch100"):
                out[kind] = serving.ingest(kind, server, args, Path(tmp), run_id, progress)
            out["fresh"] = serving.fresh(server, args.fresh, 0, progress)
            out["rss_mb_end"] = round(rss_mb(server.proc.pid), 1)
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
        if n_users <= ML100K_USERS:  # the cold reference: every request recomputes every source
            out["recommendations_no_user_cache"] = serving.recommendations_variant(
                "recommendations_no_user_cache", home, Path(tmp), "asyncio",
                {"RECLOOP_USER_CACHE_MB": "0"} | extra, args, run_id, progress)  # fmt: skip
    return out


def p2(name: str, home: Path, data_dir: Path | None, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """P2 on a replay sample, champion beside its sources alone (sampled subprocess)."""
    out = work / f"p2-{name}.json"
    cmd = [str(RECLOOP), "evaluate", "--protocol", "p2", "--models", MODELS, "--json", str(out),
           "--replay-sample", str(args.replay_sample)]  # fmt: skip
    if args.replay_limit:
        cmd += ["--limit", str(args.replay_limit)]
    res = run_sampled(cmd, env_for(home, data_dir), work / f"p2-{name}.log")
    res.pop("samples")
    report = json.loads(out.read_text())
    ndcg = {k: round(v["metrics"]["NDCG@10"], 4) for k, v in report["models"].items()}
    best_source = max(v for k, v in ndcg.items() if k not in ("champion", "popular"))
    return res | {"ndcg10": ndcg, "hr10": {k: round(v["metrics"]["HR@10"], 4)
                                            for k, v in report["models"].items()},
                  "data": report["data"], "champion_beats_every_source": ndcg["champion"] > best_source}


def one_run(name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement of one data set."""
    spec = parse_run(name)
    row: dict[str, Any] = {"run": name}
    data_dir = None
    if spec is not None:
        print(f"[{name}] generating", flush=True)
        data_dir, row["generate"] = generate(name, spec, work)
        counts = row["generate"]["counts"]
    print(f"[{name}] training", flush=True)
    home, row["train"] = train(name, data_dir, work)
    if spec is None:
        d = row["train"]["p1_data"]
        counts = {"users": 943, "items": d["items"], "events": d["train"] + d["test"]}
    row["counts"] = counts
    print(f"[{name}] train {row['train']['wall_s']} s, peak {row['train']['peak_rss_mb']} MB", flush=True)
    if name in TARGETS:
        wall, mem = TARGETS[name]
        met = row["train"]["wall_s"] <= wall and row["train"]["peak_rss_mb"] <= mem
        row["train"]["target"] = {"wall_s": wall, "peak_rss_mb": mem, "met": met}
    if args.serve:
        print(f"[{name}] serving", flush=True)
        row["serve"] = serve(home, data_dir, counts["users"], counts["items"], args)
    if args.p2:
        print(f"[{name}] P2 replay sample", flush=True)
        row["p2"] = p2(name, home, data_dir, work, args)
    if not args.keep:
        shutil.rmtree(home, ignore_errors=True)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)
    (work / f"row-{name}.json").write_text(json.dumps(row, indent=1))
    return row


# -- the curve ----------------------------------------------------------------------------------


def exponent(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log y against log x (None below two points)."""
    pts = [(x, y) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return round(float(np.polyfit(lx, ly, 1)[0]), 3)


def stage_groups(row: dict[str, Any]) -> dict[str, float]:
    """The champion's pipeline stages summed into the plot's groups (wall s)."""
    groups: dict[str, float] = {}
    for s in row["train"]["stages"]:
        parts = s["name"].split(".")
        if parts[:3] == ["p1", "champion", "fit"] and len(parts) == 5 and parts[3].startswith("sources"):
            key = f"fit {parts[4]}"
        elif parts[:3] == ["p1", "champion", "fit"] and len(parts) == 4:
            key = parts[3]
        elif parts[0] == "p1" and parts[1] != "champion" and len(parts) == 3:
            key = "P1 baselines"
        elif parts[:3] == ["p1", "champion", "recommend"]:
            key = "P1 champion lists"
        elif len(parts) == 1:
            key = parts[0]
        else:
            continue
        if key.startswith("sources") or key == "fit train_data":
            continue
        groups[key] = groups.get(key, 0.0) + float(s["wall_s"])
    return groups


def exponents(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exponents of training time and peak memory (and each stage's time) against events."""
    ev = [float(r["counts"]["events"]) for r in rows]
    out: dict[str, Any] = {
        "train_wall_s": exponent(ev, [r["train"]["wall_s"] for r in rows]),
        "train_peak_rss_mb": exponent(ev, [r["train"]["peak_rss_mb"] for r in rows]),
    }
    keys = sorted({k for r in rows for k in stage_groups(r)})
    out["stages_wall_s"] = {k: exponent(ev, [stage_groups(r).get(k, 0.0) for r in rows]) for k in keys}
    return out


def plot(rows: list[dict[str, Any]], png: Path) -> bool:
    """Log-log cost against events: whole training (time, memory) and each stage's time."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no PNG")
        return False
    ev = [r["counts"]["events"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5))
    a.loglog(ev, [r["train"]["wall_s"] for r in rows], "o-", lw=2.5, color="black", label="whole train")
    for k in sorted({k for r in rows for k in stage_groups(r)}):
        ys = [stage_groups(r).get(k, np.nan) for r in rows]
        a.loglog(ev, ys, ".--", label=k)
    a.set(xlabel="events", ylabel="wall s", title="recloop train: wall time")
    a.legend(fontsize=7)
    b.loglog(ev, [r["train"]["peak_rss_mb"] for r in rows], "o-", color="C3", label="train peak RSS")
    if any("generate" in r for r in rows):
        gen = [(r["counts"]["events"], r["generate"]["peak_rss_mb"]) for r in rows if "generate" in r]
        b.loglog(*zip(*gen, strict=True), "s--", color="C2", label="synth peak RSS")
    b.loglog(ev, [r["train"]["bundle_mb"] for r in rows], "^--", color="C4", label="bundle MB")
    b.set(xlabel="events", ylabel="MB", title="memory and bundle size")
    b.legend(fontsize=8)
    for ax in (a, b):
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("recloop at growing size (2-core machine, shared)")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    return True


def summary(rows: list[dict[str, Any]], fits: dict[str, Any]) -> None:
    """Print one line per run and the exponents."""
    for r in rows:
        c, t = r["counts"], r["train"]
        line = (f"{r['run']:>10}: {c['events']:>11,} events {c['items']:>8,} items | train "
                f"{t['wall_s']:7.1f} s peak {t['peak_rss_mb']:8.0f} MB bundle {t['bundle_mb']:7.1f} MB")
        if "serve" in r:
            s = r["serve"]
            line += (f" | recs p50/p99 {s['recommendations']['p50_ms']}/{s['recommendations']['p99_ms']} ms "
                     f"{s['recommendations']['requests_per_s']} req/s, fresh p99 {s['fresh']['p99_ms']} ms")
        if "p2" in r:
            line += f" | P2 NDCG@10 {r['p2']['ndcg10']}"
        print(line)
    print(f"exponents against events: train wall {fits['train_wall_s']}, "
          f"peak RSS {fits['train_peak_rss_mb']}")
    print("  per stage (wall): " + ", ".join(f"{k} {v}" for k, v in fits["stages_wall_s"].items()))


def markdown(rows: list[dict[str, Any]]) -> str:
    """The docs' tables (docs/SCALE.md) from the runs."""
    out = ["| run | events | users | items | generate s | train wall s | train CPU s | peak RSS MB "
           "| bundle MB | P1 champion / best source NDCG@10 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        c, t = r["counts"], r["train"]
        gen = f"{r['generate']['wall_s']:.1f}" if "generate" in r else "-"
        p1 = t["p1_ndcg10"]
        best = max(v for k, v in p1.items() if k not in ("champion", "popular"))
        out.append(f"| {r['run']} | {c['events']:,} | {c['users']:,} | {c['items']:,} | {gen} "
                   f"| {t['wall_s']:.0f} | {t.get('cpu_s', 0):.0f} | {t['peak_rss_mb']:,.0f} "
                   f"| {t['bundle_mb']:.1f} "
                   f"| {p1['champion']:.4f} / {best:.4f} |")
    out += ["", "| run | stage | wall s | peak RSS MB |", "|---|---|---:|---:|"]
    for r in rows:
        for s in r["train"]["stages"]:
            if s["name"].count(".") <= 3 and s["wall_s"] >= 0.5:
                out.append(f"| {r['run']} | {s['name']} | {s['wall_s']:.1f} | {s['peak_rss_mb']:,.0f} |")
    out += ["", "| run | recs p50 / p99 ms | req/s | recs all users p50 / p99 ms | req/s | no-cache p99 ms "
            "| events/s single | events/s batch 100 | event -> fresh p50 / p99 ms |",
            "|---|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if "serve" not in r:
            continue
        v = r["serve"]
        rec, alls = v["recommendations"], v.get("recommendations_all_users")
        nc = v.get("recommendations_no_user_cache")
        cold = f"{alls['p50_ms']} / {alls['p99_ms']}" if alls else "-"
        out.append(f"| {r['run']} | {rec['p50_ms']} / {rec['p99_ms']} | {rec['requests_per_s']} | {cold} "
                   f"| {alls['requests_per_s'] if alls else '-'} | {nc['p99_ms'] if nc else '-'} "
                   f"| {v['events_single']['events_per_s']} | {v['events_batch100']['events_per_s']} "
                   f"| {v['fresh']['p50_ms']} / {v['fresh']['p99_ms']} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", default="ml100k,ml20m-0.1,ml20m,shop")
    ap.add_argument("--replay-sample", type=int, default=2000)
    ap.add_argument("--replay-limit", type=int, default=200_000, help="replay the first N events (0: all)")
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fresh", type=int, default=300, help="event -> fresh list trials")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "recloop-scale")
    ap.add_argument("--json", type=Path, default=RESULTS / "scale.json")
    ap.add_argument("--png", type=Path, default=RESULTS / "scale.png")
    ap.add_argument("--no-serve", dest="serve", action="store_false")
    ap.add_argument("--no-p2", dest="p2", action="store_false")
    ap.add_argument("--keep", action="store_true", help="keep the homes and data directories")
    ap.add_argument("--reuse", action="store_true", help="reuse row-RUN.json of earlier runs in --work")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in [n.strip() for n in args.runs.split(",") if n.strip()]:
        saved = args.work / f"row-{name}.json"
        reuse = args.reuse and saved.exists()
        rows.append(json.loads(saved.read_text()) if reuse else one_run(name, args.work, args))
    rows.sort(key=lambda r: r["counts"]["events"])
    fits = exponents(rows)
    base = next((r for r in rows if r["run"] == "ml100k" and "serve" in r), None)
    checks: dict[str, Any] = {}
    for r in rows:
        if base is not None and "serve" in r and r is not base:
            ratio = r["serve"]["recommendations"]["p99_ms"] / base["serve"]["recommendations"]["p99_ms"]
            checks[f"{r['run']}.recs_p99_vs_ml100k"] = {"ratio": round(ratio, 2), "met": ratio <= 1.5}
        if "serve" in r:
            checks[f"{r['run']}.fresh_p99_ms"] = {"value": r["serve"]["fresh"]["p99_ms"],
                                                  "met": r["serve"]["fresh"]["p99_ms"] < 10.0}
    result = {"machine": serving.machine() | {"platform": platform.platform(), "shared": True},
              "args": {k: str(v) for k, v in vars(args).items()}, "runs": rows, "exponents": fits,
              "checks": checks, "plotted": plot(rows, args.png)}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1) + "\n")
    summary(rows, fits)
    print(markdown(rows))
    print(json.dumps(checks))
    print(f"wrote {args.json}" + (f" and {args.png}" if result["plotted"] else ""))


if __name__ == "__main__":
    main()

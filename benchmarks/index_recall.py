"""Vector index benchmark: recall@k against exact search, latency and throughput.

Usage::

    python benchmarks/index_recall.py [--vectors ITEMS.npy [--queries USERS.npy]]
        [--n 100000] [--dim 64] [--n-queries 1000] [--k 10] [--json PATH]

Builds ``flat``, ``hnsw`` and ``ivf`` (default :class:`IndexConfig` parameters)
over (a) ``n`` x ``dim`` synthetic vectors drawn uniformly on the unit sphere
and (b), if given, the float (n, d) array in ``--vectors``. Synthetic queries
come from the same distribution; file queries are ``--queries`` rows or, by
default, rows sampled from the file. For each index it reports build time,
recall@k against ``flat``, single-query latency p50/p99 (queries one at a time
through the public API, ``time.perf_counter_ns``) and batch throughput (all
queries in one call, with one OpenMP thread and with every core). Writes
``{"k", "n_queries", "cores", "datasets": [{"name", "n", "dim", "results":
[{"type", "params", "build_s", "recall", "p50_us", "p99_us", "batch_qps_1t",
"batch_qps_all"}]}], "wall_s"}``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from recloop.retrieval.index import (
    HNSWIndex,
    IndexConfig,
    IVFIndex,
    VectorIndex,
    build_index,
    recall_against_exact,
)
from recloop.runtime import cpu_count, training_threads

DEFAULT_JSON = Path(__file__).parent / "results" / "index_recall.json"
KINDS = ("flat", "hnsw", "ivf")


def unit_sphere(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """float32 (n, dim) rows drawn uniformly on the unit sphere."""
    x = rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def single_query_latency_us(index: VectorIndex, queries: np.ndarray, k: int) -> np.ndarray:
    """Wall time of each query searched alone, in microseconds, float64 (q,)."""
    for i in range(min(20, len(queries))):  # warm caches and the allocator
        index.search(queries[i : i + 1], k)
    out = np.empty(len(queries), dtype=np.float64)
    for i in range(len(queries)):
        start = time.perf_counter_ns()
        index.search(queries[i : i + 1], k)
        out[i] = (time.perf_counter_ns() - start) / 1e3
    return out


def batch_qps(index: VectorIndex, queries: np.ndarray, k: int) -> float:
    """Queries per second when all ``queries`` go in one call (best of 3)."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        index.search(queries, k)
        best = min(best, time.perf_counter() - start)
    return len(queries) / best


def bench_dataset(
    name: str, vectors: np.ndarray, queries: np.ndarray, k: int, progress: Progress
) -> dict[str, Any]:
    """Build every index kind over ``vectors`` and measure it with ``queries``."""
    task = progress.add_task(f"{name}: {len(vectors):,} x {vectors.shape[1]}", total=len(KINDS))
    results: list[dict[str, Any]] = []
    exact: VectorIndex | None = None
    for kind in KINDS:
        config = IndexConfig(type=kind)
        start = time.perf_counter()
        index = build_index(config, vectors)
        build_s = time.perf_counter() - start
        if exact is None:
            exact = index
        latency = single_query_latency_us(index, queries, k)
        with training_threads():
            qps_all = batch_qps(index, queries, k)
        params: dict[str, int] = {}
        if isinstance(index, HNSWIndex):
            params = {"M": config.hnsw_m, "ef": index.ef_search}
        elif isinstance(index, IVFIndex):
            params = {"nlist": index.nlist, "nprobe": index.nprobe}
        results.append(
            {
                "type": kind,
                "params": params,
                "build_s": build_s,
                "recall": recall_against_exact(index, exact, queries, k),
                "p50_us": float(np.percentile(latency, 50)),
                "p99_us": float(np.percentile(latency, 99)),
                "batch_qps_1t": batch_qps(index, queries, k),
                "batch_qps_all": qps_all,
            }
        )
        progress.advance(task)
    return {"name": name, "n": len(vectors), "dim": int(vectors.shape[1]), "results": results}


def render(payload: dict[str, Any]) -> Table:
    """One table row per (data set, index)."""
    k = payload["k"]
    table = Table(
        title=f"recall@{k} vs flat; {payload['n_queries']} queries; {payload['cores']} cores",
        caption="latency: one query per call; q/s: all queries in one call",
    )
    for column in ("data", "index", "params"):
        table.add_column(column)
    for column in ("build s", f"R@{k}", "p50 µs", "p99 µs", "q/s 1t", "q/s all"):
        table.add_column(column, justify="right")
    for ds in payload["datasets"]:
        for r in ds["results"]:
            table.add_row(
                f"{ds['name']} {ds['n']:,}×{ds['dim']}",
                r["type"],
                " ".join(f"{k}={v}" for k, v in r["params"].items()),
                f"{r['build_s']:.1f}",
                f"{r['recall']:.3f}",
                f"{r['p50_us']:.0f}",
                f"{r['p99_us']:.0f}",
                f"{r['batch_qps_1t']:.0f}",
                f"{r['batch_qps_all']:.0f}",
            )
    return table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark from command-line arguments; return the JSON payload."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="synthetic vectors")
    parser.add_argument("--dim", type=int, default=64, help="synthetic dimension")
    parser.add_argument("--n-queries", type=int, default=1000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--vectors", type=Path, default=None, help="extra (n, d) .npy data set")
    parser.add_argument("--queries", type=Path, default=None, help="(q, d) .npy for --vectors")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write results here")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    datasets = [
        (
            "synthetic",
            unit_sphere(rng, args.n, args.dim),
            unit_sphere(rng, args.n_queries, args.dim),
        )
    ]
    if args.vectors is not None:
        vectors = np.asarray(np.load(args.vectors), dtype=np.float32)
        if args.queries is not None:
            queries = np.asarray(np.load(args.queries), dtype=np.float32)[: args.n_queries]
        else:
            rows = rng.choice(len(vectors), min(args.n_queries, len(vectors)), replace=False)
            queries = vectors[rows]
        datasets.append((args.vectors.stem, vectors, queries))

    console = Console()
    start = time.perf_counter()
    with Progress(console=console, transient=True) as progress:
        results = [bench_dataset(n, v, q, args.k, progress) for n, v, q in datasets]
    payload: dict[str, Any] = {
        "k": args.k,
        "n_queries": args.n_queries,
        "cores": cpu_count(),
        "datasets": results,
        "wall_s": time.perf_counter() - start,
    }
    console.print(render(payload))
    console.print(f"wall time {payload['wall_s']:.1f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=2) + "\n")
    console.print(f"wrote {args.json}")
    return payload


if __name__ == "__main__":
    main()

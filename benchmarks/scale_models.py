"""Cost of each model stage at growing catalog sizes: fit wall time, peak memory, bytes kept, recall.

    nice -n 10 .venv/bin/python benchmarks/scale_models.py [--json benchmarks/results/scale_models.json]
        [--sizes 10000:50000:500000,50000:200000:2000000,200000:500000:5000000] [--ease-cap 10000]

Data: random power-law user x item interactions with latent taste clusters (items in 50
clusters; each event draws from the user's cluster with probability 0.7, else from the
whole catalog, both by Zipf popularity (exponent 1); user activity Zipf with exponent
0.5: the most active of 500k users has ~3.5k of 5M events), seeded. Sizes are
items:users:events. Stages: item-kNN (200 neighbours), transitions (200 per item), EASE
over the ``--ease-cap`` most active items (top 500 per row above 4,096 items), implicit
ALS (32 factors, 15 iterations), the ALS index chosen by ``IndexConfig()`` (flat up to
50k items, HNSW with efSearch tuned to recall@10 >= 0.95 above) with its recall@10
against exact search and its single-search p50 beside exact search's, and HNSW at its
defaults (efSearch 128) beside it at the largest size. Per stage: wall seconds, peak RSS above the
RSS before the stage (a 20 ms sampler of /proc/self/statm), the tracemalloc peak
(numpy/scipy buffers), and the bytes the fitted component keeps. Also the columnar base
histories' bytes and single-history scoring p50/p99 on the sparse matrices.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from recloop.config import ALSParams, EASEParams, ItemKNNParams
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.base import TrainData
from recloop.retrieval.columnar import ColumnarHistories
from recloop.retrieval.ease import EASEScorer
from recloop.retrieval.history import recency_weights
from recloop.retrieval.index import IndexConfig, build_index, recall_against_exact
from recloop.retrieval.index_choice import MIPSIndex, choose_index
from recloop.retrieval.itemknn import ItemKNNScorer
from recloop.retrieval.itemmatrix import ItemMatrix
from recloop.retrieval.sequence import TransitionScorer

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def rss() -> int:
    """Resident bytes of this process now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@contextmanager
def measured(out: dict[str, Any]) -> Iterator[None]:
    """Fill ``out`` with wall_s, peak_rss_mb (above the start) and tracemalloc_peak_mb of the block."""
    start, peak, stop = rss(), [rss()], threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], rss())

    thread = threading.Thread(target=sample, daemon=True)
    tracemalloc.start()
    thread.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        out["wall_s"] = round(time.perf_counter() - t0, 2)
        stop.set()
        thread.join()
        out["peak_rss_mb"] = round((max(peak[0], rss()) - start) / MB, 1)
        out["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / MB, 1)
        tracemalloc.stop()


def power_law(n_items: int, n_users: int, n_events: int, seed: int) -> TrainData:
    """Seeded interactions with Zipf item popularity, Zipf-like user activity and 50 taste clusters."""
    rng = np.random.default_rng(seed)
    n_clusters = 50
    pop = rng.permutation(1.0 / np.arange(1, n_items + 1) ** 1.0)
    cluster = rng.integers(0, n_clusters, n_items)
    order = np.argsort(cluster, kind="stable")  # items grouped by cluster
    cdf = np.cumsum(pop[order])
    bounds = np.searchsorted(cluster[order], np.arange(n_clusters + 1))
    lo = np.concatenate([[0.0], cdf])[bounds[:-1]]
    hi = np.concatenate([[0.0], cdf])[bounds[1:]]
    activity = 1.0 / np.arange(1, n_users + 1) ** 0.5
    users = rng.choice(n_users, size=n_events, p=activity / activity.sum())
    taste = rng.integers(0, n_clusters, n_users)[users]
    own = rng.random(n_events) < 0.7
    u = rng.random(n_events)
    v = np.where(own, lo[taste] + u * (hi[taste] - lo[taste]), u * cdf[-1])
    items = order[np.minimum(np.searchsorted(cdf, v), n_items - 1)]
    ratings = np.full(n_events, 4.0, np.float32)
    return TrainData.from_arrays(users, items, ratings, np.arange(n_events), n_items)


def matrix_cost(m: ItemMatrix) -> dict[str, Any]:
    """What an item-item matrix keeps, beside what a dense one would."""
    return {"nnz": m.nnz, "kept_mb": round(m.nbytes / MB, 1),
            "dense_equivalent_mb": round(m.n * m.n * 4 / MB, 1)}  # fmt: skip


def scoring_us(m: ItemMatrix, hists: list[np.ndarray]) -> dict[str, float]:
    """p50/p99 microseconds of one recency-weighted row gather (the sparse path)."""
    sparse = ItemMatrix(m.csr, dense_max=0)
    times = []
    for h in hists:
        last = h[-66:]
        t0 = time.perf_counter()
        sparse.weighted_rows(last, recency_weights(len(last), 0.9))
        times.append((time.perf_counter() - t0) * 1e6)
    return {"score_p50_us": round(float(np.percentile(times, 50)), 1),
            "score_p99_us": round(float(np.percentile(times, 99)), 1)}  # fmt: skip


def search_us(index: Any, queries: np.ndarray) -> float:
    """p50 microseconds of one top-50 search (a serving request's ALS proposal)."""
    times = []
    for v in queries[:: max(1, len(queries) // 300)][:300]:
        t0 = time.perf_counter()
        index.search(v[None, :], 50)
        times.append((time.perf_counter() - t0) * 1e6)
    return round(float(np.percentile(times, 50)), 1)


def stage(
    name: str, run: Callable[[], dict[str, Any]], row: dict[str, Any], say: Callable[[str], None]
) -> None:
    """Run one stage under :func:`measured`; its own figures join the timing."""
    out: dict[str, Any] = {}
    with measured(out):
        extra = run()
    row[name] = {**out, **extra}
    say(f"  {name:<12} {json.dumps(row[name])}")


def one_size(n_items: int, n_users: int, n_events: int, ease_cap: int, hnsw: bool,
             say: Callable[[str], None]) -> dict[str, Any]:  # fmt: skip
    """Every stage at one size."""
    row: dict[str, Any] = {"n_items": n_items, "n_users": n_users, "n_events": n_events}
    box: dict[str, Any] = {}

    def gen() -> dict[str, Any]:
        box["data"] = data = power_law(n_items, n_users, n_events, seed=n_items)
        box["hists"] = [h for h in data.histories()[:400] if len(h)][:200]
        return {"distinct_pairs": int(data.matrix().nnz)}

    stage("generate", gen, row, say)
    data: TrainData = box["data"]

    def columnar() -> dict[str, Any]:
        cols = ColumnarHistories.from_events(data.user_ids[data.users], data.items, data.timestamps,
                                             data.ratings)  # fmt: skip
        return {"kept_mb": round(cols.nbytes / MB, 1), "bytes_per_event": round(cols.nbytes / n_events, 1)}

    stage("histories", columnar, row, say)

    def knn() -> dict[str, Any]:
        m = ItemKNNScorer(ItemKNNParams(neighbors=200)).fit(data).matrix
        return {**matrix_cost(m), **scoring_us(m, box["hists"])}

    stage("itemknn", knn, row, say)

    def trans() -> dict[str, Any]:
        m = TransitionScorer(neighbors=200).fit(data).trans
        return {**matrix_cost(m), **scoring_us(m, box["hists"])}

    stage("transitions", trans, row, say)

    def ease() -> dict[str, Any]:
        e = EASEScorer(EASEParams(max_items=ease_cap)).fit(data)
        cost = {**matrix_cost(e.matrix), **scoring_us(e.matrix, box["hists"])}
        return {"covered_items": len(e.covered), **cost}

    stage("ease", ease, row, say)

    def als() -> dict[str, Any]:
        box["als"] = a = ALSScorer(ALSParams()).fit(data)
        return {"kept_mb": round((a.item_factors.nbytes + a.user_factors.nbytes) / MB, 1)}

    stage("als", als, row, say)
    a: ALSScorer = box["als"]

    def index() -> dict[str, Any]:
        box["index"] = idx = choose_index(IndexConfig(), a.item_factors, a.user_factors)
        rep = idx[1]
        raw = idx[0].inner._index if isinstance(idx[0], MIPSIndex) else idx[0]._index
        kept = round(len(faiss.serialize_index(raw)) / MB, 1)
        return {"kind": rep.kind, "recall10_vs_exact": rep.recall10, "ef_search": rep.ef_search,
                "queries": rep.queries, "kept_mb": kept}

    stage("index_auto", index, row, say)
    exact = build_index(IndexConfig(type="flat"), a.item_factors)
    row["search_us"] = {"auto_p50": search_us(box["index"][0], a.user_factors),
                        "flat_p50": search_us(exact, a.user_factors)}  # fmt: skip
    say(f"  search_us    {json.dumps(row['search_us'])}")
    if hnsw:
        def hnsw_default() -> dict[str, Any]:
            idx = build_index(IndexConfig(type="hnsw"), a.item_factors)
            exact = build_index(IndexConfig(type="flat"), a.item_factors)
            q = a.user_factors[:: max(1, len(a.user_factors) // 500)][:500]
            return {"recall10_vs_exact": recall_against_exact(idx, exact, q, 10), "ef_search": 128, "m": 32}

        stage("index_hnsw_default", hnsw_default, row, say)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/scale_models.json"))
    ap.add_argument("--sizes", default="10000:50000:500000,50000:200000:2000000,200000:500000:5000000")
    ap.add_argument("--ease-cap", type=int, default=10_000)
    ap.add_argument("--no-hnsw", action="store_true", help="skip the HNSW-defaults comparison")
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in s.split(":")) for s in args.sizes.split(",")]
    t0 = time.perf_counter()
    rows = []
    for k, (n_items, n_users, n_events) in enumerate(sizes):
        print(f"{n_items} items, {n_users} users, {n_events} events", flush=True)
        last = k == len(sizes) - 1
        rows.append(one_size(n_items, n_users, n_events, args.ease_cap, last and not args.no_hnsw,
                             lambda s: print(s, flush=True)))  # fmt: skip
    result = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "ease_cap": args.ease_cap,
        "total_wall_s": round(time.perf_counter() - t0, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "sizes": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.json} ({result['total_wall_s']} s)")


if __name__ == "__main__":
    main()

"""P2 over HTTP: replay the held-out events against a running ``recloop serve``.

For each event in time order: GET the user's top-10, score the hit, then
POST the event (idempotency key ``p2-<n>``), exactly as a live client would.
With a replay sample (``sample``) only the sampled events are scored; the
others are still posted, in batches, before the next scored request.
For honest figures the server must hold only the P2 bootstrap: start it
(and train its model) with ``RECLOOP_BASE_FRACTION=0.8``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recloop.client import RecloopClient
from recloop.data.movielens import Dataset
from recloop.evaluation import metrics as m
from recloop.evaluation.protocols import replay_sample, sample_note
from recloop.evaluation.splits import prequential_split

__all__ = ["http_replay"]

POST_BATCH = 500


def _event(n: int, u: str, item: Any, rating: Any, ts: Any) -> dict[str, Any]:
    return {"event_id": f"p2-{n}", "user_id": u, "item_id": int(item), "type": "rate",
            "value": float(rating), "timestamp": float(ts)}  # fmt: skip


def _post(api: RecloopClient, batch: list[dict[str, Any]], tokens: dict[str, str]) -> int:
    """POST ``batch`` (emptied) in requests of at most POST_BATCH events; how many requests."""
    requests = 0
    for start in range(0, len(batch), POST_BATCH):
        requests += 1
        part = batch[start : start + POST_BATCH]
        token = api.post_events(part).wait_token
        if token is not None:  # through an event bus: each user's last event, to read it back
            tokens.update((ev["user_id"], token) for ev in part)
    batch.clear()
    return requests


def _run(
    api: RecloopClient, rest: pd.DataFrame, scored: np.ndarray, advance: Callable[[int], None] | None
) -> tuple[list[float], list[float], list[str], int]:
    """Replay ``rest``; (hit, ndcg, user) per scored event and the number of HTTP requests."""
    hits: list[float] = []
    ndcgs: list[float] = []
    who: list[str] = []
    rows = zip(rest["user_id"].astype(str), rest["item_id"], rest["rating"], rest["timestamp"], strict=True)
    tokens: dict[str, str] = {}
    pending: list[dict[str, Any]] = []
    requests = 0
    for n, (u, item, rating, ts) in enumerate(rows):
        if scored[n]:
            requests += 1 + _post(api, pending, tokens)
            ranked = [r.item_id for r in api.recommendations(u, 10, wait_for=tokens.get(u)).items]
            hit, ndcg = m.rank_ndcg(ranked, int(item), 10)
            hits.append(hit)
            ndcgs.append(ndcg)
            who.append(u)
        pending.append(_event(n, u, item, rating, ts))
        if scored[n]:
            requests += _post(api, pending, tokens)
        if advance:
            advance(1)
    requests += _post(api, pending, tokens)
    return hits, ndcgs, who, requests


def http_replay(
    url: str, dataset: Dataset, limit: int | None = None,
    advance: Callable[[int], None] | None = None, client: RecloopClient | None = None,
    sample: int | None = None, sample_seed: int = 0,
) -> dict[str, Any]:  # fmt: skip
    """Replay P2 events over HTTP; returns the P2 metrics, replayed events/s and requests/s.

    ``client``: the API client to use (default: a new one on ``url``, closed at the end).
    ``sample``: score a seeded uniform sample of this many events (all are posted).
    """
    boot, rest = prequential_split(dataset.interactions)
    if limit is not None:
        rest = rest.iloc[:limit]
    mask = replay_sample(len(rest), sample, sample_seed)
    scored = np.ones(len(rest), dtype=bool) if mask is None else mask
    warm = set(boot["user_id"].astype(str))
    base = url.rstrip("/")
    api = client if client is not None else RecloopClient(base)
    try:
        version = api.ready().model_version
        t0 = time.perf_counter()
        hits, ndcgs, who, requests = _run(api, rest, scored, advance)
        wall = time.perf_counter() - t0
    finally:
        if client is None:
            api.close()
    h, g, c = np.asarray(hits), np.asarray(ndcgs), np.asarray([u not in warm for u in who], dtype=bool)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else 0.0

    out = {
        "protocol": "p2-http", "url": base, "model_version": version, "events": len(h),
        "metrics": {"NDCG@10": mean(g), "HR@10": mean(h), "NDCG@10_cold": mean(g[c]),
                    "NDCG@10_warm": mean(g[~c]), "HR@10_cold": mean(h[c]), "HR@10_warm": mean(h[~c]),
                    "events_per_s": len(rest) / wall if wall else 0.0,
                    "requests_per_s": requests / wall if wall else 0.0},
        "wall_s": wall,
    }  # fmt: skip
    if mask is not None:
        out["replay_sample"] = sample_note(mask, len(rest), sample_seed)
    return out

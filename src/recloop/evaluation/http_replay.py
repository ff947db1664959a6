"""P2 over HTTP: replay the held-out events against a running ``recloop serve``.

For each event in time order: GET the user's top-10, score the hit, then
POST the event (idempotency key ``p2-<n>``), exactly as a live client would.
For honest figures the server must hold only the P2 bootstrap: start it
(and train its model) with ``RECLOOP_BASE_FRACTION=0.8``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from recloop.client import RecloopClient
from recloop.data.movielens import Dataset
from recloop.evaluation import metrics as m
from recloop.evaluation.splits import prequential_split

__all__ = ["http_replay"]


def http_replay(
    url: str, dataset: Dataset, limit: int | None = None,
    advance: Callable[[int], None] | None = None, client: RecloopClient | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Replay P2 events over HTTP; returns the P2 metrics and requests/s.

    ``client``: the API client to use (default: a new one on ``url``, closed at the end).
    """
    boot, rest = prequential_split(dataset.interactions)
    if limit is not None:
        rest = rest.iloc[:limit]
    warm = set(boot["user_id"].astype(str))
    hits, ndcgs, cold = [], [], []
    base = url.rstrip("/")
    api = client if client is not None else RecloopClient(base)
    try:
        version = api.ready().model_version
        t0 = time.perf_counter()
        rows = zip(rest["user_id"].astype(str), rest["item_id"], rest["rating"], rest["timestamp"],
                   strict=True)  # fmt: skip
        tokens: dict[str, str] = {}  # through an event bus: each user's last event, to read it back
        for n, (u, item, rating, ts) in enumerate(rows):
            ranked = [r.item_id for r in api.recommendations(u, 10, wait_for=tokens.get(u)).items]
            hit, ndcg = m.rank_ndcg(ranked, int(item), 10)
            hits.append(hit)
            ndcgs.append(ndcg)
            cold.append(u not in warm)
            ev = {"event_id": f"p2-{n}", "user_id": u, "item_id": int(item), "type": "rate",
                  "value": float(rating), "timestamp": float(ts)}  # fmt: skip
            token = api.post_events([ev]).wait_token
            if token is not None:
                tokens[u] = token
            if advance:
                advance(1)
        wall = time.perf_counter() - t0
    finally:
        if client is None:
            api.close()
    h, g, c = np.asarray(hits), np.asarray(ndcgs), np.asarray(cold)

    def mean(x: np.ndarray) -> float:
        return float(x.mean()) if len(x) else 0.0

    return {
        "protocol": "p2-http", "url": base, "model_version": version, "events": len(h),
        "metrics": {"NDCG@10": mean(g), "HR@10": mean(h), "NDCG@10_cold": mean(g[c]),
                    "NDCG@10_warm": mean(g[~c]), "HR@10_cold": mean(h[c]), "HR@10_warm": mean(h[~c]),
                    "events_per_s": len(h) / wall if wall else 0.0,
                    "requests_per_s": 2 * len(h) / wall if wall else 0.0},
        "wall_s": wall,
    }  # fmt: skip

"""P2 over HTTP through the Kafka path vs the direct path: the same events, the same order per user.

Usage::

    python benchmarks/replay_kafka.py --home HOME [--limit 3000] [--json benchmarks/results/replay_kafka.json]

``HOME`` holds a champion trained on the P2 bootstrap (``RECLOOP_BASE_FRACTION=0.8 recloop train``).
Two servers on Redis (private prefixes): one applying events itself, one producing them to a
Tansu broker with a ``recloop consume`` applying them. The replay (recloop.evaluation.http_replay)
asks each user's list with ``wait_for`` = the user's last event, so each list is computed after
that user's events are applied. Item popularity and trending reach a Kafka-mode server through
its periodic stats sync (``RECLOOP_STATS_SYNC_S``, 0.1 s here), not at once as in direct mode: that
is the one difference the figures can show.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from recloop.config import Settings
from recloop.data import load_dataset
from recloop.evaluation.http_replay import http_replay
from streaming import REDIS_URL, Proc, _env, free_port, start_broker, wait_ready

ROOT = Path(__file__).resolve().parents[1]


def replay(name: str, home: Path, tmp: Path, broker: str | None, limit: int) -> dict[str, Any]:
    """One server (and consumer) on a fresh prefix; the P2-over-HTTP report."""
    prefix, port = f"recloop-p2-{name}-{uuid.uuid4().hex[:6]}", free_port()
    extra = {"RECLOOP_BASE_FRACTION": "0.8", "RECLOOP_STATS_SYNC_S": "0.1"}
    if broker:
        extra |= {"RECLOOP_EVENTS__BUS": "kafka", "RECLOOP_EVENTS__BOOTSTRAP": broker,
                  "RECLOOP_EVENTS__TOPIC": prefix, "RECLOOP_EVENTS__GROUP": prefix}  # fmt: skip
    env = _env(home, prefix, extra)
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    api = Proc(serve, env, tmp / f"{name}.log")
    consumer = Proc(["consume", "--metrics-port", "0"], env, tmp / f"{name}-consumer.log") if broker else None
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url)
        return http_replay(url, load_dataset(Settings(home=home)), limit=limit)
    finally:
        api.stop()
        if consumer:
            consumer.stop()
        from recloop.features.redis_keys import delete_prefix

        delete_prefix(redis.Redis.from_url(REDIS_URL), prefix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--limit", type=int, default=3000, help="replay the first N P2 events")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "replay_kafka.json")
    args = parser.parse_args()
    home = args.home.expanduser().resolve()
    with tempfile.TemporaryDirectory(prefix="recloop-p2k-") as t:
        tmp = Path(t)
        broker_proc, broker = start_broker(tmp)
        try:
            out = {name: replay(name, home, tmp, via, args.limit) for name, via in (("direct", None),
                                                                                  ("kafka", broker))}
        finally:
            broker_proc.kill()
    for name, r in out.items():
        m = r["metrics"]
        print(f"{name:7} NDCG@10 {m['NDCG@10']:.4f}  HR@10 {m['HR@10']:.4f}  "
              f"events/s {m['events_per_s']:.0f}")
    result = {"limit": args.limit, "modes": out,
              "ndcg_difference": out["kafka"]["metrics"]["NDCG@10"] - out["direct"]["metrics"]["NDCG@10"]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"NDCG@10 kafka - direct: {result['ndcg_difference']:+.4f}; wrote {args.json}")


if __name__ == "__main__":
    main()

"""Drift monitoring of a serving process: training reference vs the live window.

The reference is built from the training base (its latest 10% of events) and
from the model's own lists for a sample of training users, again after every
hot swap (:meth:`DriftMonitor.rebuild_reference`); the current
window is the latest live events and served lists kept by :class:`LiveStats`.
A check runs on a schedule (or on demand); an alert sets Prometheus gauges and
calls ``on_alert`` (the retraining trigger).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from recloop.monitoring.drift import DriftInputs, DriftReport, DriftThresholds, detect_drift
from recloop.monitoring.live import LiveStats

__all__ = ["ALERT_FILE", "DriftMonitor", "drift_alert_writer", "drift_file_probe"]

ALERT_FILE = "drift_alert.json"

MIN_EVENTS = 200
MIN_RECS = 50


class DriftMonitor:
    """Keeps the reference, runs checks, remembers their history."""

    def __init__(
        self, service: Any, live: LiveStats, thresholds: DriftThresholds | None = None,
        on_alert: Callable[[DriftReport], None] | None = None, sample_users: int = 100,
    ) -> None:  # fmt: skip
        self.service, self.live = service, live
        self.thresholds = thresholds or DriftThresholds()
        self.on_alert = on_alert
        self.genre_of = [v.genres for v in service.live.catalog.views]
        self.sample_users = sample_users
        self.reference = self._reference(sample_users)
        self.reference_version = str(service.model.version)
        self.history: list[dict[str, Any]] = []
        self.latest: DriftReport | None = None
        self.triggers: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _genres(self, items: list[int]) -> dict[str, int]:
        c: Counter[str] = Counter()
        for i in items:
            c.update(self.genre_of[i] or ("unknown",))
        return dict(c)

    def _reference(self, sample_users: int) -> DriftInputs:
        live = self.service.live
        base = live.base
        users = sorted(base.rows)[:: max(1, len(base.rows) // sample_users)][:sample_users]
        order = np.argsort(base.timestamps, kind="stable")
        recent = order[-max(1, len(order) // 10) :]
        items = base.items[recent].tolist()
        stats = live.stats
        pop = np.log1p(stats.counts)
        scores, recs = [], []
        model = self.service.model.model
        for u in users:
            ranked = model.rank(live.history(u), stats, stats.now, 10)
            scores.extend(ranked.scores.tolist())
            recs.extend(ranked.items.tolist())
        return DriftInputs(
            output_scores=np.asarray(scores), cold_start_share=0.0,
            recommended_counts={str(k): v for k, v in Counter(recs).items()},
            numeric={"rating": base.ratings[recent].astype(float),
                     "item_popularity": pop[items]},
            categorical={"event_type": {"rate": len(recent)}, "genre": self._genres(items)},
        )  # fmt: skip

    def rebuild_reference(self) -> None:
        """The reference again, from the model serving now (after a hot swap): output drift
        compares the live lists with what this model, not the previous one, gave offline."""
        version = str(self.service.model.version)
        self.reference = self._reference(self.sample_users)
        self.reference_version = version

    def current(self) -> DriftInputs | None:
        """The live window, or None while it is too small to judge."""
        with self.live._lock:
            events = list(self.live.recent_events)
            recs = list(self.live.recent_recs)
            rate = self.live.positive_rate.rate
        if len(events) < MIN_EVENTS or len(recs) < MIN_RECS:
            return None
        items = [i for i, _, _ in events]
        ratings = [r for _, t, r in events if t == "rate"]
        pop = np.log1p(self.service.live.stats.counts)
        return DriftInputs(
            output_scores=np.concatenate([s for s, _, _ in recs]),
            cold_start_share=float(np.mean([c for _, c, _ in recs])),
            recommended_counts={str(k): v for k, v in Counter(
                int(i) for _, _, its in recs for i in its).items()},
            numeric={"rating": np.asarray(ratings or [0.0], dtype=float),
                     "item_popularity": pop[items]},
            categorical={"event_type": dict(Counter(t for _, t, _ in events)),
                         "genre": self._genres(items)},
            positive_rate=rate,
        )  # fmt: skip

    def check(self) -> DriftReport | None:
        """Compare the live window with the reference; None if too little data."""
        cur = self.current()
        if cur is None:
            return None
        report = detect_drift(self.reference, cur, self.thresholds)
        self.latest = report
        m = self.live.m
        for s in report.scores:
            m.drift.labels(s.name).set(s.statistic)
        m.drift_alert.set(1.0 if report.alert else 0.0)
        # PSI/delta keep the check's name; a KS or chi-square test of the same input gets ":ks"/":chi2"
        point = {"t": time.time(), "alert": report.alert,
                 "scores": {s.name if s.kind in ("psi", "delta", "relative_drop") else f"{s.name}:{s.kind}":
                            s.statistic for s in report.scores}}  # fmt: skip
        self.history = [*self.history[-287:], point]
        if report.alert and self.on_alert is not None:
            reasons = [s.name for s in report.scores if s.alert]
            self.triggers.append({"t": time.time(), "reason": "drift: " + ", ".join(reasons),
                                  "outcome": "retrain requested"})  # fmt: skip
            self.on_alert(report)
        return report

    def snapshot(self) -> dict[str, Any]:
        """The ``GET /v1/monitoring/drift`` payload."""
        return {"latest": None if self.latest is None else self.latest.to_dict(),
                "history": self.history, "thresholds": self.thresholds.model_dump(),
                "triggers": self.triggers, "reference_model_version": self.reference_version}  # fmt: skip

    def start(self, interval_s: float) -> None:
        """Check every ``interval_s`` seconds in a daemon thread."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                self.check()

        self._thread = threading.Thread(target=loop, name="drift-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background checks."""
        self._stop.set()


def drift_alert_writer(home: Path) -> Callable[[DriftReport], None]:
    """An ``on_alert`` that leaves the report in ``<home>/drift_alert.json``.

    The retraining worker (``recloop worker``) treats that file as a drift trigger.
    """

    def write(report: DriftReport) -> None:
        home.mkdir(parents=True, exist_ok=True)
        (home / ALERT_FILE).write_text(json.dumps(report.to_dict()))

    return write


def drift_file_probe(home: Path, max_age_s: float = 3600.0) -> Callable[[], bool]:
    """A trigger probe for a separate worker: a drift alert written in the last ``max_age_s``."""

    def probe() -> bool:
        path = home / ALERT_FILE
        return path.exists() and time.time() - path.stat().st_mtime < max_age_s

    return probe

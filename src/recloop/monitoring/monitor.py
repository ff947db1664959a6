"""Drift monitoring of a serving process: training reference vs a time window of live traffic.

The reference is built from the training base (its latest 10% of events) and from the model's
own lists for a sample of training users, again after every hot swap
(:meth:`DriftMonitor.rebuild_reference`); the current window is the live events and served lists
of the last ``window_s`` seconds kept by :class:`LiveStats`. A check runs on a schedule (or on
demand). A failing check opens one alert (:class:`~recloop.monitoring.alerts.AlertBook`) that
stays open, counted, until the check passes; only an alert that opens calls ``on_alert`` (the
retraining trigger) and is listed as a trigger. ``clock`` is injectable (tests move time).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recloop.monitoring.alerts import AlertBook, FailingCheck
from recloop.monitoring.checks import alert_direction, check_key, check_label, plots_p_value, plotted_value
from recloop.monitoring.drift import DriftReport, DriftThresholds, detect_drift
from recloop.monitoring.inputs import DisabledCheck, LiveWindow, live_inputs, matched, reference_inputs
from recloop.monitoring.live import LiveStats

__all__ = ["ALERT_FILE", "DriftMonitor", "RetrainWorker", "drift_alert_writer", "drift_file_probe"]

ALERT_FILE = "drift_alert.json"

MIN_EVENTS = 200
MIN_RECS = 50


@dataclass(frozen=True)
class RetrainWorker:
    """Who acts on a drift trigger: the in-server worker, or nobody unless ``recloop worker`` runs."""

    in_server: bool
    acts_on_drift: bool
    message: str
    outcome: str = "no worker acts on it"

    @classmethod
    def describe(cls, in_server: bool, home: Path) -> RetrainWorker:
        """What a trigger leads to with RECLOOP_RETRAIN_IN_SERVER = ``in_server``."""
        if in_server:
            return cls(True, True, "the in-server retrain worker (RECLOOP_RETRAIN_IN_SERVER=true) retrains "
                       "on an open drift alert once there are new events and its cooldown has passed",
                       "retrain requested from the in-server worker")  # fmt: skip
        return cls(False, False, "no retrain worker runs in this server (RECLOOP_RETRAIN_IN_SERVER=false): "
                   f"an alert is only written to {home / ALERT_FILE}, which a separately started "
                   "`recloop worker` acts on within an hour; start one or set RECLOOP_RETRAIN_IN_SERVER=true",
                   f"written to {ALERT_FILE}; no worker in this server acts on it")  # fmt: skip


def report_out(report: DriftReport) -> dict[str, Any]:
    """A report as the API returns it: every score with its key, label and plotted value."""
    return {"alert": report.alert, "created_at": report.created_at.isoformat(),
            "scores": [{**asdict(s), "key": check_key(s.name, s.kind), "label": check_label(s.name, s.kind),
                        "plotted": "p_value" if plots_p_value(s.kind) else "statistic",
                        "value": plotted_value(s), "direction": alert_direction(s.kind)}
                       for s in report.scores]}  # fmt: skip


class DriftMonitor:
    """Keeps the reference, runs checks, remembers their history and the open alerts."""

    def __init__(
        self, service: Any, live: LiveStats, thresholds: DriftThresholds | None = None,
        on_alert: Callable[[DriftReport], None] | None = None, sample_users: int = 100,
        window_s: float = 900.0, worker: RetrainWorker | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:  # fmt: skip
        self.service, self.live = service, live
        self.thresholds = thresholds or DriftThresholds()
        self.on_alert = on_alert
        self.window_s = window_s
        self.clock = clock or (lambda: live.clock())
        self.worker = worker or RetrainWorker(False, False, "no retrain worker is configured")
        self.genre_of = [v.genres for v in service.live.catalog.views]
        self.sample_users = sample_users
        self.reference = reference_inputs(service, self.genre_of, sample_users)
        self.reference_version = str(service.model.version)
        self.history: list[dict[str, Any]] = []
        self.latest: DriftReport | None = None
        self.disabled: list[DisabledCheck] = []
        self.alerts = AlertBook()
        self.triggers: list[dict[str, Any]] = []
        self.last_check_at: float | None = None
        self.window_counts = (0, 0)
        self._check_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def rebuild_reference(self) -> None:
        """The reference again, from the model serving now (after a hot swap): output drift
        compares the live lists with what this model, not the previous one, gave offline."""
        version = str(self.service.model.version)
        self.reference = reference_inputs(self.service, self.genre_of, self.sample_users)
        self.reference_version = version

    def window(self, now: float) -> LiveWindow:
        """The live events and lists of the last ``window_s`` seconds: ``(now - window_s, now]``."""
        since = now - self.window_s
        with self.live._lock:
            events = [e for e in self.live.recent_events if e[3] > since]
            recs = [r for r in self.live.recent_recs if r[3] > since]
        return LiveWindow(events, recs)

    def check(self) -> DriftReport | None:
        """Compare the live window with the reference; None (alerts unchanged) if too little data."""
        with self._check_lock:
            now = self.clock()
            self.last_check_at = now
            win = self.window(now)
            self.window_counts = (len(win.events), len(win.recs))
            if len(win.events) < MIN_EVENTS or len(win.recs) < MIN_RECS:
                return None
            rate = self.live.positive_rate.rate
            cur = live_inputs(win, self.service.live.stats.counts, self.genre_of, rate)
            ref, cur, self.disabled = matched(self.reference, cur)
            report = detect_drift(ref, cur, self.thresholds)
            report = replace(report, created_at=datetime.fromtimestamp(now, UTC))
            self.latest = report
            self._record(report, now)
            return report

    def _record(self, report: DriftReport, now: float) -> None:
        """Gauges, history point, alert book and (for alerts that opened) the trigger."""
        for s in report.scores:
            self.live.m.drift.labels(s.name).set(s.statistic)
        self.history = [*self.history[-287:], {
            "t": now, "alert": report.alert,
            "scores": {check_key(s.name, s.kind): s.statistic for s in report.scores},
            "values": {check_key(s.name, s.kind): plotted_value(s) for s in report.scores}}]  # fmt: skip
        failing = [FailingCheck(check_key(s.name, s.kind), check_label(s.name, s.kind), plotted_value(s))
                   for s in report.scores if s.alert]  # fmt: skip
        update = self.alerts.update(failing, now)
        self.live.m.drift_alert.set(1.0 if self.alerts.open else 0.0)
        if update.opened:
            outcome = self.worker.outcome
            self.triggers = [*self.triggers[-99:], {
                "t": now, "reason": "drift: " + ", ".join(a.label for a in update.opened),
                "outcome": outcome, "checks": [a.key for a in update.opened]}]  # fmt: skip
            if self.on_alert is not None:
                self.on_alert(report)

    def status(self) -> dict[str, Any]:
        """The live window: its span, what it holds, and whether that is enough to check."""
        events, recs = self.window_counts
        ok = events >= MIN_EVENTS and recs >= MIN_RECS
        message = (f"{events} events and {recs} lists in the last {self.window_s / 60:g} min" + (
            "" if ok else f"; a check needs {MIN_EVENTS} events and {MIN_RECS} lists, so none ran "
            "and open alerts stay as they were"))  # fmt: skip
        return {"seconds": self.window_s, "events": events, "lists": recs, "min_events": MIN_EVENTS,
                "min_lists": MIN_RECS, "enough": ok, "message": message}  # fmt: skip

    def snapshot(self) -> dict[str, Any]:
        """The ``GET /v1/monitoring/drift`` payload (:class:`recloop.api.schemas.DriftOut`)."""
        return {"latest": None if self.latest is None else report_out(self.latest),
                "history": self.history, "thresholds": self.thresholds.model_dump(),
                "triggers": self.triggers, "reference_model_version": self.reference_version,
                "disabled_checks": [asdict(d) for d in self.disabled],
                "open_alerts": [asdict(a) for a in self.alerts.open_alerts()],
                "closed_alerts": [asdict(a) for a in self.alerts.closed],
                "window": self.status(), "last_check_at": self.last_check_at,
                "retrain_worker": asdict(self.worker)}  # fmt: skip

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

"""When to retrain (schedule, new events, drift alert) and the worker that does it.

:class:`RetrainTriggers` is pure logic over a :class:`RetrainState` (kept in
``<home>/retrain_state.json``: the last event ``seq`` a retrain consumed and
when it last ran). :func:`worker_loop` checks the triggers every few seconds
and runs :func:`~recloop.pipelines.retrain.retrain` when one fires.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import structlog

from recloop.config import Settings
from recloop.data import Dataset, load_dataset
from recloop.errors import RecloopError, ValidationError
from recloop.features.store import EventLog, open_event_log
from recloop.monitoring.metrics import Instruments
from recloop.pipelines.retrain import RetrainDecision, retrain

__all__ = [
    "RetrainState",
    "RetrainTriggers",
    "drift_gauge_probe",
    "load_state",
    "run_once",
    "save_state",
    "worker_loop",
]

log = structlog.get_logger(__name__)
STATE_FILE = "retrain_state.json"
Retrain = Callable[..., RetrainDecision]


@dataclass(frozen=True)
class RetrainState:
    """What the last retraining consumed: event ``seq`` and times (Unix s)."""

    last_seq: int = 0
    last_run_at: float | None = None
    last_attempt_at: float | None = None
    last_decision: str | None = None
    last_version: int | None = None


def load_state(home: Path) -> RetrainState:
    """The saved state, or a fresh one when the file is missing."""
    path = home / STATE_FILE
    if not path.exists():
        return RetrainState()
    try:
        return RetrainState(**json.loads(path.read_text()))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValidationError(f"{path} is corrupt ({exc}); delete it to start afresh") from exc


def save_state(home: Path, state: RetrainState) -> None:
    """Write the state atomically (temp file + rename)."""
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(asdict(state), indent=1))
    tmp.replace(home / STATE_FILE)


@dataclass(frozen=True)
class RetrainTriggers:
    """Retrain when any trigger fires and there is at least one new event.

    ``interval_s``: schedule, seconds since the last successful run (None: off).
    ``min_new_events``: events logged since the last run (None: off).
    ``drift_alert``: whether a raised drift alert triggers a run.
    ``cooldown_s``: no attempt sooner than this after the previous one.
    """

    interval_s: float | None = 24 * 3600.0
    min_new_events: int | None = 1000
    drift_alert: bool = True
    cooldown_s: float = 300.0

    def reasons(self, state: RetrainState, now: float, new_events: int, drift: bool = False) -> list[str]:
        """Why a run is due now (empty: not due)."""
        if new_events <= 0:
            return []
        if state.last_attempt_at is not None and now - state.last_attempt_at < self.cooldown_s:
            return []
        out = []
        if self.interval_s is not None and (
            state.last_run_at is None or now - state.last_run_at >= self.interval_s
        ):
            out.append("schedule")
        if self.min_new_events is not None and new_events >= self.min_new_events:
            out.append(f"{new_events} new events")
        if self.drift_alert and drift:
            out.append("drift alert")
        return out


def new_event_count(store: EventLog, state: RetrainState) -> int:
    """Events logged after ``state.last_seq`` (all of them if the log was cleared)."""
    total = store.event_count()
    return total if total < state.last_seq else total - state.last_seq


def drift_gauge_probe(instruments: Instruments) -> Callable[[], bool]:
    """A probe reading the ``recloop_drift_alert`` gauge of a serving process."""
    return lambda: bool(instruments.registry.get_sample_value("recloop_drift_alert"))


def run_once(
    settings: Settings, store: EventLog, dataset: Dataset, reasons: list[str],
    retrain_fn: Retrain = retrain, instruments: Instruments | None = None, **options: Any,
) -> RetrainDecision | None:  # fmt: skip
    """Retrain on every event in ``store`` now; update the state file and counters."""
    state = load_state(settings.home)
    now = time.time()
    snapshot = store.events()
    last_seq = snapshot[-1][0] if snapshot else 0
    log.info("retrain triggered", reasons=reasons, events=len(snapshot))
    save_state(settings.home, replace(state, last_attempt_at=now))
    try:
        decision = retrain_fn(settings, events=[e for _, e in snapshot], dataset=dataset, **options)
    except Exception as exc:  # a worker outlives one bad run; the state keeps the attempt
        message = exc.message if isinstance(exc, RecloopError) else repr(exc)
        log.error("retrain failed", error=message, exc_info=not isinstance(exc, RecloopError))
        if instruments:
            instruments.retrains.labels("failed").inc()
        return None
    save_state(settings.home, RetrainState(last_seq, now, now, decision.decision,
                                           decision.challenger.version))  # fmt: skip
    if instruments:
        instruments.retrains.labels(decision.decision).inc()
    return decision


def worker_loop(
    settings: Settings, stop_event: threading.Event, *, triggers: RetrainTriggers | None = None,
    check_every_s: float = 30.0, store: EventLog | None = None, dataset: Dataset | None = None,
    drift_probe: Callable[[], bool] | None = None, instruments: Instruments | None = None,
    retrain_fn: Retrain = retrain, on_decision: Callable[[RetrainDecision], None] | None = None,
    **options: Any,
) -> None:  # fmt: skip
    """Check ``triggers`` every ``check_every_s`` until ``stop_event`` is set.

    Pass ``store`` when this process already owns it; otherwise the configured
    store's log is opened read-only (beside a running server) and closed here.
    ``options`` go to :func:`retrain` (margin, window_fraction, ...).
    """
    trig = triggers or RetrainTriggers()
    data = dataset or load_dataset(settings)
    own = store is None
    st = store if store is not None else open_event_log(settings.state, data.n_items, settings.home)
    try:
        while not stop_event.is_set():
            st.refresh()
            state = load_state(settings.home)
            drift = bool(drift_probe()) if drift_probe else False
            why = trig.reasons(state, time.time(), new_event_count(st, state), drift)
            if why:
                decision = run_once(settings, st, data, why, retrain_fn, instruments, **options)
                if decision is not None and on_decision:
                    on_decision(decision)
            stop_event.wait(check_every_s)
    finally:
        if own:
            st.close()

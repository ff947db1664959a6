"""The experiment supervisor: scheduled sequential looks and auto-promotion, owned by the app lifespan.

Reading results never changes an experiment; this thread is what folds a
look into the always-valid sequential test (every ``interval_s``) and lets
an ``auto_promote`` experiment promote its winner.
"""

from __future__ import annotations

import threading

import structlog

from recloop.errors import RecloopError
from recloop.experiments.engine import ExperimentEngine

__all__ = ["ExperimentSupervisor"]

log = structlog.get_logger(__name__)


class ExperimentSupervisor:
    """A daemon thread: ``engine.look`` on the running experiment every ``interval_s`` seconds."""

    def __init__(self, engine: ExperimentEngine, interval_s: float = 60.0) -> None:
        self.engine, self.interval_s = engine, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.looks = 0

    def look_now(self) -> str | None:
        """One look at the running experiment (if any); its decision. Never raises."""
        exp = self.engine.running()
        if exp is None:
            return None
        try:
            out = self.engine.look(exp.id)
        except (RecloopError, OSError) as exc:
            log.error("experiment_look_failed", id=exp.id, error=str(exc))
            return None
        self.looks += 1
        decision = str(out["decision"])
        log.info("experiment_look", id=exp.id, decision=decision, status=out["status"])
        return decision

    def start(self) -> None:
        """Start looking in the background."""
        self._thread = threading.Thread(target=self._run, name="recloop-experiments", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.look_now()

    def stop(self) -> None:
        """Stop the thread (waits for a look in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10.0)

"""Per-stage wall time and memory of a pipeline run (the ``stages`` of ``recloop train --json``).

A run opens :func:`recording`; any code below it wraps a step in :func:`stage`
(a no-op when nothing records), so the training pipeline, the sources and the
index report their own steps without passing a logger through every call.
Each record carries its wall-clock start and end (Unix s), so a process that
samples the run's RSS from outside can attribute its peak to a stage.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

__all__ = ["StageRecord", "recording", "stage"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_MB = 1024 * 1024


@dataclass(frozen=True)
class StageRecord:
    """One step: name (dotted: ``fit.base.ease``), start/end (Unix s), wall s, RSS (MB).

    ``rss_end_mb``: resident memory at the end; ``peak_rss_mb``: the process's peak so
    far (``getrusage`` maxrss), an upper bound for this stage's own peak.
    """

    name: str
    start: float
    end: float
    wall_s: float
    rss_end_mb: float
    peak_rss_mb: float

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready."""
        return asdict(self)


_LOG: ContextVar[list[StageRecord] | None] = ContextVar("recloop_stage_log", default=None)
_PREFIX: ContextVar[str] = ContextVar("recloop_stage_prefix", default="")


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE / _MB
    except OSError:  # pragma: no cover - non-Linux
        return 0.0


@contextmanager
def recording() -> Iterator[list[StageRecord]]:
    """Collect the :func:`stage` records of the block into the yielded list (in end order).

    Inside another recording it yields that one's list (a command's stages and the
    pipeline's own end up in one list).
    """
    outer = _LOG.get()
    if outer is not None:
        yield outer
        return
    log: list[StageRecord] = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage ``name`` if a :func:`recording` is open.

    Stages nest: a stage opened inside ``fit.base`` is recorded as ``fit.base.<name>``.
    """
    log = _LOG.get()
    if log is None:
        yield
        return
    outer = _PREFIX.get()
    name = f"{outer}.{name}" if outer else name
    token = _PREFIX.set(name)
    start, t0 = time.time(), time.perf_counter()
    try:
        yield
    finally:
        _PREFIX.reset(token)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.append(StageRecord(name, round(start, 3), round(time.time(), 3),
                               round(time.perf_counter() - t0, 3), round(_rss_mb(), 1),
                               round(peak, 1)))  # fmt: skip

"""Thread-pool control: one thread for serving, all cores for training."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["cpu_count", "training_threads"]


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


@contextmanager
def training_threads() -> Iterator[int]:
    """Lift BLAS/OpenMP limits to every core for a training step; yields the count."""
    n = cpu_count()
    with threadpool_limits(limits=n):
        yield n

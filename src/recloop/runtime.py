"""Thread-pool control: one thread for serving, a fixed count for training.

Training uses :data:`TRAINING_THREADS` threads whatever the machine: LightGBM
(even with ``deterministic=True``), FAISS's k-means and graph build, and
LAPACK's inverse reduce in an order that depends on the thread count, so a
count taken from the machine (``os.cpu_count()``) makes the same data, seed
and recipe give a different model on a machine with another number of cores.
``RECLOOP_TRAINING_THREADS`` overrides it (a different count may change the
model in the last bits; the figures of one count are reproducible).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

__all__ = ["TRAINING_THREADS", "cpu_count", "training_thread_count", "training_threads"]

TRAINING_THREADS = 2


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def training_thread_count() -> int:
    """Threads of every training step: ``RECLOOP_TRAINING_THREADS`` or :data:`TRAINING_THREADS`."""
    raw = os.environ.get("RECLOOP_TRAINING_THREADS", "")
    return max(1, int(raw)) if raw.strip().isdigit() else TRAINING_THREADS


@contextmanager
def training_threads() -> Iterator[int]:
    """Lift BLAS/OpenMP limits to the fixed training thread count for a step; yields the count."""
    n = training_thread_count()
    with threadpool_limits(limits=n):
        yield n

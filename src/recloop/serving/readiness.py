"""Readiness: can this process serve and take writes right now? (``GET /ready``)

Three conditions, each reported on its own so an operator sees which one failed:
a model is loaded; the state store can take a write (:meth:`FeatureStore.ping`: Redis answers
within ``RECLOOP_STATE__TIMEOUT_S``, the embedded store's file is writable); the disk under
``RECLOOP_HOME`` has at least ``RECLOOP_READY_MIN_FREE_MB`` free (the embedded store's log, the
model cache and the reports live there). Liveness (``/health``) asks none of this.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import Any

from recloop.errors import RecloopError

__all__ = ["Check", "Readiness", "check_disk", "check_readiness", "check_store"]


@dataclass(frozen=True)
class Check:
    """One condition: whether it holds and what was seen (the error message when not)."""

    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    """``ready`` is every check holding; the model version served (None before one is loaded)."""

    ready: bool
    model_version: str | None
    store: Check
    disk: Check


def check_store(store: Any) -> Check:
    """The store's ping: ok, or the error that says what is wrong."""
    try:
        store.ping()
    except RecloopError as exc:
        return Check(False, exc.message)
    return Check(True, "takes writes")


def check_disk(home: Any, min_free_mb: float) -> Check:
    """Free space on the file system of ``home`` against ``min_free_mb``."""
    try:
        free_mb = shutil.disk_usage(home).free / 2**20
    except OSError as exc:
        return Check(False, f"{home}: {exc.strerror}")
    if free_mb < min_free_mb:
        return Check(False, f"{free_mb:.0f} MB free under {home}, below RECLOOP_READY_MIN_FREE_MB="
                            f"{min_free_mb:.0f}: free disk space")  # fmt: skip
    return Check(True, f"{free_mb:.0f} MB free")


def check_readiness(runtime: Any) -> Readiness:
    """Every condition for ``runtime`` (a :class:`~recloop.serving.runtime.Runtime`). Blocking:
    the store ping may take up to the store's timeout, so call it off the event loop."""
    store = check_store(runtime.store)
    disk = check_disk(runtime.settings.home, runtime.settings.ready_min_free_mb)
    return Readiness(store.ok and disk.ok, runtime.service.model.version, store, disk)

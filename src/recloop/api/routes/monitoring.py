"""Drift monitoring (latest report, history, open alerts, triggers) and online quality per model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from recloop.api.deps import AdminKey, RuntimeDep
from recloop.api.schemas import DriftOut, OnlineQualityOut

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get("/drift", response_model=DriftOut)
def drift(request: Request, refresh: bool = False) -> dict[str, Any]:
    """Drift of the live window against the training reference (``refresh`` checks now)."""
    monitor = request.app.state.monitor
    if refresh:
        monitor.check()
    snapshot: dict[str, Any] = monitor.snapshot()
    return snapshot


@router.post("/drift/check", response_model=DriftOut)
def check_now(request: Request, _admin: AdminKey) -> dict[str, Any]:
    """Run a drift check now (admin), instead of waiting for the next scheduled one."""
    monitor = request.app.state.monitor
    monitor.check()
    snapshot: dict[str, Any] = monitor.snapshot()
    return snapshot


@router.get("/online", response_model=OnlineQualityOut)
def online(runtime: RuntimeDep) -> dict[str, Any]:
    """Online CTR and positive rate per model version, in one-minute buckets over the last hour."""
    return runtime.live.online.snapshot(str(runtime.service.model.version))

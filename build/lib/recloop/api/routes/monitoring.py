"""Drift monitoring: the latest report, its history, thresholds and triggers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"])


@router.get("/drift")
def drift(request: Request, refresh: bool = False) -> dict[str, Any]:
    """Drift of the live window against the training reference (``refresh`` checks now)."""
    monitor = request.app.state.monitor
    if refresh:
        monitor.check()
    snapshot: dict[str, Any] = monitor.snapshot()
    return snapshot

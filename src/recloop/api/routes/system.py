"""Health, readiness, Prometheus metrics, dashboard stats, models and offline figures."""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from recloop.api.deps import AdminKey, RuntimeDep
from recloop.api.schemas import Decisions, Health, ModelList, Offline, Promotion, Ready, Stats
from recloop.serving.readiness import check_readiness

router = APIRouter(tags=["system"])

# the model's own held-out figures; baselines and fit facts stay in the registry
_SHOWN_METRICS = ("NDCG@10", "Recall@10", "Recall@20", "HR@10", "MAP@10", "Precision@10", "Coverage@10")


@router.get("/health", response_model=Health)
async def health() -> dict[str, str]:
    """Liveness: the process answers (on the event loop: no threadpool hop)."""
    return {"status": "ok"}


@router.get("/ready", response_model=Ready)
async def ready(request: Request) -> Any:
    """Readiness: a model is loaded, the store takes writes, the disk has room (503 otherwise)."""
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return JSONResponse({"ready": False, "model_version": None}, status_code=503)
    found = await anyio.to_thread.run_sync(lambda: check_readiness(runtime))
    return JSONResponse(dataclasses.asdict(found), status_code=200 if found.ready else 503)


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus exposition."""
    return Response(generate_latest(runtime.instruments.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/stats", tags=["dashboard"], response_model=Stats)
def stats(runtime: RuntimeDep) -> dict[str, Any]:
    """Live counters and a 10-minute series for the dashboard."""
    return runtime.live.snapshot(runtime.service.model.version)


@router.get("/v1/offline", tags=["dashboard"], response_model=Offline)
def offline(runtime: RuntimeDep) -> dict[str, Any]:
    """The serving version's offline reports (P1 from training; P2 if evaluated)."""
    out: dict[str, Any] = {"model_version": runtime.service.model.version, "p1": None, "p2": None}
    saved = runtime.settings.home / "reports" / f"v{runtime.service.model.version}"
    for proto in ("p1", "p2"):
        for path in (saved / f"evaluation_{proto}.json", runtime.bundle_dir / f"evaluation_{proto}.json"):
            if path.exists():
                out[proto] = json.loads(path.read_text())
                break
    return out


@router.get("/v1/models/decisions", tags=["models"], response_model=Decisions)
def decisions(runtime: RuntimeDep) -> dict[str, Any]:
    """Retraining decisions (newest first), from the JSON reports of `recloop retrain`."""
    reports = sorted((runtime.settings.home / "reports").glob("retrain-*.json"), reverse=True)
    found = []
    for path in reports[:50]:
        body = json.loads(path.read_text())
        body.setdefault("created_at", path.stem.removeprefix("retrain-"))
        found.append(body)
    return {"decisions": found}


@router.get("/v1/models", tags=["models"], response_model=ModelList)
def models(runtime: RuntimeDep) -> dict[str, Any]:
    """Registry versions with their metrics."""
    from recloop.registry import registry_from_settings

    reg = registry_from_settings(runtime.settings)
    versions = sorted(reg.versions(), key=lambda v: -v.version)
    return {
        "champion": next((str(v.version) for v in versions if "champion" in v.aliases), None),
        "versions": [{"version": str(v.version), "aliases": list(v.aliases),
                      "created_at": v.created_at.isoformat(),
                      "metrics": {k: x for k, x in v.metrics.items() if k in _SHOWN_METRICS},
                      "tags": dict(v.tags)} for v in versions],
    }  # fmt: skip


@router.post("/v1/models/{version}/promote", tags=["models"], response_model=Promotion)
def promote(
    runtime: RuntimeDep, _admin: AdminKey, version: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> dict[str, Any]:
    """Point ``champion`` at VERSION (the serving process picks it up on its next poll)."""
    from recloop.registry import registry_from_settings

    res = registry_from_settings(runtime.settings).promote(version)
    return {"champion": str(res.champion), "previous": None if res.previous is None else str(res.previous)}


@router.post("/v1/models/rollback", tags=["models"], response_model=Promotion)
def rollback(runtime: RuntimeDep, _admin: AdminKey) -> dict[str, Any]:
    """Restore the previous champion."""
    from recloop.registry import registry_from_settings

    res = registry_from_settings(runtime.settings).rollback()
    return {"champion": str(res.champion), "previous": None if res.previous is None else str(res.previous)}

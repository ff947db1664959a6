"""``POST /v1/events``: one event or a batch, idempotent by event_id."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse

from recloop.api.deps import RuntimeDep
from recloop.api.routes.experiments import EngineDep
from recloop.api.schemas import EventResult, IngestResponse, Rejected
from recloop.errors import ValidationError
from recloop.experiments.serving import attribute_events

router = APIRouter(prefix="/v1", tags=["events"])
log = structlog.get_logger("recloop.events")

MAX_BATCH = 10_000


@router.post("/events", response_model=IngestResponse)
def post_events(
    runtime: RuntimeDep,
    engine: EngineDep,
    body: Any = Body(description="one event object, or {'events': [event, ...]}"),
) -> Any:
    """Store and apply events. Valid events in a batch are applied; invalid ones are listed."""
    if isinstance(body, dict) and "events" in body:
        raw = body["events"]
        if not isinstance(raw, list):
            raise ValidationError("events: must be a list of event objects")
    elif isinstance(body, dict):
        raw = [body]
    else:
        raise ValidationError('body: send one event object or {"events": [...]}')
    if len(raw) > MAX_BATCH:
        raise ValidationError(f"events: at most {MAX_BATCH} per request, got {len(raw)}")
    outcome = runtime.service.ingest(raw)
    attribute_events(engine, raw, outcome)  # only applied events count as outcomes
    m = runtime.instruments
    rejected = [Rejected(index=i, event_id=eid, error=err or "")
                for i, (eid, s, err) in enumerate(outcome.results) if s == "rejected"]  # fmt: skip
    m.rejected.inc(len(rejected))
    m.duplicates.inc(outcome.count("duplicate"))
    resp = IngestResponse(
        accepted=outcome.count("applied"), duplicates=outcome.count("duplicate"),
        rejected=rejected,
        results=[EventResult(event_id=eid, status=s) for eid, s, _ in outcome.results],
    )  # fmt: skip
    if rejected or resp.duplicates:
        log.info("events_not_applied", accepted=resp.accepted, duplicates=resp.duplicates,
                 rejected=len(rejected), first_error=rejected[0].error if rejected else None)  # fmt: skip
    status = 422 if raw and len(rejected) == len(raw) else 200
    return JSONResponse(resp.model_dump(), status_code=status)

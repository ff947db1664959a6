"""``POST /v1/events``: one event or a batch, idempotent by event_id."""

from __future__ import annotations

import time

import orjson
import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response

from recloop.api.schemas import IngestResponse
from recloop.errors import UnsupportedMediaError, ValidationError
from recloop.events.validation import EventIn
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.serving import attribute_events
from recloop.monitoring.experiments import count_outcomes
from recloop.serving.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["events"])
log = structlog.get_logger("recloop.events")

MAX_BATCH = 10_000


_EVENT_SCHEMA = EventIn.model_json_schema()
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [
            _EVENT_SCHEMA,
            {"type": "object", "required": ["events"], "properties": {"events": {
                "type": "array", "items": _EVENT_SCHEMA}}},
        ]}}},
    }
}  # fmt: skip


@router.post("/events", response_model=IngestResponse, openapi_extra=_BODY_DOC)
async def post_events(request: Request) -> Response:
    """Store and apply events. Valid events in a batch are applied; invalid ones are listed.

    ``async`` and reading the body itself (orjson, no dependency solving): the
    whole path (validation, one SQLite transaction or Redis round trip, the
    per-event fold-in) is short CPU-bound work, cheaper in the event loop.
    """
    t0 = time.perf_counter()
    runtime: Runtime = request.app.state.runtime
    engine: ExperimentEngine = request.app.state.experiments
    ctype = request.headers.get("content-type", "")
    if ctype.split(";")[0].strip().lower() != "application/json":
        raise UnsupportedMediaError(
            f"Content-Type {ctype or '(none)'}: send the events as application/json", "header.content-type"
        )
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise ValidationError(
            f"body: malformed JSON at character {exc.pos} ({exc.msg}); send a valid JSON document"
        ) from None
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
    m = runtime.instruments
    if outcome.applied:
        m.event_to_fresh.observe(time.perf_counter() - t0)
        m.last_event.set(time.time())
    count_outcomes(m, attribute_events(engine, outcome.applied))  # only applied events count
    rejected = [{"index": i, "event_id": eid, "error": err or ""}
                for i, (eid, s, err) in enumerate(outcome.results) if s == "rejected"]  # fmt: skip
    accepted, duplicates = outcome.count("applied"), outcome.count("duplicate")
    if rejected:
        m.rejected.inc(len(rejected))
    if duplicates:
        m.duplicates.inc(duplicates)
    if rejected or duplicates:
        log.info("events_not_applied", accepted=accepted, duplicates=duplicates,
                 rejected=len(rejected), first_error=rejected[0]["error"] if rejected else None)  # fmt: skip
    body_out = {"accepted": accepted, "duplicates": duplicates, "rejected": rejected,
                "results": [{"event_id": eid, "status": s} for eid, s, _ in outcome.results]}  # fmt: skip
    status = 422 if raw and len(rejected) == len(raw) else 200
    if status == 422:  # nothing applied: the error shape too, naming the first event's fault
        first = rejected[0]["error"]
        body_out |= {"error": {"code": "validation_error", "message": first, "field": "events.0"},
                     "detail": first}  # fmt: skip
    # the IngestResponse shape (response_model, for the OpenAPI schema) written with orjson
    return Response(orjson.dumps(body_out), status_code=status, media_type="application/json")

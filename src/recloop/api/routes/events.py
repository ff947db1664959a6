"""``POST /v1/events``: one event or a batch, idempotent by event_id."""

from __future__ import annotations

import time
from typing import Any

import anyio
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
from recloop.serving.bus import publish, wait_applied
from recloop.serving.recommender import IngestOutcome, Status
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

    An event id stored before with the same payload is a duplicate (200, nothing changes);
    with another payload a conflict (listed in ``conflicts`` naming the differing fields;
    409 when nothing of the request was applied).

    ``async`` and reading the body itself (orjson, no dependency solving): with the
    embedded store the whole path (validation, one SQLite transaction, the per-event
    fold-in) is short CPU-bound work, cheaper in the event loop; with Redis it runs in
    the threadpool (:meth:`Runtime.off_loop`), so a hung server never blocks the loop.
    """
    t0 = time.perf_counter()
    runtime: Runtime = request.app.state.runtime
    engine: ExperimentEngine = request.app.state.experiments
    raw = await _raw_events(request)
    outcome, extra = await _ingest(runtime, raw)
    m = runtime.instruments
    if outcome.applied and runtime.bus is None:  # through a bus, the consumer applies them
        m.event_to_fresh.observe(time.perf_counter() - t0)
        m.last_event.set(time.time())
    count_outcomes(m, attribute_events(engine, outcome.applied))  # only applied events count
    rejected = _listed(outcome, "rejected")
    conflicted = _listed(outcome, "conflict")
    accepted, duplicates = outcome.count("applied"), outcome.count("duplicate")
    if rejected:
        m.rejected.inc(len(rejected))
    if duplicates:
        m.duplicates.inc(duplicates)
    if rejected or duplicates or conflicted:
        log.info("events_not_applied", accepted=accepted, duplicates=duplicates, conflicts=len(conflicted),
                 rejected=len(rejected), first_error=rejected[0]["error"] if rejected else None)  # fmt: skip
    results = [{"event_id": eid, "status": s} for eid, s, _ in outcome.results]
    body_out = {"accepted": accepted + outcome.count("queued"), "duplicates": duplicates,
                "rejected": rejected, "conflicts": conflicted, "results": results, **extra}  # fmt: skip
    status = _status(len(raw), body_out["accepted"], rejected, conflicted)
    if status != 200:  # nothing applied: the error shape too, naming the first event's fault
        first, code = (conflicted[0], "conflict") if status == 409 else (rejected[0], "validation_error")
        body_out |= {"error": {"code": code, "message": first["error"], "field": f"events.{first['index']}"},
                     "detail": first["error"]}  # fmt: skip
    # the IngestResponse shape (response_model, for the OpenAPI schema) written with orjson
    return Response(orjson.dumps(body_out), status_code=status, media_type="application/json")


async def _raw_events(request: Request) -> list[Any]:
    """The raw event payloads of the body; 415 unless JSON, 422 for a malformed body."""
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
    return raw


def _listed(outcome: IngestOutcome, status: Status) -> list[dict[str, Any]]:
    return [{"index": i, "event_id": eid, "error": err or ""}
            for i, (eid, s, err) in enumerate(outcome.results) if s == status]  # fmt: skip


def _status(n: int, accepted: int, rejected: list[Any], conflicted: list[Any]) -> int:
    """200 when anything was taken (or all were duplicates); else 409 for a reused id, 422 if all invalid."""
    if accepted or not n:
        return 200
    if conflicted:
        return 409
    return 422 if len(rejected) == n else 200


async def _ingest(runtime: Runtime, raw: list[Any]) -> tuple[IngestOutcome, dict[str, Any]]:
    """Apply (direct) or publish to the bus, then wait for the consumer if configured."""
    if runtime.bus is None:
        return await runtime.off_loop(lambda: runtime.service.ingest(raw)), {}
    bus = runtime.bus
    outcome = await anyio.to_thread.run_sync(lambda: publish(runtime.service, bus, raw))
    ids = [e.event_id for e in outcome.applied]
    extra: dict[str, Any] = {"queued": True, "wait_token": ids[-1] if ids else None}
    wait_s = runtime.settings.events.wait_applied_ms / 1000.0
    if ids and wait_s > 0:
        done = await anyio.to_thread.run_sync(lambda: wait_applied(runtime.store, ids, wait_s))
        extra["applied"] = done
    return outcome, extra

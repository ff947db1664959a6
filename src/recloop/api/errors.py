"""One error shape for every failed request, mapped in one place, and described in the OpenAPI schema.

Every error answer is ``{"error": {"code", "message", "field"}, "detail": message}``:
``code`` is stable and machine-readable (``validation_error``, ``not_found``,
``storage_unavailable``, ...), ``message`` says what to fix, ``field`` names the input at fault
(``query.year_min``, ``body.events.0.timestamp``) or is null. ``detail`` repeats the message for
clients written against FastAPI's default shape.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from recloop.errors import RecloopError

__all__ = ["ErrorBody", "ErrorInfo", "error_response", "install_error_handling"]

log = structlog.get_logger("recloop.api")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               414: "uri_too_long", 415: "unsupported_media_type"}  # fmt: skip


class ErrorInfo(BaseModel):
    """What went wrong: a stable code, a message saying what to fix, the input field at fault."""

    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: ErrorInfo
    detail: str


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """A JSON error answer in the one shape."""
    body = ErrorBody(error=ErrorInfo(code=code, message=message, field=field), detail=message)
    return JSONResponse(body.model_dump(), status_code=status)


def _where(loc: Any) -> str:
    return ".".join(str(x) for x in loc)


def _explain(e: Any) -> str:
    """One request-validation error as ``where: what``; malformed JSON says where it broke."""
    if e.get("type") == "json_invalid":
        pos = e["loc"][-1] if len(e["loc"]) > 1 else "?"
        why = e.get("ctx", {}).get("error", "invalid JSON")
        return f"body: malformed JSON at character {pos} ({why}); send a valid JSON document"
    return f"{_where(e['loc'])}: {e['msg']}"


def install_error_handling(app: FastAPI) -> None:
    """Map every error to the one shape and make the OpenAPI schema say so."""

    @app.exception_handler(RecloopError)
    async def recloop_error(_: Request, exc: RecloopError) -> JSONResponse:
        return error_response(exc.status_code, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        field = _where(errors[0]["loc"]) if errors else None
        return error_response(422, "validation_error", "; ".join(_explain(e) for e in errors), field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no route {request.url.path}; the API is under /v1 (see /docs)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path} (see /docs)"
        return error_response(exc.status_code, code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path, error=repr(exc))
        return error_response(500, "internal_error",
                              "internal error; the server log has the traceback under this request id")

    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema with the 422 and every other error described as :class:`ErrorBody`."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorInfo, ErrorBody):
        components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            responses["422"] = {"description": "Invalid input: error.field names it", **ref}
            responses["4XX"] = {"description": "Client error (the message says what to fix)", **ref}
            responses["5XX"] = {"description": "Server or dependency error", **ref}
    app.openapi_schema = schema
    return schema

"""The FastAPI application: lifespan-built runtime, routers, one error handler."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from recloop import __version__
from recloop.api.routes import events, items, system, users
from recloop.config import Settings, get_settings
from recloop.errors import RecloopError
from recloop.serving.runtime import build_runtime

__all__ = ["create_app", "web_dist"]

log = structlog.get_logger("recloop.api")


def web_dist() -> Path | None:
    """The built dashboard (web/dist in a checkout), if it has been built."""
    here = Path(__file__).resolve()
    for root in (here.parents[3] / "web" / "dist", here.parents[1] / "web_dist"):
        if (root / "index.html").exists():
            return root
    return None


def _explain_error(e: Any) -> str:
    """One request-validation error as ``where: what``; malformed JSON says where it broke."""
    if e.get("type") == "json_invalid":
        pos = e["loc"][-1] if len(e["loc"]) > 1 else "?"
        why = e.get("ctx", {}).get("error", "invalid JSON")
        return f"body: malformed JSON at character {pos} ({why}); send a valid JSON document"
    return f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the runtime (data, store, champion) is loaded in the lifespan."""
    cfg = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build_runtime(cfg)
        app.state.runtime = runtime
        log.info("serving", model_version=runtime.service.model.version, state=cfg.state.type)
        try:
            yield
        finally:
            runtime.close()

    app = FastAPI(title="recloop", version=__version__, lifespan=lifespan,
                  description="Real-time recommendations with the whole MLOps loop.")  # fmt: skip

    @app.exception_handler(RecloopError)
    async def recloop_error(_: Request, exc: RecloopError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        msgs = [_explain_error(e) for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(msgs)}, status_code=422)

    @app.middleware("http")
    async def timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        t0 = time.perf_counter()
        response = await call_next(request)
        runtime = getattr(request.app.state, "runtime", None)
        route = request.scope.get("route")
        if runtime is not None and route is not None:
            runtime.instruments.request_latency.labels(
                request.method, getattr(route, "path", "?"), str(response.status_code)
            ).observe(time.perf_counter() - t0)
        return response

    for router in (system.router, events.router, users.router, items.router):
        app.include_router(router)
    dist = web_dist()
    if dist is not None:
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

        @app.get("/{path:path}", include_in_schema=False)
        def spa(path: str) -> FileResponse:
            target = dist / path
            if path and target.is_file() and dist in target.resolve().parents:
                return FileResponse(target)
            return FileResponse(dist / "index.html")

    return app

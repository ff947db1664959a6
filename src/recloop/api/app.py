"""The FastAPI application: lifespan-built runtime, routers, one error handler."""

from __future__ import annotations

import gc
import itertools
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from recloop import __version__
from recloop.api.errors import install_error_handling
from recloop.api.guards import PathLimit, install_cors
from recloop.api.routes import events, experiments, items, monitoring, system, users
from recloop.config import Settings, get_settings
from recloop.errors import NotFoundError
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.store import open_experiment_store
from recloop.experiments.supervisor import ExperimentSupervisor
from recloop.monitoring.monitor import DriftMonitor, RetrainWorker, drift_alert_writer
from recloop.monitoring.quality import ModelQualityCollector
from recloop.pipelines.triggers import RetrainTriggers, drift_gauge_probe, worker_loop
from recloop.serving.runtime import Runtime, build_runtime
from recloop.serving.swap import ModelWatcher, SwapEvent

__all__ = ["RequestTimer", "create_app", "web_dist"]

log = structlog.get_logger("recloop.api")


def web_dist() -> Path | None:
    """The built dashboard (web/dist in a checkout), if it has been built."""
    here = Path(__file__).resolve()
    for root in (here.parents[3] / "web" / "dist", here.parents[1] / "web_dist"):
        if (root / "index.html").exists():
            return root
    return None


class RequestTimer:
    """ASGI middleware: request id (``X-Request-ID``, bound into every log line) and
    request latency by method, route template and status (Prometheus).

    Plain ASGI rather than ``@app.middleware("http")``: Starlette's
    BaseHTTPMiddleware wraps every response in a stream and a task group,
    which cost more per request than some endpoints themselves.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.prefix = uuid.uuid4().hex[:12]  # ids: per-process prefix + counter, no syscall
        self.counter = itertools.count(1)
        self.children: dict[tuple[str, str, int], Any] = {}  # latency histogram per route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500
        given = dict(scope.get("headers") or []).get(b"x-request-id")
        request_id = given.decode("latin-1")[:128] if given else f"{self.prefix}-{next(self.counter):x}"
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode("latin-1"))]  # fmt: skip
            await send(message)

        runtime = getattr(scope["app"].state, "runtime", None)
        gauge = None if runtime is None else runtime.instruments.in_flight
        if gauge is not None:
            gauge.inc()
        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            if gauge is not None:
                gauge.dec()
        route = scope.get("route")
        if runtime is not None and route is not None:
            key = (scope["method"], getattr(route, "path", "?"), status)
            child = self.children.get(key)
            if child is None:  # labels() formats and looks up on every call: keep the children
                child = self.children[key] = runtime.instruments.request_latency.labels(*key[:2], str(status))
            child.observe(time.perf_counter() - t0)


def _sync_stats_loop(runtime: Runtime, every_s: float, stop: threading.Event) -> None:
    """Reload item stats from the shared store every ``every_s`` until ``stop``; errors are logged."""
    while not stop.wait(every_s):
        try:
            runtime.service.live.sync()
        except Exception as exc:  # Redis away for a moment: keep serving the last stats
            log.error("item stats sync failed", error=repr(exc))


def _background_workers(cfg: Settings, runtime: Runtime, stop: threading.Event) -> None:
    """The in-server retrain worker (if configured) and, on Redis, the item-stats sync."""
    if cfg.retrain_in_server:
        triggers = RetrainTriggers(cfg.retrain_interval_s, cfg.retrain_min_events)
        threading.Thread(
            target=worker_loop, name="retrain-worker", daemon=True, args=(cfg, stop),
            kwargs={"triggers": triggers, "store": runtime.store, "dataset": runtime.dataset,
                    "instruments": runtime.instruments,
                    "drift_probe": drift_gauge_probe(runtime.instruments)},
        ).start()  # fmt: skip
    if cfg.state.type == "redis":  # other workers' events reach popularity and trending
        threading.Thread(target=_sync_stats_loop, name="stats-sync", daemon=True,
                         args=(runtime, cfg.stats_sync_s, stop)).start()  # fmt: skip


def _register_model_quality(cfg: Settings, runtime: Runtime) -> None:
    """``recloop_model_quality``: the served version's registry metrics, read at scrape time."""

    def lookup(version: str) -> dict[str, float]:
        from recloop.registry import registry_from_settings

        info = registry_from_settings(cfg).get(int(version))
        return {k: float(v) for k, v in info.metrics.items() if isinstance(v, int | float)}

    runtime.instruments.registry.register(
        ModelQualityCollector(lambda: runtime.service.model.version, lookup)
    )


def _experiments(cfg: Settings) -> tuple[ExperimentEngine, ExperimentSupervisor]:
    """The experiment engine on the configured store, and its started supervisor."""

    def registry_loader() -> Any:  # lazy: MLflow is slow to import
        from recloop.registry import registry_from_settings

        return registry_from_settings(cfg)

    engine = ExperimentEngine(open_experiment_store(cfg.state, cfg.home), registry_loader)
    supervisor = ExperimentSupervisor(engine, cfg.experiment_look_s)
    supervisor.start()
    return engine, supervisor


def _mount_ui(app: FastAPI) -> None:
    """The built dashboard at ``/`` (SPA fallback outside /v1), or a page saying how to build it."""
    dist = web_dist()
    if dist is None:

        @app.get("/", include_in_schema=False)
        def no_ui() -> HTMLResponse:
            return HTMLResponse(
                "<h1>recloop</h1><p>The API is running (see <a href='/docs'>/docs</a>). The dashboard "
                "is not built: run <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> in "
                "the checkout, then restart <code>recloop serve</code>.</p>", status_code=200)

        return
    app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        if path == "v1" or path.startswith("v1/"):  # an API path that matched no route
            raise NotFoundError(f"no route /{path}; see /docs for the API")
        target = dist / path
        if path and target.is_file() and dist in target.resolve().parents:
            return FileResponse(target)
        return FileResponse(dist / "index.html")


def _install_middleware(app: FastAPI, cfg: Settings) -> None:
    """The error shape, then (outermost last) the path guard, CORS and the request timer."""
    install_error_handling(app)
    app.add_middleware(PathLimit)
    install_cors(app, cfg.cors_origins)  # outside PathLimit: its answers carry CORS headers too
    app.add_middleware(RequestTimer)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """Build the app; the runtime (data, store, champion) is loaded in the lifespan.

    ``runtime``: one built already (``recloop serve`` builds it before uvicorn starts,
    so start-up errors are one line); the lifespan then uses it and closes it at the end.
    """
    cfg = settings or get_settings()
    prebuilt = runtime

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = prebuilt if prebuilt is not None else build_runtime(cfg)
        app.state.runtime = runtime
        engine, supervisor = _experiments(cfg)
        app.state.experiments, app.state.experiment_supervisor = engine, supervisor

        def swapped(event: SwapEvent) -> None:
            runtime.bundle, runtime.bundle_dir = event.bundle, event.path
            runtime.instruments.model_info.info({"version": event.version})
            app.state.monitor.rebuild_reference()  # output drift against the new model's lists

        watcher = ModelWatcher(runtime.service, cfg, runtime.dataset, cfg.swap_poll_s, swapped)
        watcher.start()
        app.state.watcher = watcher
        stop_worker = threading.Event()
        _background_workers(cfg, runtime, stop_worker)
        _register_model_quality(cfg, runtime)
        monitor = DriftMonitor(runtime.service, runtime.live, on_alert=drift_alert_writer(cfg.home),
                               window_s=cfg.drift_window_s,
                               worker=RetrainWorker.describe(cfg.retrain_in_server, cfg.home))  # fmt: skip
        monitor.start(cfg.drift_interval_s)
        app.state.monitor = monitor
        # everything loaded so far lives as long as the process: keep the cyclic GC off it,
        # so collections stay short (they otherwise scan the whole heap: latency spikes)
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)  # requests allocate many short-lived objects
        log.info("serving", model_version=runtime.service.model.version, state=cfg.state.type)
        try:
            yield
        finally:
            stop_worker.set()
            watcher.stop()
            supervisor.stop()
            monitor.stop()
            engine.store.close()
            runtime.close()

    app = FastAPI(title="recloop", version=__version__, lifespan=lifespan,
                  description="Real-time recommendations with the whole MLOps loop.")  # fmt: skip

    _install_middleware(app, cfg)

    for router in (system.router, events.router, users.router, items.router, monitoring.router,
                   experiments.router):  # fmt: skip
        app.include_router(router)
    _mount_ui(app)
    return app

"""``recloop serve``: the API (and the dashboard) under uvicorn.

Start-up order, cheapest check first, so a mistake costs seconds and one line:
settings and the admin key; the port (bound at once and held, so nothing can
take it while the model loads); then the runtime (data, the champion's
bundle directory, the state store opened with its durability checked, the
model loaded last). With one worker the runtime is built here, in the
command, so any :class:`~recloop.errors.RecloopError` ends as one line and an
exit code, and uvicorn serves the built app on the held socket.
"""

from __future__ import annotations

import errno
import os
import socket
import time
from enum import StrEnum
from typing import Annotated, Any

import typer

from recloop.cli.output import DataOption, fail, guarded, say, use_data_dir

__all__ = ["Loop", "bind_port", "serve"]


class Loop(StrEnum):
    """The event loop under uvicorn."""

    asyncio = "asyncio"
    uvloop = "uvloop"


_LOOP_HELP = (
    "event loop: asyncio (default) serves requests in arrival order; uvloop has the faster I/O "
    "but, on a busy single worker, answers about one request in eight a whole queue later "
    "(recommendation p99 about 2x its p50; benchmarks/results/serving.json measures both)"
)
_INSECURE_HELP = (
    "start without RECLOOP_ADMIN_API_KEY (local demos only: admin actions are then refused); "
    "same as RECLOOP_INSECURE_DEV=true"
)


def bind_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening); one-line exit if it is taken.

    The protocol is given as ``IPPROTO_TCP``, not left 0: asyncio turns Nagle's algorithm off
    (TCP_NODELAY) only on connections whose socket says TCP, and with Nagle on, a response
    written in two parts waits for the client's delayed ACK, 40 ms per request on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            fail(f"port {port} on {host} is already in use (another recloop serve?): stop the process "
                 f"listening there (ss -ltnp 'sport = :{port}') or pass --port", 69)  # fmt: skip
        fail(f"cannot listen on {host}:{port} ({exc.strerror}); pass another --host or --port", 69)
    sock.set_inheritable(True)
    return sock


def _serve_one(settings: Any, sock: socket.socket, url: str, loop: Loop, t0: float) -> None:
    """Build the runtime here, then run uvicorn on the held socket."""
    import uvicorn

    from recloop.api.app import create_app
    from recloop.monitoring.logs import configure_logging
    from recloop.serving.runtime import build_runtime

    configure_logging(json=True)
    runtime = guarded(lambda: build_runtime(settings))
    n_events = runtime.store.event_count()
    version = runtime.service.model.version

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                say(f"ready: model v{version} at {url} after {time.perf_counter() - t0:.1f} s "
                    f"(state: {settings.state.type}, {n_events:,} live events)")  # fmt: skip

    config = uvicorn.Config(create_app(settings, runtime=runtime), loop=loop.value, http="httptools",
                            log_level="warning", access_log=False)  # fmt: skip
    server = Server(config)
    server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(3)  # the lifespan failed after the runtime was built; uvicorn logged why


def _preflight_many(settings: Any) -> None:
    """Several workers build their own runtimes: check the champion and the state store first."""
    from recloop.data import load_dataset
    from recloop.features.store import open_serving_store
    from recloop.serving.runtime import bundle_half_life, champion_dir

    dataset = guarded(lambda: load_dataset(settings))
    _, path = guarded(lambda: champion_dir(settings))
    store = guarded(lambda: open_serving_store(settings.state, dataset.n_items, settings.home,
                                               bundle_half_life(path)))  # fmt: skip
    store.close()


def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    loop: Annotated[Loop, typer.Option(help=_LOOP_HELP)] = Loop.asyncio,
    insecure_dev: Annotated[bool, typer.Option("--insecure-dev", help=_INSECURE_HELP)] = False,
    data_dir: DataOption = None,
) -> None:
    """Serve recommendations, events and the dashboard from the registry's champion.

    Needs RECLOOP_ADMIN_API_KEY (or RECLOOP_ADMIN_API_KEY_FILE), or --insecure-dev.
    """
    from recloop import __version__
    from recloop.config import get_settings

    t0 = time.perf_counter()
    use_data_dir(data_dir)
    settings = guarded(get_settings)
    if insecure_dev:
        settings = settings.model_copy(update={"insecure_dev": True})
        os.environ["RECLOOP_INSECURE_DEV"] = "true"  # for uvicorn's worker processes
    guarded(settings.check_admin_key)
    if workers > 1 and settings.state.type == "memory":
        fail("--workers > 1 needs shared state: set RECLOOP_STATE__TYPE=redis "
             "(the embedded store lives in one process)", 78)  # fmt: skip
    sock = bind_port(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    say(f"recloop {__version__} starting on {url} (dashboard {url}/, API docs {url}/docs)")
    say(f"admin key: {settings.admin_key_source()}")
    if workers == 1:
        _serve_one(settings, sock, url, loop, t0)
        return
    import uvicorn

    sock.close()  # uvicorn binds before it forks the workers
    _preflight_many(settings)
    uvicorn.run("recloop.api.asgi:app", host=host, port=port, workers=workers, loop=loop.value,
                http="httptools", log_level="warning", access_log=False)  # fmt: skip

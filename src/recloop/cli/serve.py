"""``recloop serve``: the API (and the dashboard) under uvicorn."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from recloop.cli.output import fail, guarded

__all__ = ["Loop", "serve"]


class Loop(StrEnum):
    """The event loop under uvicorn."""

    asyncio = "asyncio"
    uvloop = "uvloop"


_LOOP_HELP = (
    "event loop: asyncio (default) serves requests in arrival order; uvloop has the faster I/O "
    "but, on a busy single worker, answers about one request in eight a whole queue later "
    "(recommendation p99 about 2x its p50; benchmarks/results/serving.json measures both)"
)


def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
    loop: Annotated[Loop, typer.Option(help=_LOOP_HELP)] = Loop.asyncio,
) -> None:
    """Serve recommendations, events and the dashboard from the registry's champion."""
    import uvicorn

    from recloop.config import get_settings
    from recloop.errors import RecloopError

    settings = guarded(get_settings)
    try:  # a clear message before uvicorn starts; the lifespan loads the model itself
        from recloop.registry import registry_from_settings

        registry_from_settings(settings).get("champion")
    except RecloopError as exc:
        fail(exc.message)
    if workers > 1 and settings.state.type == "memory":
        fail("--workers > 1 needs shared state: set RECLOOP_STATE__TYPE=redis "
             "(the embedded store lives in one process)")  # fmt: skip
    uvicorn.run("recloop.api.asgi:app", host=host, port=port, workers=workers, loop=loop.value,
                http="httptools", log_level="warning", access_log=False)  # fmt: skip

"""FastAPI dependencies: the runtime built in the lifespan, and the admin key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from recloop.errors import PermissionDeniedError
from recloop.serving.runtime import Runtime

__all__ = ["AdminKey", "RuntimeDep", "get_runtime", "require_admin"]


async def get_runtime(request: Request) -> Runtime:
    """The runtime stored on the app state by the lifespan.

    ``async`` because it never blocks: FastAPI runs a plain ``def`` dependency in
    the threadpool, a thread hop per request for an attribute read.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def require_admin(runtime: RuntimeDep, x_admin_key: Annotated[str | None, Header()] = None) -> None:
    """403 unless ``X-Admin-Key`` matches RECLOOP_ADMIN_API_KEY."""
    if x_admin_key is None or not secrets.compare_digest(x_admin_key, runtime.settings.admin_api_key):
        raise PermissionDeniedError(
            "admin action: send header X-Admin-Key with the value of RECLOOP_ADMIN_API_KEY"
        )


AdminKey = Annotated[None, Depends(require_admin)]

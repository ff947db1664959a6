"""FastAPI dependencies: the runtime built in the lifespan, and the admin key."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, Request

from recloop.config import DEFAULT_ADMIN_KEY
from recloop.errors import PermissionDeniedError
from recloop.serving.runtime import Runtime

__all__ = ["AdminKey", "RuntimeDep", "admin_key_matches", "get_runtime", "require_admin"]


async def get_runtime(request: Request) -> Runtime:
    """The runtime stored on the app state by the lifespan.

    ``async`` because it never blocks: FastAPI runs a plain ``def`` dependency in
    the threadpool, a thread hop per request for an attribute read.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def admin_key_matches(given: str | None, expected: str | None) -> bool:
    """Whether ``given`` authorises against the configured key, in constant time.

    Never with no configured key or the old ``change-me`` placeholder (a server started
    with RECLOOP_INSECURE_DEV=true has no admin), never for an empty or missing header.
    Both sides are compared as UTF-8 bytes (``compare_digest`` refuses non-ASCII str).
    """
    if not given or not expected or expected == DEFAULT_ADMIN_KEY:
        return False
    return secrets.compare_digest(given.encode(), expected.encode())


async def require_admin(runtime: RuntimeDep, x_admin_key: Annotated[str | None, Header()] = None) -> None:
    """403 unless ``X-Admin-Key`` matches RECLOOP_ADMIN_API_KEY (see :func:`admin_key_matches`)."""
    expected = runtime.settings.admin_api_key
    if not admin_key_matches(x_admin_key, expected):
        if expected is None or expected == DEFAULT_ADMIN_KEY:
            raise PermissionDeniedError(
                "admin actions are disabled: the server runs without RECLOOP_ADMIN_API_KEY "
                "(insecure dev mode); restart it with RECLOOP_ADMIN_API_KEY set to a random value"
            )
        raise PermissionDeniedError(
            "admin action: send header X-Admin-Key with the value of RECLOOP_ADMIN_API_KEY"
        )


AdminKey = Annotated[None, Depends(require_admin)]

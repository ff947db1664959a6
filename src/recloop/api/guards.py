"""Request guards in front of the routes: path lengths, and CORS only where configured.

* A path segment longer than :data:`MAX_SEGMENT` characters is answered 414 in the one error
  shape before any route sees it (such a segment is no valid id, and as a file name it would
  make the file system fail: ENAMETOOLONG).
* CORS is closed by default: without ``RECLOOP_CORS_ORIGINS`` no response carries an
  ``Access-Control-Allow-Origin`` header, so a browser lets no other site read the API or send
  it a JSON body (``POST /v1/events`` takes only ``application/json``, which needs a preflight).
  With origins configured, exactly those get GET/POST with the headers the API reads.
"""

from __future__ import annotations

from urllib.parse import unquote

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from recloop.api.errors import error_response

__all__ = ["MAX_SEGMENT", "PathLimit", "install_cors"]

MAX_SEGMENT = 255


class PathLimit:
    """ASGI middleware: 414 for a path segment over :data:`MAX_SEGMENT` characters."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = unquote(scope.get("raw_path", b"").decode("latin-1")) or scope["path"]
            longest = max((len(s) for s in path.split("/")), default=0)
            if longest > MAX_SEGMENT:
                response = error_response(414, "uri_too_long", f"a path segment has {longest} characters; "
                                          f"ids and names are at most {MAX_SEGMENT}", "path")  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Allow exactly ``origins`` (nothing when empty: no CORS middleware at all)."""
    if not origins:
        return
    headers = ["Content-Type", "X-Admin-Key", "X-Request-ID"]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                       allow_headers=headers, max_age=600)  # fmt: skip

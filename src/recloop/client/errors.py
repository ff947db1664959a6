"""What a failed call to the HTTP API raises: the server's error, or no server at all."""

from __future__ import annotations

from typing import Any

import httpx

from recloop.errors import DependencyUnavailableError, RecloopError

__all__ = ["ApiError", "ServerUnreachableError", "api_error"]


class ApiError(RecloopError):
    """A 4xx/5xx answer: its HTTP ``status``, the server's ``code``, ``message`` and ``field``.

    The message reads ``METHOD /path: STATUS message``, plus what to do for a 403.
    """

    def __init__(self, method: str, path: str, status: int, code: str, message: str,
                 field: str | None = None) -> None:  # fmt: skip
        hint = " (pass --admin-key or set RECLOOP_ADMIN_API_KEY)" if status == 403 else ""
        super().__init__(f"{method} {path}: {status} {message}{hint}", field)
        self.status_code = status
        self.code = code
        self.method, self.path, self.status, self.server_message = method, path, status, message


class ServerUnreachableError(DependencyUnavailableError):
    """No answer from the server (refused, timed out, DNS): the message names the URL to start."""

    def __init__(self, url: str, cause: Exception) -> None:
        super().__init__(f"cannot reach the recloop server at {url} ({cause}); "
                         f"is `recloop serve` running at {url}? (start it, or pass --url)")  # fmt: skip
        self.url = url


def api_error(r: httpx.Response) -> ApiError:
    """The :class:`ApiError` of a failed answer, from the server's ``{error: {code, message, field}}``
    shape (or, from anything else in front of it, the ``detail`` or the text)."""
    code, message, field = "http_error", r.text.strip()[:300] or r.reason_phrase, None
    try:
        body: Any = r.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        info = body.get("error")
        if isinstance(info, dict) and isinstance(info.get("message"), str):
            code, message = str(info.get("code") or code), info["message"]
            field = info.get("field") if isinstance(info.get("field"), str) else None
        elif isinstance(body.get("detail"), str):
            message = body["detail"]
    return ApiError(r.request.method, r.request.url.path, r.status_code, code, message, field)

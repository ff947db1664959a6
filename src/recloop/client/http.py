"""The typed client of the recloop HTTP API (docs/API.md), over one keep-alive httpx client."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from recloop.client.errors import ServerUnreachableError, api_error
from recloop.client.models import (
    ExperimentList,
    ExperimentOut,
    Health,
    IngestResponse,
    ModelList,
    Promotion,
    Ready,
    Recommendations,
    UserDetail,
    UserList,
)

__all__ = ["DEFAULT_URL", "RecloopClient"]

DEFAULT_URL = "http://127.0.0.1:8000"
M = TypeVar("M", bound=BaseModel)


class RecloopClient:
    """Every call the CLI, the simulator and the HTTP replay make, with typed results.

    ``url``: a running ``recloop serve``; ``admin_key``: sent as ``X-Admin-Key`` on admin calls
    (promote, rollback, experiments create/stop); ``http``: an httpx client to use instead of a
    new one (tests pass FastAPI's ``TestClient``, which drives the app in process; its base URL
    is then the one used). A 4xx/5xx raises :class:`~recloop.client.errors.ApiError`, no answer
    :class:`~recloop.client.errors.ServerUnreachableError`.
    """

    def __init__(self, url: str = DEFAULT_URL, *, admin_key: str | None = None, timeout: float = 30.0,
                 http: httpx.Client | None = None) -> None:  # fmt: skip
        """Open the connection pool (nothing is sent until the first call)."""
        self.url = url.rstrip("/")
        self.admin_key = admin_key
        self._owned = http is None
        self._http = http if http is not None else httpx.Client(base_url=self.url, timeout=timeout)

    def __enter__(self) -> RecloopClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        """Close the connection pool (not an injected ``http`` client: its owner closes it)."""
        if self._owned:
            self._http.close()

    def request(self, method: str, path: str, *, admin: bool = False, ok: Sequence[int] = (),
                **kwargs: Any) -> httpx.Response:  # fmt: skip
        """One request; raises for a 4xx/5xx unless its status is in ``ok``."""
        headers = {"X-Admin-Key": self.admin_key} if admin and self.admin_key else {}
        try:
            r = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachableError(self.url, exc) from exc
        if r.status_code >= 400 and r.status_code not in ok:
            raise api_error(r)
        return r

    def _get(self, model: type[M], path: str, **kwargs: Any) -> M:
        return model.model_validate_json(self.request("GET", path, **kwargs).content)

    def _post(self, model: type[M], path: str, *, admin: bool = False, body: Any = None) -> M:
        return model.model_validate_json(self.request("POST", path, admin=admin, json=body).content)

    def health(self) -> Health:
        """``GET /health``: the process answers."""
        return self._get(Health, "/health")

    def ready(self) -> Ready:
        """``GET /ready``: whether a model is loaded (a 503 is ``ready=False``, not an error)."""
        return Ready.model_validate_json(self.request("GET", "/ready", ok=(503,)).content)

    def post_events(self, events: Sequence[Mapping[str, Any]]) -> IngestResponse:
        """``POST /v1/events`` with a batch; a batch with no valid event raises (422)."""
        return self._post(IngestResponse, "/v1/events", body={"events": list(events)})

    def recommendations(
        self, user_id: str, k: int = 10, *, genres: Sequence[str] = (), exclude_genres: Sequence[str] = (),
        year_min: int | None = None, year_max: int | None = None, exclude_seen: bool = True,
        wait_for: str | None = None,
    ) -> Recommendations:  # fmt: skip
        """``GET /v1/users/{id}/recommendations``: the user's top ``k`` under the filters."""
        params: dict[str, Any] = {"k": k, "exclude_seen": exclude_seen}
        optional = {"genres": ",".join(genres), "exclude_genres": ",".join(exclude_genres),
                    "year_min": year_min, "year_max": year_max, "wait_for": wait_for}  # fmt: skip
        params |= {name: v for name, v in optional.items() if v not in (None, "")}
        return self._get(Recommendations, f"/v1/users/{_seg(user_id)}/recommendations", params=params)

    def user(self, user_id: str) -> UserDetail:
        """``GET /v1/users/{id}``: history (latest first, at most 200), counts, demographics."""
        return self._get(UserDetail, f"/v1/users/{_seg(user_id)}")

    def users(self, limit: int = 50) -> UserList:
        """``GET /v1/users``: the most active users."""
        return self._get(UserList, "/v1/users", params={"limit": limit})

    def models(self) -> ModelList:
        """``GET /v1/models``: registry versions, newest first, and the champion."""
        return self._get(ModelList, "/v1/models")

    def promote(self, version: int) -> Promotion:
        """``POST /v1/models/{version}/promote`` (admin)."""
        return self._post(Promotion, f"/v1/models/{int(version)}/promote", admin=True)

    def rollback(self) -> Promotion:
        """``POST /v1/models/rollback`` (admin): the previous champion back."""
        return self._post(Promotion, "/v1/models/rollback", admin=True)

    def experiments(self) -> ExperimentList:
        """``GET /v1/experiments``, newest first."""
        return self._get(ExperimentList, "/v1/experiments")

    def create_experiment(self, spec: Mapping[str, Any]) -> ExperimentOut:
        """``POST /v1/experiments`` (admin) with an ``ExperimentSpec`` body."""
        return self._post(ExperimentOut, "/v1/experiments", admin=True, body=dict(spec))

    def stop_experiment(self, experiment_id: str) -> ExperimentOut:
        """``POST /v1/experiments/{id}/stop`` (admin)."""
        return self._post(ExperimentOut, f"/v1/experiments/{_seg(experiment_id)}/stop", admin=True)

    def experiment_results(self, experiment_id: str) -> dict[str, Any]:
        """``GET /v1/experiments/{id}/results``: the ``Results`` object (JSON, as
        :class:`recloop.experiments.models.Results` dumps it)."""
        body: dict[str, Any] = self.request("GET", f"/v1/experiments/{_seg(experiment_id)}/results").json()
        return body


def _seg(value: str) -> str:
    """``value`` as one URL path segment (a ``/`` or ``?`` in a user id stays inside it)."""
    return quote(value, safe="")

"""The API client against the real app in process, without a model (fast lane): the server's
error shape becomes one ApiError, no server at all a ServerUnreachableError, admin calls carry
the key."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from recloop.api.app import create_app
from recloop.client import ApiError, RecloopClient, ServerUnreachableError
from recloop.config import Settings
from recloop.errors import DependencyUnavailableError


@pytest.fixture()
def api(tmp_path: Path) -> Iterator[RecloopClient]:
    """A client of the app object (no lifespan: no runtime, so /ready says 503)."""
    raw = TestClient(create_app(Settings(home=tmp_path)))  # not entered: the lifespan does not run
    yield RecloopClient("http://testserver", http=raw)
    raw.close()


def test_health_and_not_ready_without_a_model(api: RecloopClient) -> None:
    assert api.health().status == "ok"
    ready = api.ready()
    assert ready.ready is False and ready.model_version is None


def test_a_validation_error_carries_status_code_message_and_field(api: RecloopClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.recommendations("u1", k=0)
    err = caught.value
    assert (err.status, err.code, err.field) == (422, "validation_error", "query.k")
    assert "greater than or equal to 1" in err.server_message
    assert err.message.startswith("GET /v1/users/u1/recommendations: 422 ")


def test_an_unknown_route_is_a_not_found_api_error(api: RecloopClient) -> None:
    with pytest.raises(ApiError) as caught:
        api.request("GET", "/v1/nowhere")
    assert (caught.value.status, caught.value.code, caught.value.status_code) == (404, "not_found", 404)


def test_no_server_says_which_url_to_start() -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with RecloopClient(url, timeout=2.0) as api, pytest.raises(ServerUnreachableError) as caught:
        api.health()
    assert isinstance(caught.value, DependencyUnavailableError)
    assert f"is `recloop serve` running at {url}?" in caught.value.message


def test_admin_calls_send_the_key_and_a_403_says_how_to_pass_it() -> None:
    seen: list[tuple[str, str, str | None]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.raw_path.decode(), request.headers.get("x-admin-key")))
        if request.url.path.endswith("/stop"):
            body = {"error": {"code": "permission_denied", "message": "send X-Admin-Key", "field": None},
                    "detail": "send X-Admin-Key"}  # fmt: skip
            return httpx.Response(403, json=body)
        return httpx.Response(200, json={"champion": "2", "previous": "1"})

    http = httpx.Client(base_url="http://x", transport=httpx.MockTransport(answer))
    api = RecloopClient("http://x", admin_key="k3y", http=http)
    assert api.promote(2).champion == "2"
    assert api.rollback().previous == "1"
    with pytest.raises(ApiError) as caught:
        api.stop_experiment("a/b")
    assert caught.value.code == "permission_denied" and "--admin-key" in caught.value.message
    assert seen == [("POST", "/v1/models/2/promote", "k3y"), ("POST", "/v1/models/rollback", "k3y"),
                    ("POST", "/v1/experiments/a%2Fb/stop", "k3y")]  # fmt: skip


def test_the_experiments_command_without_a_server_names_the_url_and_exits_69() -> None:
    from typer.testing import CliRunner

    from recloop.cli import app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    got = CliRunner().invoke(app, ["experiments", "list", "--url", url])
    assert got.exit_code == 69, got.output
    assert f"is `recloop serve` running at {url}?" in " ".join(got.output.split())

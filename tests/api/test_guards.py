"""Long path segments, CORS closed by default and open only to configured origins (app object,
no lifespan: these answers never reach a route)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from recloop.api.app import create_app
from recloop.config import Settings


def _client(tmp_path: Path, **settings: object) -> TestClient:
    return TestClient(create_app(Settings(home=tmp_path, **settings)))  # type: ignore[arg-type]


def _preflight(origin: str) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"}  # fmt: skip


@pytest.mark.parametrize("path", ["/v1/users/{x}/recommendations", "/v1/users/{x}", "/{x}", "/assets/{x}.js",
                                  "/v1/items/{x}/similar"])  # fmt: skip
def test_a_path_segment_over_255_characters_is_a_414(tmp_path: Path, path: str) -> None:
    r = _client(tmp_path).get(path.format(x="u" * 300))
    assert r.status_code == 414, r.text
    body = r.json()
    longest = max(len(seg) for seg in path.format(x="u" * 300).split("/"))
    assert body["error"]["code"] == "uri_too_long" and f"{longest} characters" in body["detail"]
    ok = _client(tmp_path).get("/health")
    assert ok.status_code == 200


def test_percent_encoded_long_segments_count_decoded(tmp_path: Path) -> None:
    assert _client(tmp_path).get("/v1/users/" + "%41" * 256).status_code == 414
    assert _client(tmp_path).get("/v1/nope/" + "%41" * 255).status_code == 404  # at the limit: routed


def test_cors_is_closed_by_default(tmp_path: Path) -> None:
    c = _client(tmp_path)
    r = c.get("/health", headers={"Origin": "https://evil.example"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    pre = c.options("/v1/events", headers=_preflight("https://evil.example"))
    assert "access-control-allow-origin" not in pre.headers


def test_cors_allows_exactly_the_configured_origins(tmp_path: Path) -> None:
    c = _client(tmp_path, cors_origins=["https://dash.example.com"])
    ok = c.options("/v1/events", headers=_preflight("https://dash.example.com"))
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://dash.example.com"
    got = c.get("/health", headers={"Origin": "https://dash.example.com"})
    assert got.headers["access-control-allow-origin"] == "https://dash.example.com"
    other = c.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_cors_origins_setting_parses_and_refuses_wildcards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECLOOP_CORS_ORIGINS", "https://a.example, http://localhost:5173/")
    assert Settings().cors_origins == ["https://a.example", "http://localhost:5173"]
    monkeypatch.setenv("RECLOOP_CORS_ORIGINS", "*")
    with pytest.raises(ValueError, match="not an origin"):
        Settings()

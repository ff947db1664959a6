"""One error shape, hostile input and the OpenAPI schema that describes them (against the real app)."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient


def _error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"]["code"] == code and body["error"]["message"] == body["detail"]
    assert body["detail"]  # says what to fix
    err: dict[str, Any] = body["error"]
    return err


def test_unknown_api_path_is_a_json_404(client: TestClient) -> None:
    err = _error(client.get("/v1/nope"), 404, "not_found")
    assert "/v1/nope" in err["message"]


def test_wrong_method_is_a_json_405(client: TestClient) -> None:
    _error(client.delete("/v1/stats"), 405, "method_not_allowed")


@pytest.mark.parametrize("value", [str(10**400), "-5", "abc", "1e999"])
def test_absurd_year_filter_is_a_422_naming_the_field(client: TestClient, value: str) -> None:
    err = _error(client.get(f"/v1/users/1/recommendations?year_min={value}"), 422, "validation_error")
    assert err["field"] == "query.year_min"


@pytest.mark.parametrize("timestamp", ["NaN", True, 1e-300, -1.0, "1700000000", 4e12])
def test_implausible_timestamps_are_rejected_and_valid_ones_in_the_batch_applied(
    client: TestClient, timestamp: Any
) -> None:
    user = f"hostile-{uuid.uuid4().hex[:8]}"
    bad = {"event_id": f"bad-{uuid.uuid4().hex}", "user_id": user, "item_id": 1, "type": "click",
           "timestamp": timestamp}  # fmt: skip
    good = {"event_id": f"good-{uuid.uuid4().hex}", "user_id": user, "item_id": 2, "type": "click"}
    r = client.post("/v1/events", json={"events": [bad, good]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["accepted"] == 1 and [x["index"] for x in body["rejected"]] == [0]
    assert "timestamp" in body["rejected"][0]["error"]
    alone = client.post("/v1/events", json=bad)
    err = _error(alone, 422, "validation_error")
    assert "timestamp" in err["message"]
    history = client.get(f"/v1/users/{user}").json()["history"]
    assert [h["item_id"] for h in history] == [2]
    assert all(isinstance(h["timestamp"], float) and math.isfinite(h["timestamp"]) for h in history)


def test_non_finite_rating_is_rejected(client: TestClient) -> None:
    ev = {"event_id": f"r-{uuid.uuid4().hex}", "user_id": "u-nan", "item_id": 1, "type": "rate",
          "value": "NaN"}
    _error(client.post("/v1/events", json=ev), 422, "validation_error")


def test_events_need_a_json_content_type(client: TestClient) -> None:
    ev = '{"event_id": "x-csrf", "user_id": "u", "item_id": 1, "type": "like"}'
    err = _error(client.post("/v1/events", content=ev, headers={"Content-Type": "text/plain"}), 415,
                 "unsupported_media_type")  # fmt: skip
    assert err["field"] == "header.content-type"


def test_openapi_describes_the_error_shape_on_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for status in ("422", "4XX", "5XX"):
                ref = op["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), (path, method, status)


def test_same_event_id_with_another_payload_is_a_409_naming_the_fields(client: TestClient) -> None:
    user = f"idem-{uuid.uuid4().hex[:8]}"
    ev = {"event_id": f"i-{uuid.uuid4().hex}", "user_id": user, "item_id": 1, "type": "rate", "value": 4}
    assert client.post("/v1/events", json=ev).json()["accepted"] == 1
    again = client.post("/v1/events", json=ev)  # a retry (no timestamp: the server stamps each copy)
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    assert again.json()["results"] == [{"event_id": ev["event_id"], "status": "duplicate"}]
    err = _error(client.post("/v1/events", json={**ev, "item_id": 2, "value": 5}), 409, "conflict")
    assert "item_id: stored 1, sent 2" in err["message"] and "value: stored 4.0, sent 5.0" in err["message"]
    assert err["field"] == "events.0"
    fresh = {**ev, "event_id": f"i-{uuid.uuid4().hex}"}
    mixed = client.post("/v1/events", json={"events": [{**ev, "type": "like", "value": None}, fresh]})
    assert mixed.status_code == 200, mixed.text
    body = mixed.json()
    assert body["accepted"] == 1 and [c["index"] for c in body["conflicts"]] == [0]
    assert "type: stored 'rate', sent 'like'" in body["conflicts"][0]["error"]
    assert [r["status"] for r in body["results"]] == ["conflict", "applied"]
    history = client.get(f"/v1/users/{user}").json()["history"]
    assert sorted(h["item_id"] for h in history) == [1, 1]  # the stored payloads stay


@pytest.mark.parametrize("bad_id", ["a\x00b", "   ", "zw\u200b", "x" * 129])
def test_ids_that_are_not_text_are_rejected_without_blocking_the_batch(
    client: TestClient, bad_id: str
) -> None:
    user = f"ids-{uuid.uuid4().hex[:8]}"
    bad = {"event_id": f"b-{uuid.uuid4().hex}", "user_id": bad_id, "item_id": 1, "type": "click"}
    good = {"event_id": f"g-{uuid.uuid4().hex}", "user_id": user, "item_id": 2, "type": "click"}
    r = client.post("/v1/events", json={"events": [bad, good]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    assert "user_id" in r.json()["rejected"][0]["error"]


def test_a_non_ascii_admin_key_is_refused_not_a_500(client: TestClient) -> None:
    r = client.post("/v1/models/rollback", headers={"X-Admin-Key": "cl\xe9-\xff".encode("latin-1")})
    _error(r, 403, "permission_denied")
    r = client.post("/v1/models/rollback", headers=[(b"X-Admin-Key", "ключ".encode())])
    _error(r, 403, "permission_denied")


def test_hostile_set_gives_no_5xx(client: TestClient) -> None:
    long = "x" * 300
    answers = [
        client.get(f"/v1/users/{long}/recommendations"), client.get(f"/v1/users/{long}"),
        client.get(f"/{long}"),
        client.post("/v1/events", content=b'{"event_id": "t"}', headers={"Content-Type": "text/plain"}),
        client.post("/v1/events", content=b"\xff\xfe", headers={"Content-Type": "application/json"}),
        client.post("/v1/events", json={"events": [{"event_id": "h", "user_id": "u", "item_id": 1,
                                                    "type": "click", "timestamp": t}
                                                   for t in ("NaN", True, 1e300, -1e300)]}),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [414, 414, 414, 415, 422, 422], [a.text for a in answers]

"""The HTTP API in process: events change recommendations, idempotency, validation, rules."""

from __future__ import annotations

import time
import uuid
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from recloop.events.schema import EVENT_TYPES, Event
from recloop.serving.stability import Stability

from .conftest import PostEvent

STAR_WARS = 50  # "Star Wars (1977)" in MovieLens-100K


def recs(client: TestClient, user: str, **params: Any) -> dict[str, Any]:
    """GET the user's recommendations (asserting 200)."""
    r = client.get(f"/v1/users/{user}/recommendations", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(body: dict[str, Any]) -> list[int]:
    """Item ids of a Recommendations body, in rank order."""
    return [it["item_id"] for it in body["items"]]


def history_len(client: TestClient, user: str) -> int:
    """Length of the user's history in GET /v1/users/{id}."""
    r = client.get(f"/v1/users/{user}")
    assert r.status_code == 200, r.text
    return len(r.json()["history"])


# -- events change the list -----------------------------------------------------------


def test_like_on_top_item_removes_it_and_changes_the_list(client: TestClient, post_event: PostEvent) -> None:
    before = recs(client, "1")
    assert len(before["items"]) == 10
    assert before["model_version"] == "1"
    assert before["latency_ms"] > 0
    top = before["items"][0]["item_id"]
    ack = post_event("1", top, "like")
    assert (ack["accepted"], ack["duplicates"], ack["rejected"]) == (1, 0, [])
    after = ids(recs(client, "1"))
    assert top not in after
    assert after != ids(before)
    assert len(after) == 10


def test_retry_with_same_event_id_is_a_duplicate(client: TestClient) -> None:
    user = "2"
    body = {
        "event_id": f"retry-{uuid.uuid4().hex}",
        "user_id": user,
        "item_id": 181,
        "type": "rate",
        "value": 5,
    }
    first = client.post("/v1/events", json=body).json()
    assert (first["accepted"], first["duplicates"]) == (1, 0)
    assert first["results"] == [{"event_id": body["event_id"], "status": "applied"}]
    n_hist = history_len(client, user)
    lists = ids(recs(client, user))

    again = client.post("/v1/events", json=body)
    assert again.status_code == 200
    a = again.json()
    assert (a["accepted"], a["duplicates"], a["rejected"]) == (0, 1, [])
    assert a["results"] == [{"event_id": body["event_id"], "status": "duplicate"}]
    assert history_len(client, user) == n_hist
    assert ids(recs(client, user)) == lists


def test_new_user_gets_cold_start_list_that_changes_after_first_like(
    client: TestClient, post_event: PostEvent, new_user: str
) -> None:
    profile = client.get(f"/v1/users/{new_user}").json()
    assert profile["known"] is False and profile["history"] == []
    cold = recs(client, new_user)
    assert len(cold["items"]) == 10
    assert {it["source"] for it in cold["items"]} <= {"popular", "trending", "als"}
    liked = cold["items"][0]["item_id"]
    post_event(new_user, liked, "like")
    warm = ids(recs(client, new_user))
    assert liked not in warm
    assert warm != ids(cold)
    profile = client.get(f"/v1/users/{new_user}").json()
    assert profile["known"] is True
    assert [h["item_id"] for h in profile["history"]] == [liked]
    assert [h["type"] for h in profile["history"]] == ["like"]
    assert profile["counts_by_type"] == {"like": 1}


# -- bad input --------------------------------------------------------------------------


def _event(**fields: Any) -> dict[str, Any]:
    base = {
        "event_id": f"bad-{uuid.uuid4().hex}",
        "user_id": "bad-input-user",
        "item_id": 1,
        "type": "click",
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("fields", "needles"),
    [
        ({"item_id": 99_999}, ["unknown item_id 99999", "1-1682"]),
        ({"type": "rate"}, ["value", "rating from 1 to 5"]),
        ({"type": "rate", "value": 7}, ["value", "1 to 5", "7"]),
        ({"type": "poke"}, ["type", *EVENT_TYPES]),
        ({"item_id": "fifty"}, ["item_id"]),
        ({"user_id": ""}, ["user_id"]),
    ],
    ids=[
        "unknown-item",
        "rate-without-value",
        "rate-7",
        "unknown-type",
        "item-not-int",
        "empty-user",
    ],
)
def test_bad_event_is_422_with_a_helpful_detail(
    client: TestClient, fields: dict[str, Any], needles: list[str]
) -> None:
    ev = _event(**fields)
    r = client.post("/v1/events", json=ev)
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (0, 0)
    [rej] = body["rejected"]
    assert rej["index"] == 0 and rej["event_id"] == ev["event_id"]
    for needle in needles:
        assert needle in rej["error"], (needle, rej["error"])


def test_malformed_json_body_is_422_with_detail(client: TestClient) -> None:
    r = client.post(
        "/v1/events",
        content=b'{"event_id": "x", "user_id": ',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert detail.startswith("body: malformed JSON at character 29"), detail


def test_body_that_is_not_an_event_is_422(client: TestClient) -> None:
    r = client.post("/v1/events", json=[1, 2, 3])
    assert r.status_code == 422
    assert "events" in r.json()["detail"]


def test_batch_with_one_bad_event_applies_the_others(client: TestClient, new_user: str) -> None:
    events = [
        _event(user_id=new_user, item_id=1, type="view"),
        _event(user_id=new_user, item_id=2, type="rate", value=9),
        _event(user_id=new_user, item_id=3, type="purchase"),
    ]
    r = client.post("/v1/events", json={"events": events})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    [rej] = body["rejected"]
    assert rej["index"] == 1 and rej["event_id"] == events[1]["event_id"]
    assert "1 to 5" in rej["error"]
    assert [x["status"] for x in body["results"]] == ["applied", "rejected", "applied"]
    profile = client.get(f"/v1/users/{new_user}").json()
    assert sorted(h["item_id"] for h in profile["history"]) == [1, 3]
    assert profile["counts_by_type"] == {"view": 1, "purchase": 1}


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"genres": "Acton"}, "Action"),
        ({"k": 0}, "k"),
        ({"year_min": 1999, "year_max": 1990}, "year_min"),
    ],
)
def test_bad_recommendation_query_is_422(client: TestClient, params: dict[str, Any], needle: str) -> None:
    r = client.get("/v1/users/1/recommendations", params=params)
    assert r.status_code == 422
    assert needle in r.json()["detail"]


# -- business rules -----------------------------------------------------------------------


def test_genre_include_exclude_and_year_filters(client: TestClient) -> None:
    got = recs(client, "3", genres="Action,Comedy", k=20)
    assert len(got["items"]) == 20
    assert all({"Action", "Comedy"} & set(it["genres"]) for it in got["items"])

    got = recs(client, "3", exclude_genres="Drama,Comedy")
    assert len(got["items"]) == 10
    assert not any({"Drama", "Comedy"} & set(it["genres"]) for it in got["items"])

    got = recs(client, "3", year_min=1990, year_max=1994)
    assert len(got["items"]) == 10
    assert all(it["year"] is not None and 1990 <= it["year"] <= 1994 for it in got["items"])

    unfiltered = ids(recs(client, "3", k=50))
    assert set(ids(got)) != set(unfiltered[:10])  # the filter changed the list


def test_exclude_seen_false_may_return_seen_items(client: TestClient) -> None:
    seen = {h["item_id"] for h in client.get("/v1/users/1").json()["history"]}
    assert not set(ids(recs(client, "1", k=50))) & seen
    assert set(ids(recs(client, "1", k=50, exclude_seen="false"))) & seen


# -- items, users -------------------------------------------------------------------------


def test_item_search_finds_star_wars(client: TestClient) -> None:
    r = client.get("/v1/items", params={"query": "star"})
    assert r.status_code == 200
    items = r.json()["items"]
    assert items[0]["item_id"] == STAR_WARS  # the most popular match
    assert items[0]["title"].startswith("Star Wars") and items[0]["year"] == 1977
    assert all("star" in it["title"].lower() for it in items)
    popular = client.get("/v1/items", params={"limit": 5}).json()["items"]
    assert len(popular) == 5


def test_similar_items(client: TestClient) -> None:
    r = client.get(f"/v1/items/{STAR_WARS}/similar", params={"k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["item_id"] == STAR_WARS
    sims = [it["item_id"] for it in body["items"]]
    assert len(sims) == 5 and STAR_WARS not in sims
    assert 172 in sims or 181 in sims  # The Empire Strikes Back / Return of the Jedi
    assert body["items"][0]["reason"].startswith("similar to Star Wars")
    assert client.get("/v1/items/99999/similar").status_code == 404


def test_users_list_and_known_user_profile(client: TestClient) -> None:
    top = client.get("/v1/users", params={"limit": 3}).json()["users"]
    assert len(top) == 3 and top[0]["events"] >= top[1]["events"] >= top[2]["events"]
    p = client.get("/v1/users/1").json()
    assert p["known"] is True
    assert p["demographics"] == {"age": 24, "gender": "M", "occupation": "technician"}
    assert p["counts_by_type"]["rate"] >= 272
    stamps = [h["timestamp"] for h in p["history"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) <= 200


# -- system ---------------------------------------------------------------------------------


def test_health_ready_metrics_and_stats(client: TestClient, post_event: PostEvent, new_user: str) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready").json()
    assert (ready["ready"], ready["model_version"]) == (True, "1")
    assert ready["store"] == {"ok": True, "detail": "takes writes"} and ready["disk"]["ok"]

    before = client.get("/v1/stats").json()
    post_event(new_user, 1, "click")
    post_event(new_user, 2, "view")
    recs(client, new_user)
    after = client.get("/v1/stats").json()
    assert after["events_total"] == before["events_total"] + 2
    by_type = after["events_by_type"]
    assert by_type.get("click", 0) == before["events_by_type"].get("click", 0) + 1
    assert by_type.get("view", 0) == before["events_by_type"].get("view", 0) + 1
    assert after["requests_total"] == before["requests_total"] + 1
    assert after["model_version"] == "1"
    assert after["series"] and after["latency_ms"]["p99"] > 0

    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert 'recloop_events_total{type="click"}' in metrics.text
    assert "recloop_request_latency_seconds_bucket" in metrics.text


@pytest.mark.parametrize("path", ["/v1/models/1/promote", "/v1/models/rollback"])
def test_admin_endpoints_need_the_admin_key(client: TestClient, path: str) -> None:
    r = client.post(path)
    assert r.status_code == 403
    assert "X-Admin-Key" in r.json()["detail"]
    r = client.post(path, headers={"X-Admin-Key": "wrong"})
    assert r.status_code == 403


def test_promote_with_admin_key(client: TestClient) -> None:
    r = client.post("/v1/models/1/promote", headers={"X-Admin-Key": "test-admin-key"})
    assert r.status_code == 200, r.text
    assert r.json()["champion"] == "1"
    models = client.get("/v1/models").json()
    assert models["champion"] == "1"
    assert [v["version"] for v in models["versions"]] == ["1"]


def test_factor_is_folded_in_again_when_another_writer_changed_the_history(
    client: TestClient, new_user: str, post_event: PostEvent
) -> None:
    """An event stored by another worker (shared Redis) must not leave a stale ALS factor."""
    post_event(new_user, 1, "like")
    recs(client, new_user)
    foldins = client.get("/v1/stats").json()["foldins_total"]
    recs(client, new_user)  # cached factor: no fold-in
    assert client.get("/v1/stats").json()["foldins_total"] == foldins

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    other = Event(f"other-{uuid.uuid4().hex}", new_user, runtime.service.live.catalog.index(2), 2,
                  "like", time.time())  # fmt: skip
    assert runtime.store.append([other]) == [True]  # as another worker would
    got = ids(recs(client, new_user))
    assert client.get("/v1/stats").json()["foldins_total"] == foldins + 1
    assert 2 not in got


def _user_scores(client: TestClient) -> tuple[float, float]:
    lines = client.get("/metrics").text.splitlines()
    got = {}
    for result in ("hit", "miss"):
        prefix = f'recloop_user_scores_total{{result="{result}"}}'
        got[result] = float(next(ln for ln in lines if ln.startswith(prefix)).rsplit(" ", 1)[1])
    return got["hit"], got["miss"]


def test_kept_user_scores_are_reused_and_equal_a_fresh_computation(
    client: TestClient, new_user: str, post_event: PostEvent
) -> None:
    svc = client.app.state.runtime.service  # type: ignore[attr-defined]
    steady, svc.stability = svc.stability, Stability(0)  # the head start would change the scores
    try:
        post_event(new_user, 50, "like")
        first = recs(client, new_user)
        hits, misses = _user_scores(client)
        second = recs(client, new_user)  # no event in between: the kept scores
    finally:
        svc.stability = steady
    assert _user_scores(client) == (hits + 1, misses)
    assert ids(second) == ids(first)
    assert [i["score"] for i in second["items"]] == [i["score"] for i in first["items"]]
    history = svc.history(new_user)
    model = svc.model.model
    fresh = model.rank(history, svc.live.stats, svc.live.stats.now, 10)  # every source recomputed
    assert [svc.live.catalog.view(int(i)).item_id for i in fresh.items] == ids(second)


def test_a_dislike_or_another_writers_event_makes_the_scores_recomputed(
    client: TestClient, new_user: str, post_event: PostEvent
) -> None:
    post_event(new_user, 50, "like")
    before = ids(recs(client, new_user))
    post_event(new_user, before[0], "dislike")  # changes only the seen set
    _, misses = _user_scores(client)
    after = ids(recs(client, new_user))
    assert _user_scores(client)[1] == misses + 1
    assert before[0] not in after

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    other = Event(f"other-{uuid.uuid4().hex}", new_user, runtime.service.live.catalog.index(after[0]),
                  after[0], "like", time.time())  # fmt: skip
    assert runtime.store.append([other]) == [True]  # as another worker sharing Redis would
    assert after[0] not in ids(recs(client, new_user))


def test_predicted_rating_per_item_follows_the_users_own_ratings(
    client: TestClient, post_event: PostEvent, new_user: str
) -> None:
    cold = recs(client, new_user)["items"]
    stars = [it["predicted_rating"] for it in cold]
    assert all(1.0 <= s <= 5.0 for s in stars)
    for item in (1, 50, 100, 181, 258):  # a harsh critic: every rating a 1
        post_event(new_user, item, "rate", value=1)
    harsh = recs(client, new_user)["items"]
    assert all(1.0 <= it["predicted_rating"] <= 5.0 for it in harsh)
    assert np.mean([it["predicted_rating"] for it in harsh]) < np.mean(stars) - 0.3

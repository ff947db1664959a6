"""Feedback through HTTP: ratings carry polarity, negatives demote neighbours, new users start well.

Uses the session's trained home (slow lane). docs/FEEDBACK.md is the table under test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from recloop.serving.stability import Stability

from .conftest import PostEvent

STAR_WARS = 50
SEED_LIKES = (1, 121, 181)  # Toy Story, Independence Day, Return of the Jedi: a plain warm user
DEPTH = 100


def recs(client: TestClient, user: str, k: int = DEPTH) -> list[dict[str, Any]]:
    """The user's top ``k`` (asserting 200)."""
    r = client.get(f"/v1/users/{user}/recommendations", params={"k": k})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def neighbours(client: TestClient, item_id: int, k: int = 10) -> list[int]:
    """The item's nearest neighbours by the model's item-item matrices."""
    r = client.get(f"/v1/items/{item_id}/similar", params={"k": k})
    assert r.status_code == 200, r.text
    return [it["item_id"] for it in r.json()["items"]]


def mean_rank(items: list[dict[str, Any]], which: list[int]) -> float:
    """Mean 1-based rank of ``which`` in the list (DEPTH + 1 when absent)."""
    pos = {it["item_id"]: p + 1 for p, it in enumerate(items)}
    return float(np.mean([pos.get(i, DEPTH + 1) for i in which]))


def warm_user(post_event: PostEvent, user: str) -> str:
    for item in SEED_LIKES:
        post_event(user, item, "like")
    return user


def test_one_star_demotes_neighbours_and_is_never_liked(
    client: TestClient, post_event: PostEvent, new_user: str
) -> None:
    user = warm_user(post_event, new_user)
    near = [i for i in neighbours(client, STAR_WARS) if i not in SEED_LIKES][:5]
    before = recs(client, user)
    post_event(user, STAR_WARS, "rate", value=1)
    after = recs(client, user)
    moved = (mean_rank(before, near), mean_rank(after, near))
    # Without the demotion they could only move up (Star Wars itself leaves the list): measured
    # 15.4 -> 19.0 at strength 0.3 on the session's small model.
    assert moved[1] > moved[0] + 1, moved
    assert STAR_WARS not in [it["item_id"] for it in after]
    assert not any("Star Wars" in it["reason"] for it in after)
    history = client.get(f"/v1/users/{user}").json()["history"]
    latest = history[0]
    assert (latest["item_id"], latest["polarity"], latest["weight"]) == (STAR_WARS, "negative", -1.0)


def test_five_stars_promote_neighbours(client: TestClient, post_event: PostEvent, new_user: str) -> None:
    user = warm_user(post_event, new_user)
    near = [i for i in neighbours(client, STAR_WARS) if i not in SEED_LIKES][:5]
    before = recs(client, user)
    post_event(user, STAR_WARS, "rate", value=5)
    after = recs(client, user)
    assert mean_rank(after, near) < mean_rank(before, near), (mean_rank(before, near), mean_rank(after, near))


def test_one_and_five_stars_give_different_lists(client: TestClient, post_event: PostEvent) -> None:
    import uuid

    low, high = (warm_user(post_event, f"fb-{uuid.uuid4().hex[:10]}") for _ in range(2))
    post_event(low, STAR_WARS, "rate", value=1)
    post_event(high, STAR_WARS, "rate", value=5)
    assert [it["item_id"] for it in recs(client, low, 10)] != [it["item_id"] for it in recs(client, high, 10)]


def test_dislike_is_in_the_history_marked_negative(
    client: TestClient, post_event: PostEvent, new_user: str
) -> None:
    post_event(new_user, 1, "like")
    post_event(new_user, STAR_WARS, "dislike")
    body = client.get(f"/v1/users/{new_user}").json()
    got = {(h["item_id"], h["type"], h["polarity"]) for h in body["history"]}
    assert got == {(1, "like", "positive"), (STAR_WARS, "dislike", "negative")}
    assert body["counts_by_type"] == {"like": 1, "dislike": 1}


def test_low_ratings_of_a_base_user_are_never_cited_as_liked(client: TestClient) -> None:
    body = client.get("/v1/users/405").json()
    disliked = {h["title"] for h in body["history"] if h["polarity"] == "negative"}
    assert disliked, "user 405 has 1-star ratings in MovieLens-100K"
    for it in recs(client, "405", 30):
        assert not any(it["reason"] == f"because you liked {t}" for t in disliked), it


def test_new_user_first_list_is_popular_diverse_and_untied(client: TestClient, new_user: str) -> None:
    items = recs(client, new_user, 10)
    scores = [it["score"] for it in items]
    assert len(set(scores)) == len(scores) and scores == sorted(scores, reverse=True)
    assert all(it["reason"].startswith("popular to start with") for it in items)
    counts = _counts(client)
    low_half = set(sorted(counts, key=lambda i: counts[i])[: len(counts) // 2])
    assert not low_half & {it["item_id"] for it in items}
    genres = [frozenset(it["genres"]) for it in items]
    assert len(set(genres)) >= 6, genres  # not ten dramas


def _counts(client: TestClient) -> dict[int, float]:
    """Item id -> all-time events, from the live state behind the app."""
    live = client.app.state.runtime.service.live  # type: ignore[attr-defined]
    pairs = zip(live.catalog.ids.tolist(), live.stats.counts.tolist(), strict=True)
    return {int(i): float(c) for i, c in pairs}


def test_one_like_keeps_more_of_the_list_with_stability_than_without(
    client: TestClient, post_event: PostEvent
) -> None:
    """Same users, same state: the list after one like, served with list stability and without.

    The head start only ever lifts shown items, so no unshown item can enter the top 10 with it
    that would not have without: per user the list keeps at least as many shown items, and over
    the users strictly more.
    """
    service = client.app.state.runtime.service  # type: ignore[attr-defined]
    on, off = service.stability, Stability(0)
    kept_on, kept_off = [], []
    for user in map(str, range(300, 312)):  # MovieLens users with a base history
        shown = [it["item_id"] for it in recs(client, user, 10)]
        liked = recs(client, user, 30)[25]["item_id"]  # a like of an item the user was not shown
        service.stability.remember(user, np.asarray([service.live.catalog.index(i) for i in shown]))
        post_event(user, liked)
        after_on = {it["item_id"] for it in recs(client, user, 10)}
        service.stability = off
        try:
            after_off = {it["item_id"] for it in recs(client, user, 10)}
        finally:
            service.stability = on
        kept_on.append(len(after_on & set(shown)))
        kept_off.append(len(after_off & set(shown)))
    assert all(a >= b for a, b in zip(kept_on, kept_off, strict=True)), (kept_on, kept_off)
    assert sum(kept_on) > sum(kept_off), (kept_on, kept_off)

"""Users: recommendations, history and features, and a list of known users."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from recloop.api.deps import RuntimeDep
from recloop.api.schemas import Recommendations, UserDetail, UserList
from recloop.data.movielens import GENRES
from recloop.errors import ValidationError
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.serving import recommend_with_experiment
from recloop.monitoring.experiments import count_exposure
from recloop.serving.bus import wait_applied
from recloop.serving.history_view import user_history
from recloop.serving.recommender import Filters
from recloop.serving.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["users"])
WAIT_FOR_S = 2.0  # the bound on a read-your-writes wait for one event


def _genres(raw: str | None, what: str) -> frozenset[str]:
    if not raw:
        return frozenset()
    names = frozenset(g.strip() for g in raw.split(",") if g.strip())
    unknown = sorted(names - set(GENRES))
    if unknown:
        raise ValidationError(f"{what}: unknown genre(s) {', '.join(unknown)}; "
                              f"choose from {', '.join(GENRES)}")  # fmt: skip
    return names


@router.get("/users/{user_id}/recommendations", response_model=Recommendations)
async def recommendations(
    request: Request,
    user_id: str,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    genres: Annotated[str | None, Query(description="comma-separated genres to include")] = None,
    exclude_genres: Annotated[str | None, Query(description="genres to exclude")] = None,
    year_min: Annotated[int | None, Query(ge=0, le=9999, description="earliest release year")] = None,
    year_max: Annotated[int | None, Query(ge=0, le=9999, description="latest release year")] = None,
    exclude_seen: bool = True,
    wait_for: Annotated[str | None, Query(max_length=256, description="an event id (the `wait_token` of "
                        "POST /v1/events through the bus): wait up to 2 s until it is applied")] = None,
) -> Response:
    """Top-k for the user from their current history (read-your-writes).

    ``async`` on purpose: the work is ~1.5 ms of pure CPU under the GIL, so a
    threadpool hop adds cost (thread handoff) and no concurrency; with Redis state the
    work runs in the threadpool all the same (a hung server must not block the loop).
    """
    runtime: Runtime = request.app.state.runtime  # app state, not Depends: the hottest route
    engine: ExperimentEngine = request.app.state.experiments
    if year_min is not None and year_max is not None and year_min > year_max:
        raise ValidationError(f"year_min {year_min} is after year_max {year_max}")
    if wait_for is not None and runtime.bus is not None:
        await anyio.to_thread.run_sync(lambda: wait_applied(runtime.store, [wait_for], WAIT_FOR_S))
    f = Filters(_genres(genres, "genres"), _genres(exclude_genres, "exclude_genres"),
                year_min, year_max, exclude_seen)  # fmt: skip
    r, variant = await runtime.off_loop(lambda: recommend_with_experiment(runtime, engine, user_id, k, f))
    if variant is not None and (exp := engine.running()) is not None:
        count_exposure(runtime.instruments, exp.id, variant)
    body = {
        "user_id": r.user_id,
        "items": [{"item_id": i.item.item_id, "title": i.item.title, "year": i.item.year,
                   "genres": list(i.item.genres), "score": i.score, "source": i.source,
                   "reason": i.reason, "predicted_rating": i.predicted_rating} for i in r.items],
        "model_version": r.model_version, "request_id": r.request_id, "variant": variant,
        "latency_ms": r.latency_ms,
    }  # fmt: skip
    # the Recommendations shape (response_model, for OpenAPI), written with orjson: this is
    # the hottest route, and re-validating our own output costs more than ranking reasons
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/users/{user_id}", response_model=UserDetail)
def user(runtime: RuntimeDep, user_id: str) -> dict[str, Any]:
    """History (latest first, at most 200, negatives included and marked), counts by type, demographics."""
    svc = runtime.service.live
    base = svc.base.lists(user_id)
    live = svc.store.user_events(user_id)
    rows = user_history(svc.catalog, base, live, svc.semantics)
    users = runtime.dataset.users
    row = users[users["user_id"].astype(str) == user_id]
    demo = None if row.empty else {"age": int(row["age"].iloc[0]),
                                   "gender": str(row["gender"].iloc[0]),
                                   "occupation": str(row["occupation"].iloc[0])}  # fmt: skip
    counts = dict(live.counts_by_type)
    if base[0]:
        counts["rate"] = counts.get("rate", 0) + len(base[0])
    return {"user_id": user_id, "known": bool(base[0]) or len(live) > 0 or len(live.disliked) > 0,
            "demographics": demo, "counts_by_type": counts, "history": rows[:200]}  # fmt: skip


@router.get("/users", response_model=UserList)
def users(runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> dict[str, Any]:
    """MovieLens users, most active first."""
    base = runtime.service.live.base
    top = base.most_active(limit)
    return {"users": [{"user_id": u, "events": len(base.lists(u)[0])} for u in top]}

"""Simulated users for online experiments, with ground truth from held-out MovieLens.

Population (:func:`future_population`): the P2 cut of shared/EVALUATION.md
splits all interactions in time order; the first ``base_fraction`` (0.8) is
what the server holds (it must run with ``RECLOOP_BASE_FRACTION=0.8``), and a
user's interactions after the cut are their *future*: the items they will
engage with, and the rating they will give. Only users active after the cut
are simulated.

Behaviour (:func:`simulate`): each user asks for ``requests_per_user`` lists
of ``k`` items in turn. Every rank ``r`` of a list is examined with the
position-biased probability ``P(examine r) = 1 / r ** 0.8`` (:class:`ClickModel`,
a cascade-free examination model: 1.00, 0.57, 0.42, 0.33, ..., 0.16 at rank 10);
an examined item from the user's future is clicked and then rated with its
held-out rating. Both events carry the list's ``request_id`` and the
held-out timestamp and are posted before the user's next request, so the
server learns from them in real time. An item is clicked at most once.

Randomness: one generator per user seeded with ``(seed, user_id)`` draws one
uniform per rank, so a run is repeatable given the server's answers, and two
variants serving the same list to the same user get the same clicks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import numpy as np

from recloop.data.movielens import Dataset
from recloop.errors import DependencyUnavailableError, RecloopError
from recloop.evaluation.splits import prequential_split
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.models import Variant
from recloop.experiments.serving import (
    ServingRuntime,
    attribute_events,
    recommend_with_experiment,
    serve_variant,
)

__all__ = [
    "ClickModel",
    "HttpRecClient",
    "InProcessClient",
    "RecClient",
    "Served",
    "SimUser",
    "SimulationReport",
    "VariantTally",
    "future_population",
    "pick_users",
    "simulate",
]


@dataclass(frozen=True, slots=True)
class SimUser:
    """A MovieLens user and their future: item id -> (held-out rating 1-5, Unix timestamp)."""

    user_id: str
    future: Mapping[int, tuple[float, float]]


def future_population(dataset: Dataset, base_fraction: float = 0.8, min_future: int = 1) -> list[SimUser]:
    """Users with at least ``min_future`` interactions after the P2 cut, by numeric user id."""
    _, rest = prequential_split(dataset.interactions, base_fraction)
    future: dict[str, dict[int, tuple[float, float]]] = {}
    rows = zip(rest["user_id"].tolist(), rest["item_id"].tolist(), rest["rating"].tolist(),
               rest["timestamp"].tolist(), strict=True)  # fmt: skip
    for user, item, rating, ts in rows:
        future.setdefault(str(user), {}).setdefault(int(item), (float(rating), float(ts)))
    users = [SimUser(u, f) for u, f in future.items() if len(f) >= min_future]
    return sorted(users, key=lambda s: (len(s.user_id), s.user_id))


def pick_users(population: Sequence[SimUser], n: int | None, seed: int) -> list[SimUser]:
    """``n`` users (all when None or larger than the population) in a seeded random order."""
    order = np.random.default_rng(seed).permutation(len(population))
    return [population[int(i)] for i in order[: n if n is not None else len(order)]]


@dataclass(frozen=True, slots=True)
class ClickModel:
    """Position-biased examination: ``P(examine rank r) = 1 / r ** exponent`` (r from 1)."""

    exponent: float = 0.8

    def examine(self, k: int) -> np.ndarray:
        """Examination probabilities of ranks 1..k, float64 (k,)."""
        return 1.0 / np.arange(1, k + 1, dtype=np.float64) ** self.exponent


@dataclass(frozen=True, slots=True)
class Served:
    """A list as the client saw it: public item ids in rank order, request id, variant."""

    items: list[int]
    request_id: str
    variant: str | None


class RecClient(Protocol):
    """How the simulator talks to a recommender (over HTTP, or in process)."""

    def recommend(self, user_id: str, k: int) -> Served:
        """The user's top-k list."""
        ...

    def post_events(self, events: list[dict[str, Any]]) -> None:
        """Send events in the ``POST /v1/events`` format."""
        ...


@dataclass
class VariantTally:
    """Per variant: distinct users, lists served, lists with >= 1 click, clicks, ratings."""

    users: set[str] = field(default_factory=set)
    requests: int = 0
    clicked_lists: int = 0
    clicks: int = 0
    rating_sum: float = 0.0

    @property
    def ctr(self) -> float:
        """Lists with at least one click / lists (the engine's ``ctr``)."""
        return self.clicked_lists / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class SimulationReport:
    """What a run did; ``variants`` keys are variant names (``"-"`` without an experiment)."""

    users: int
    requests: int
    clicks: int
    variants: dict[str, VariantTally]
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "users": self.users, "requests": self.requests, "clicks": self.clicks, "wall_s": self.wall_s,
            "variants": {name: {"users": len(t.users), "requests": t.requests, "clicks": t.clicks,
                                "clicked_lists": t.clicked_lists, "ctr": t.ctr,
                                "mean_rating": t.rating_sum / t.clicks if t.clicks else None}
                         for name, t in sorted(self.variants.items())},
        }  # fmt: skip


def _user_rng(seed: int, user_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, *user_id.encode()])


def simulate(
    client: RecClient, users: Sequence[SimUser], *, k: int = 10, requests_per_user: int = 3,
    seed: int = 0, click_model: ClickModel | None = None, run_id: str = "sim",
    on_user: Callable[[int, SimUser], None] | None = None,
) -> SimulationReport:  # fmt: skip
    """Run the simulated users against ``client`` (see the module docstring).

    Event ids are ``<run_id>-<seed>-<user>-<request>-<item>-<type>``, so a
    retried run posts duplicates, not new events. ``on_user(n, user)`` is
    called after each user (``n`` users done), e.g. to advance a progress
    bar or to look at the experiment's results.
    """
    model = click_model or ClickModel()
    examine = model.examine(k)
    tallies: dict[str, VariantTally] = {}
    requests = clicks = 0
    t0 = time.perf_counter()
    for n, user in enumerate(users, 1):
        rng = _user_rng(seed, user.user_id)
        remaining = dict(user.future)
        for req in range(requests_per_user):
            if not remaining:
                break
            served = client.recommend(user.user_id, k)
            draws = rng.random(k)
            tally = tallies.setdefault(served.variant or "-", VariantTally())
            tally.users.add(user.user_id)
            tally.requests += 1
            requests += 1
            events: list[dict[str, Any]] = []
            for rank, item in enumerate(served.items[:k]):
                if draws[rank] >= examine[rank] or item not in remaining:
                    continue
                rating, ts = remaining.pop(item)
                base = f"{run_id}-{seed}-{user.user_id}-{req}-{item}"
                common = {"user_id": user.user_id, "item_id": item, "timestamp": ts,
                          "request_id": served.request_id}  # fmt: skip
                events.append({"event_id": f"{base}-click", "type": "click", **common})
                events.append({"event_id": f"{base}-rate", "type": "rate", "value": rating, **common})
                tally.rating_sum += rating
            if events:
                client.post_events(events)
                tally.clicked_lists += 1
                tally.clicks += len(events) // 2
                clicks += len(events) // 2
        if on_user is not None:
            on_user(n, user)
    return SimulationReport(len(users), requests, clicks, tallies, time.perf_counter() - t0)


class HttpRecClient:
    """:class:`RecClient` over a running ``recloop serve`` (keep-alive httpx client)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        """Connect to ``url`` and check ``/ready``; DependencyUnavailableError says what to start."""
        self.url = url.rstrip("/")
        self._client = httpx.Client(base_url=self.url, timeout=timeout)
        try:
            ready = self._client.get("/ready")
        except httpx.HTTPError as exc:
            self._client.close()
            raise DependencyUnavailableError(
                f"no recloop server at {self.url} ({exc}); start one with "
                "`RECLOOP_BASE_FRACTION=0.8 recloop serve`"
            ) from exc
        if ready.status_code != 200:
            self._client.close()
            raise DependencyUnavailableError(
                f"{self.url}/ready answered {ready.status_code}: no model loaded"
            )
        self.model_version = str(ready.json().get("model_version"))

    def _check(self, r: httpx.Response) -> httpx.Response:
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise RecloopError(f"{r.request.method} {r.request.url.path}: {r.status_code} {detail}")
        return r

    def recommend(self, user_id: str, k: int) -> Served:
        """``GET /v1/users/{id}/recommendations?k=``."""
        body = self._check(self._client.get(f"/v1/users/{user_id}/recommendations", params={"k": k})).json()
        return Served(
            [int(i["item_id"]) for i in body["items"]], str(body["request_id"]), body.get("variant")
        )

    def post_events(self, events: list[dict[str, Any]]) -> None:
        """``POST /v1/events`` with a batch."""
        self._check(self._client.post("/v1/events", json={"events": events}))

    def get(self, path: str) -> Any:
        """JSON of ``GET path`` (errors raised as RecloopError with the server's detail)."""
        return self._check(self._client.get(path)).json()

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class InProcessClient:
    """:class:`RecClient` calling what the API routes call, without HTTP.

    With ``engine``: lists from :func:`recommend_with_experiment`, events
    ingested by the service then attributed. With ``variant`` (and no
    engine): every user gets that variant's list (a counterfactual run).
    Neither: the runtime's champion.
    """

    def __init__(
        self, runtime: ServingRuntime, engine: ExperimentEngine | None = None, variant: Variant | None = None
    ) -> None:
        """Serve from ``runtime`` (see the class docstring for ``engine``/``variant``)."""
        self.runtime, self.engine, self.variant = runtime, engine, variant

    def recommend(self, user_id: str, k: int) -> Served:
        """The user's list and variant."""
        name: str | None = None
        if self.engine is not None:
            recs, name = recommend_with_experiment(self.runtime, self.engine, user_id, k)
        elif self.variant is not None:
            recs, name = serve_variant(self.runtime, self.variant, user_id, k), self.variant.name
        else:
            recs = self.runtime.service.recommend(user_id, k)
        return Served([r.item.item_id for r in recs.items], recs.request_id, name)

    def post_events(self, events: list[dict[str, Any]]) -> None:
        """Ingest through the service, then attribute to the experiment."""
        outcome = self.runtime.service.ingest(events)
        if self.engine is not None:
            attribute_events(self.engine, outcome.applied)

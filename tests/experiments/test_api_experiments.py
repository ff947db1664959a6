"""The experiments HTTP routes and the serving integration, without training a model.

Routes run in a small FastAPI app (the experiments router, the project's error
mapping, a runtime stub carrying the admin key) over a real SQLite store.
Serving runs the real Recommender on the tiny synthetic dataset with a
stub ranking model, so variants, exposures and attribution go through the
code the API calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from recloop.api.routes import experiments as routes
from recloop.config import MemoryStateConfig, Settings
from recloop.data import Dataset
from recloop.errors import ModelNotFoundError, RecloopError
from recloop.experiments.engine import ExperimentEngine
from recloop.experiments.models import ExperimentSpec, Variant
from recloop.experiments.serving import (
    VariantModels,
    attribute_events,
    popular_list,
    recommend_with_experiment,
)
from recloop.experiments.simulator import ClickModel, InProcessClient, SimUser, simulate
from recloop.experiments.store import ExperimentStore, open_experiment_store
from recloop.features.store import open_store
from recloop.ranking.model import Ranked
from recloop.retrieval.als import FoldIn
from recloop.serving.recommender import Filters, Recommender, ServedModel
from recloop.serving.runtime import service_for

KEY = "test-admin-key"
BODY = {"name": "champion vs popular", "primary_metric": "ctr",
        "variants": [{"name": "A", "model": "champion", "weight": 0.5},
                     {"name": "B", "model": "popular", "weight": 0.5}]}  # fmt: skip
EXPERIMENT_KEYS = {"id", "name", "status", "created_at", "primary_metric", "variants", "mode"}


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ExperimentStore]:
    s = open_experiment_store(MemoryStateConfig(path=tmp_path / "state.db"), tmp_path)
    yield s
    s.close()


class AnyVersion:
    """A registry stub in which every version exists (serving tests load models elsewhere)."""

    def get(self, version_or_alias: int | str) -> Any:
        return SimpleNamespace(version=version_or_alias)

    def promote(self, version: int) -> Any:
        raise AssertionError("no promotion in these tests")


@pytest.fixture()
def engine(store: ExperimentStore) -> ExperimentEngine:
    return ExperimentEngine(store, AnyVersion, seed=0, cache_s=0.0)


@pytest.fixture()
def client(engine: ExperimentEngine) -> Iterator[TestClient]:
    app = FastAPI()
    app.include_router(routes.router)
    app.state.runtime = SimpleNamespace(settings=Settings(admin_api_key=KEY))
    app.state.experiments = engine

    @app.exception_handler(RecloopError)
    async def recloop_error(_: Request, exc: RecloopError) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    with TestClient(app) as c:
        yield c


# -- routes -----------------------------------------------------------------------------------


def test_create_and_stop_need_the_admin_key(client: TestClient) -> None:
    for headers in ({}, {"X-Admin-Key": "wrong"}):
        r = client.post("/v1/experiments", json=BODY, headers=headers)
        assert r.status_code == 403 and "X-Admin-Key" in r.json()["detail"]
    assert client.get("/v1/experiments").json() == {"experiments": []}

    created = client.post("/v1/experiments", json=BODY, headers={"X-Admin-Key": KEY})
    assert created.status_code == 200
    exp = created.json()
    assert set(exp) == EXPERIMENT_KEYS and exp["status"] == "running" and exp["primary_metric"] == "ctr"
    assert exp["variants"] == BODY["variants"]
    assert client.get("/v1/experiments").json() == {"experiments": [exp]}

    assert client.post(f"/v1/experiments/{exp['id']}/stop").status_code == 403
    stopped = client.post(f"/v1/experiments/{exp['id']}/stop", headers={"X-Admin-Key": KEY})
    assert stopped.status_code == 200 and stopped.json() == {**exp, "status": "stopped"}


def test_create_errors_say_what_to_fix(client: TestClient) -> None:
    admin = {"X-Admin-Key": KEY}
    bad = {**BODY, "variants": [{"name": "A", "model": "ease", "weight": 1}]}
    r = client.post("/v1/experiments", json=bad, headers=admin)
    assert r.status_code == 422
    assert client.post("/v1/experiments", json=BODY, headers=admin).status_code == 200
    r = client.post("/v1/experiments", json=BODY, headers=admin)
    assert r.status_code == 409 and "stop it first" in r.json()["detail"]
    assert client.post("/v1/experiments/nope/stop", headers=admin).status_code == 404
    assert client.get("/v1/experiments/nope/results").status_code == 404


def test_results_shape_matches_the_api_doc(client: TestClient, engine: ExperimentEngine) -> None:
    exp_id = client.post("/v1/experiments", json=BODY, headers={"X-Admin-Key": KEY}).json()["id"]
    exp = engine.get(exp_id)
    for n in range(40):
        variant = "A" if n % 2 else "B"
        engine.record_exposure(exp, variant, f"u{n}", f"r{n}", [1, 2], ts=0.0)
        if n % 4 == 0:
            engine.attribute(SimpleNamespace(event_id=f"e{n}", user_id=f"u{n}", item_id=2, type="click",
                                             value=None, timestamp=1.0, request_id=f"r{n}"))  # fmt: skip
    r = client.get(f"/v1/experiments/{exp_id}/results")
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"id", "name", "status", "variants", "lift", "lift_ci", "p_value", "sequential",
                         "srm", "decision", "mode", "interleaving", "cuped"}  # fmt: skip
    assert [set(v) for v in body["variants"]] == [
        {"name", "model", "exposures", "successes", "rate", "ci"}
    ] * 2
    counts = [(v["name"], v["exposures"], v["successes"]) for v in body["variants"]]
    assert counts == [("A", 20, 0), ("B", 20, 10)]
    assert len(body["variants"][1]["ci"]) == 2 and len(body["lift_ci"]) == 2
    assert set(body["sequential"]) == {"p_value", "reject"} and set(body["srm"]) == {"p_value", "mismatch"}
    assert body["decision"] in ("running", "winner:A", "winner:B")
    assert (body["id"], body["name"], body["status"]) == (exp_id, BODY["name"], "running")


# -- serving integration ----------------------------------------------------------------------


class StubModel:
    """Ranks a fixed order of item indices (unseen first); no fold-in, origin 'popular'."""

    def __init__(self, order: list[int]) -> None:
        self.order = order
        zero = np.zeros(2, np.float32)
        self.sources = SimpleNamespace(als=SimpleNamespace(
            fold_in=lambda items: zero,
            fold_in_start=lambda: FoldIn(np.eye(2), np.zeros(2), set(), zero),
            fold_in_add=lambda state, items, weights=None: state,
            item_factors=np.zeros((5, 2), np.float32),
        ), user_scores=lambda history, factor: None, personal=(), names=("popular",),
            sources=())  # fmt: skip

    def rank(
        self, history: Any, stats: Any, at: float, k: int, factor: Any = None, personal: Any = None
    ) -> Ranked:
        seen = set(history.seen.tolist())
        items = np.asarray([i for i in self.order if i not in seen][:k], np.int64)
        origin = np.full(len(items), -1, np.int64)  # the filler: "popular"
        return Ranked(items, -np.arange(len(items), dtype=np.float64), origin, None,  # type: ignore[arg-type]
                      ("popular",))

    rating = None  # no rating model

    def predicted_ratings(self, history: Any, items: np.ndarray, user: Any = None) -> None:
        """No rating model."""
        return None


class FixedModels(VariantModels):
    """Serves registry refs from a dict (no registry); unknown refs fail like the registry."""

    def __init__(self, models: dict[str, ServedModel]) -> None:
        super().__init__()
        self.models = models

    def get(self, runtime: Any, ref: str) -> ServedModel:
        if ref not in self.models:
            raise ModelNotFoundError(f"no version {ref}")
        return self.models[ref]


def make_runtime(dataset: Dataset, home: Path) -> SimpleNamespace:
    fstore = open_store(MemoryStateConfig(path=home / "features" / "state.db"), dataset.n_items, home)
    served = ServedModel(StubModel([4, 3, 2, 1, 0]), "1")  # type: ignore[arg-type]
    service = service_for(dataset, dataset.interactions, fstore, served, 7.0)
    return SimpleNamespace(settings=Settings(home=home), dataset=dataset, service=service)


@pytest.fixture()
def runtime(tiny_dataset: Dataset, tmp_path: Path) -> Iterator[SimpleNamespace]:
    rt = make_runtime(tiny_dataset, tmp_path)
    yield rt
    rt.service.live.store.close()


def ids(recs: Any) -> list[int]:
    return [r.item.item_id for r in recs.items]


def not_new(runtime: SimpleNamespace, user: str) -> str:
    """Give ``user`` one dislike of item 30, so the model ranks (a user with no event gets the
    starter list, whatever the variant); item 30 is in none of the lists these tests expect."""
    runtime.service.ingest([{"event_id": f"d-{user}", "user_id": user, "item_id": 30, "type": "dislike"}])
    return user


def test_popular_list_skips_seen_items_and_applies_filters(runtime: SimpleNamespace) -> None:
    service: Recommender = runtime.service
    # counts: item 20 -> 3, items 10 and 40 -> 2, items 30 and 50 -> 1; user 1 saw 10, 20, 30
    assert ids(popular_list(service, "1", 3)) == [40, 50]
    assert ids(popular_list(service, "new", 3)) == [20, 10, 40]
    assert ids(popular_list(service, "new", 3, Filters(year_min=1992))) == [40, 30, 50]
    assert ids(popular_list(service, "1", 2, Filters(exclude_seen=False))) == [20, 10]
    recs = popular_list(service, "new", 1)
    assert recs.model_version == "popular" and recs.items[0].source == "popular" and recs.request_id


def test_recommend_with_experiment_serves_variants_and_logs_exposures(
    runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    models = FixedModels({"2": ServedModel(StubModel([0, 1, 2, 3, 4]), "2")})  # type: ignore[arg-type]
    plain, variant = recommend_with_experiment(runtime, engine, not_new(runtime, "new"), 2, models=models)
    assert variant is None and ids(plain) == [50, 40] and plain.model_version == "1"

    variants = (Variant(name="A", model="champion"), Variant(name="B", model="2"),
                Variant(name="C", model="popular"))  # fmt: skip
    exp = engine.create(ExperimentSpec(name="x", variants=variants))
    seen: dict[str, tuple[list[int], str]] = {}
    for n in range(60):
        user = not_new(runtime, f"user-{n}")
        recs, name = recommend_with_experiment(runtime, engine, user, 2, models=models)
        assert name == engine.assign(exp, f"user-{n}").name
        seen[name] = (ids(recs), recs.model_version)
        logged = store.exposure(exp.id, recs.request_id)
        assert logged is not None and (logged.variant, list(logged.items)) == (name, ids(recs))
    assert seen == {"A": ([50, 40], "1"), "B": ([10, 20], "2"), "C": ([20, 10], "popular")}
    assert runtime.service.model.version == "1"  # the variant's model did not replace the champion
    counters = store.counters(exp.id)
    assert sum(c.exposures for c in counters.values()) == 60


def test_attribute_events_after_ingest(
    runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    exp = engine.create(ExperimentSpec(name="x", variants=(
        Variant(name="A", model="popular"), Variant(name="B", model="popular"))))  # fmt: skip
    recs, name = recommend_with_experiment(runtime, engine, "9", 3)
    assert name is not None
    rid, item = recs.request_id, ids(recs)[0]
    raw = [
        {"event_id": "c1", "user_id": "9", "item_id": item, "type": "click", "request_id": rid},
        {"event_id": "r1", "user_id": "9", "item_id": item, "type": "rate", "value": 5, "request_id": rid},
        {"event_id": "bad", "user_id": "9", "item_id": 999, "type": "click", "request_id": rid},
    ]
    outcome = runtime.service.ingest(raw)
    assert [s for _, s, _ in outcome.results] == ["applied", "applied", "rejected"]
    recorded = attribute_events(engine, outcome.applied)
    assert [(o.event_id, o.variant) for o in recorded] == [("c1", name), ("r1", name)]
    again = runtime.service.ingest(raw[:1])  # a duplicate post is not counted twice
    assert again.applied == [] and attribute_events(engine, again.applied) == []
    c = store.counters(exp.id)[name]
    assert (c.successes["ctr"], c.successes["positive_rate"], c.ratings, c.rating_sum) == (1, 1, 1, 5.0)


def test_unavailable_variant_model_falls_back_to_the_champion_without_exposure(
    runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    exp = engine.create(ExperimentSpec(name="x", variants=(
        Variant(name="A", model="champion", weight=0), Variant(name="B", model="7"))))  # fmt: skip
    recs, name = recommend_with_experiment(runtime, engine, "new", 2, models=FixedModels({}))
    assert name is None and recs.model_version == "1"
    assert store.counters(exp.id) == {}


def test_click_model_examination_probabilities() -> None:
    p = ClickModel().examine(10)
    assert p[0] == 1.0 and p[1] == pytest.approx(2**-0.8) and p[9] == pytest.approx(10**-0.8)
    assert np.all(np.diff(p) < 0)


def test_simulation_through_the_serving_path_is_repeatable(tiny_dataset: Dataset, tmp_path: Path) -> None:
    t0 = 9e8  # a plausible Unix time (events before 1980 are refused)
    future = {10: (5.0, t0), 20: (4.0, t0 + 1), 30: (2.0, t0 + 2), 40: (5.0, t0 + 3), 50: (3.0, t0 + 4)}
    users = [SimUser(f"sim-{n}", future) for n in range(40)]
    reports, counters = [], []
    for run in range(2):  # fresh service and store each time: the same seed gives the same run
        rt = make_runtime(tiny_dataset, tmp_path / f"run{run}")
        store = open_experiment_store(MemoryStateConfig(path=tmp_path / f"run{run}" / "x.db"), tmp_path)
        engine = ExperimentEngine(store, AnyVersion, cache_s=0.0)
        exp = engine.create(ExperimentSpec(name="sim", salt="s", variants=(
            Variant(name="A", model="champion"), Variant(name="B", model="popular"))))  # fmt: skip
        reports.append(simulate(InProcessClient(rt, engine), users, k=3, requests_per_user=2, seed=7))
        counters.append(store.counters(exp.id))
        rt.service.live.store.close()
        store.close()

    first, again = reports
    assert first.to_dict()["variants"] == again.to_dict()["variants"]
    for name, tally in first.variants.items():
        c = counters[0][name]
        assert (c.exposures, c.users, c.successes["ctr"]) == (
            tally.requests,
            len(tally.users),
            tally.clicked_lists,
        )
        assert c.ratings == tally.clicks and c.rating_sum == tally.rating_sum
    assert first.requests == 80 and first.clicks > 0


# -- interleaving and exploration ---------------------------------------------------------


INTERLEAVING = {"name": "champion vs popular, interleaved", "mode": "interleaving", "min_users": 2,
                "variants": [{"name": "A", "model": "champion"},
                             {"name": "B", "model": "popular"}]}  # fmt: skip


def test_interleaving_spec_needs_two_variants_and_ctr(client: TestClient) -> None:
    three = {**INTERLEAVING, "variants": [*INTERLEAVING["variants"], {"name": "C", "model": "popular"}]}
    for body in (three, {**INTERLEAVING, "primary_metric": "mean_rating"}):
        r = client.post("/v1/experiments", json=body, headers={"X-Admin-Key": KEY})
        assert r.status_code == 422 and "interleaving" in r.text


def test_interleaving_experiment_through_the_api(
    client: TestClient, runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    created = client.post("/v1/experiments", json=INTERLEAVING, headers={"X-Admin-Key": KEY})
    assert created.status_code == 200 and created.json()["mode"] == "interleaving"
    exp_id = created.json()["id"]
    champion_clicks = 0
    for n in range(30):
        user = f"user-{n}"
        recs, name = recommend_with_experiment(runtime, engine, user, 4)
        assert name == "interleaved"
        logged = store.exposure(exp_id, recs.request_id)
        assert logged is not None and list(logged.items) == ids(recs) and len(set(logged.items)) == 4
        assert sorted(logged.teams) == ["A", "A", "B", "B"]  # two rounds, one pick each
        assert all(0 < p <= 1 for p in logged.propensities) and logged.pre_activity == 0.0
        # the user clicks every item the champion's team contributed (every tenth user: nothing)
        clicks = [] if n % 10 == 9 else [{"event_id": f"{user}-{i}", "user_id": user, "item_id": i,
                                          "type": "click",
                   "request_id": recs.request_id} for i, t in zip(logged.items, logged.teams, strict=True)
                  if t == "A"]  # fmt: skip
        recorded = attribute_events(engine, runtime.service.ingest(clicks).applied)
        assert {o.variant for o in recorded} == (set() if n % 10 == 9 else {"A"})
        champion_clicks += len(recorded)
    body = client.get(f"/v1/experiments/{exp_id}/results").json()
    assert body["mode"] == "interleaving"
    il = body["interleaving"]
    assert (il["users"], il["wins_a"], il["wins_b"], il["ties"]) == (30, 27, 0, 3)
    assert il["delta"] == pytest.approx(-0.9) and il["p_value"] == pytest.approx(2 * 0.5**27)
    assert [v["successes"] for v in body["variants"]] == [27, 0] and body["variants"][0]["exposures"] == 30
    assert champion_clicks == 54
    looked = engine.look(exp_id)
    assert looked["sequential"]["reject"] and looked["decision"] == "winner:A"


def test_exploration_logs_exact_propensities_and_ab_weights(
    runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    exp = engine.create(ExperimentSpec(
        name="x", variants=(Variant(name="A", model="popular", weight=3), Variant(name="B", model="popular")),
        exploration={"type": "epsilon", "epsilon": 0.5, "pool": 3}))  # type: ignore[arg-type]  # fmt: skip
    props: set[float] = set()
    for n in range(40):
        recs, name = recommend_with_experiment(runtime, engine, f"new-{n}", 2)
        logged = store.exposure(exp.id, recs.request_id)
        assert logged is not None and logged.teams == (name, name)
        share = 0.75 if name == "A" else 0.25
        for p in logged.propensities:
            assert p / share in (pytest.approx(0.5 + 0.5 / 3), pytest.approx(0.5 / 3))
            props.add(round(p / share, 6))
    assert len(props) == 2  # both exploited and explored slots were seen


def test_cuped_beside_the_plain_estimate_in_ab_results(
    client: TestClient, runtime: SimpleNamespace, engine: ExperimentEngine, store: ExperimentStore
) -> None:
    exp = engine.create(ExperimentSpec(name="x", variants=(
        Variant(name="A", model="popular"), Variant(name="B", model="popular"))))  # fmt: skip
    for n in range(40):
        user = str(n % 5 + 1) if n < 20 else f"new-{n}"
        recs, _ = recommend_with_experiment(runtime, engine, f"{user}", 2)
        if n % 3 == 0:
            ev = {"event_id": f"c{n}", "user_id": user, "item_id": ids(recs)[0], "type": "click",
                  "request_id": recs.request_id}  # fmt: skip
            attribute_events(engine, runtime.service.ingest([ev]).applied)
    cuped = client.get(f"/v1/experiments/{exp.id}/results").json()["cuped"]
    assert len(cuped) == 1 and cuped[0]["variant"] == "B" and cuped[0]["users"] > 2
    assert cuped[0]["diff"] is not None and cuped[0]["variance_reduction"] is not None

"""ExperimentEngine: assignment, attribution, results math, SRM, decisions, auto-promote.

Unit tests inject a fake registry; the auto-promote test uses a real embedded
MLflow registry in a temporary directory. Traffic is written through the
engine (record_exposure / attribute) into a real SQLite store.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recloop.config import MemoryStateConfig
from recloop.errors import ConflictError, NotFoundError, ValidationError
from recloop.events.schema import Event
from recloop.experiments.analysis import mixing_sd
from recloop.experiments.assignment import assign
from recloop.experiments.engine import ExperimentEngine, outcome_metrics
from recloop.experiments.models import Experiment, ExperimentSpec, Variant
from recloop.experiments.sequential import msprt_p_value
from recloop.experiments.stats import proportion_ci, two_proportion_ztest, welch_ttest_arrays
from recloop.experiments.store import ExperimentStore, open_experiment_store
from recloop.registry import CHAMPION, ModelRegistry, ModelVersionInfo, PromotionResult

pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


class FakeRegistry:
    """Versions 1 and 2 exist; records promotions."""

    def __init__(self) -> None:
        self.promoted: list[int] = []

    def get(self, version_or_alias: int | str) -> ModelVersionInfo:
        ref = str(version_or_alias)
        if ref not in ("1", "2", "challenger"):
            raise NotFoundError(f"model 'recloop' has no version {ref}; versions: 1, 2")
        v = 2 if ref == "challenger" else int(ref)
        return ModelVersionInfo("recloop", v, (), "run", None, datetime.now(UTC), "READY", "file:///x")

    def promote(self, version: int) -> PromotionResult:
        self.promoted.append(version)
        return PromotionResult("promoted", version, 1)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ExperimentStore]:
    s = open_experiment_store(MemoryStateConfig(path=tmp_path / "state.db"), tmp_path)
    yield s
    s.close()


@pytest.fixture()
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture()
def engine(store: ExperimentStore, registry: FakeRegistry) -> ExperimentEngine:
    return ExperimentEngine(store, lambda: registry, seed=0, cache_s=0.0)


def spec(*variants: tuple[str, str, float], **kw: Any) -> ExperimentSpec:
    vs = variants or (("A", "champion", 1.0), ("B", "popular", 1.0))
    return ExperimentSpec(name="test", variants=tuple(Variant(name=n, model=m, weight=w) for n, m, w in vs),
                          **kw)  # fmt: skip


def event(eid: str, user: str, item: int, type: str = "click", value: float | None = None,
          ts: float = 1_000.0, rid: str | None = None) -> Event:  # fmt: skip
    return Event(eid, user, 0, item, type, ts, value, rid)  # type: ignore[arg-type]


Feed = Callable[..., None]


@pytest.fixture()
def feed(engine: ExperimentEngine) -> Feed:
    """``feed(exp, variant, n, clicks, ratings=())``: n users with one list each, clicks on the first."""

    fed: dict[str, int] = {}

    def run(exp: Experiment, variant: str, n: int, clicks: int, ratings: tuple[float, ...] = (),
            users: int | None = None) -> None:  # fmt: skip
        start = fed.get(variant, 0)
        fed[variant] = start + n
        for k in range(n):
            rid, user = f"{exp.id}-{variant}-{start + k}", f"{variant}-u{start + k % (users or n)}"
            engine.record_exposure(exp, variant, user, rid, [7, 8, 9], ts=1_000.0)
            if k < clicks:
                engine.attribute(event(f"c-{rid}", user, 8, rid=rid, ts=1_001.0))
            if k < len(ratings):
                engine.attribute(event(f"r-{rid}", user, 9, "rate", ratings[k], ts=1_002.0, rid=rid))

    return run


# -- lifecycle and assignment ----------------------------------------------------------------


def test_create_list_stop_and_one_running_at_a_time(engine: ExperimentEngine) -> None:
    exp = engine.create(spec())
    assert engine.running() == exp and engine.list() == [exp]
    assert exp.salt == exp.id
    with pytest.raises(ConflictError, match=f"stop it first with POST /v1/experiments/{exp.id}/stop"):
        engine.create(spec())
    stopped = engine.stop(exp.id)
    assert stopped.status == "stopped" and stopped.stopped_at is not None
    assert engine.stop(exp.id) == stopped  # idempotent
    assert engine.running() is None
    assert engine.create(spec()).status == "running"
    with pytest.raises(NotFoundError):
        engine.stop("missing")


def test_create_checks_models_against_the_registry(engine: ExperimentEngine, store: ExperimentStore) -> None:
    with pytest.raises(ValidationError, match=r"variant 'B': model '9'.*no version 9"):
        engine.create(spec(("A", "champion", 1), ("B", "9", 1)))
    with pytest.raises(ValidationError, match="auto_promote needs a variant"):
        engine.create(spec(auto_promote=True))
    assert engine.create(spec(("A", "champion", 1), ("B", "2", 1), ("C", "challenger", 1)))
    offline = ExperimentEngine(store)  # no registry: registry models cannot be checked
    with pytest.raises(ValidationError, match="no model registry"):
        offline.create(spec(("A", "champion", 1), ("B", "1", 1)))


def test_spec_validation_messages() -> None:
    with pytest.raises(ValueError, match="not a model"):
        Variant(name="A", model="ease")
    with pytest.raises(ValueError, match="unique"):
        spec(("A", "champion", 1), ("A", "popular", 1))
    with pytest.raises(ValueError, match="at least 2"):
        ExperimentSpec(name="x", variants=(Variant(name="A", model="champion"),))
    assert Variant(name="B", model="007").model == "7"


def test_ab_assignment_is_the_salted_hash_with_weights(engine: ExperimentEngine) -> None:
    exp = engine.create(spec(("A", "champion", 0.8), ("B", "popular", 0.2), salt="s1"))
    users = [f"user-{n}" for n in range(20_000)]
    got = [engine.assign(exp, u).name for u in users]
    assert got == [assign(u, "s1", ["A", "B"], [0.8, 0.2]) for u in users]
    share = got.count("A") / len(got)
    assert abs(share - 0.8) < 4 * math.sqrt(0.8 * 0.2 / len(got))


@pytest.mark.slow  # starts processes
def test_ab_assignment_is_stable_across_processes(engine: ExperimentEngine, tmp_path: Path) -> None:
    exp = engine.create(spec(("A", "champion", 1), ("B", "popular", 2), ("C", "popular", 1)))
    users = [str(n) for n in range(200)]
    here = [engine.assign(exp, u).name for u in users]
    code = (
        "import json, sys\n"
        "from recloop.config import MemoryStateConfig\n"
        "from recloop.experiments.engine import ExperimentEngine\n"
        "from recloop.experiments.store import open_experiment_store\n"
        "store = open_experiment_store(MemoryStateConfig(path=sys.argv[1]), None)\n"
        "engine = ExperimentEngine(store)\n"
        "exp = engine.running()\n"
        "print(json.dumps([engine.assign(exp, str(n)).name for n in range(200)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "state.db")], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "123"})  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here
    assert set(here) == {"A", "B", "C"}


def test_bandit_assignment_is_sticky_and_follows_the_posteriors(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(mode="bandit"))
    first = engine.assign(exp, "sticky").name
    assert all(engine.assign(exp, "sticky").name == first for _ in range(20))
    feed(exp, "A", 300, 15)  # 5%
    feed(exp, "B", 300, 90)  # 30%
    fresh = [engine.assign(exp, f"new-{n}").name for n in range(200)]
    assert fresh.count("B") >= 195


# -- attribution ------------------------------------------------------------------------------


def test_outcome_metrics_per_event_type() -> None:
    assert outcome_metrics("click", None) == {"ctr": 1.0, "positive_rate": 1.0}
    assert outcome_metrics("like", None) == {"like_rate": 1.0, "positive_rate": 1.0}
    assert outcome_metrics("purchase", None) == {"positive_rate": 1.0}
    assert outcome_metrics("rate", 4.0) == {"mean_rating": 4.0, "positive_rate": 1.0}
    assert outcome_metrics("rate", 3.0) == {"mean_rating": 3.0, "positive_rate": 0.0}
    assert outcome_metrics("view", None) == {} and outcome_metrics("dislike", None) == {}


def test_attribution_by_request_id(engine: ExperimentEngine, store: ExperimentStore) -> None:
    exp = engine.create(spec())
    engine.record_exposure(exp, "B", "u1", "req-1", [10, 20, 30], ts=1_000.0)

    out = engine.attribute(event("e1", "u1", 20, rid="req-1", ts=99_999.0))  # no window with request_id
    assert out is not None and (out.variant, out.request_id, out.item_id) == ("B", "req-1", 20)
    assert engine.attribute(event("e1", "u1", 20, rid="req-1")) is None  # duplicate event
    assert engine.attribute(event("e2", "u1", 99, rid="req-1")) is None  # item not in the list
    assert engine.attribute(event("e3", "u2", 20, rid="req-1")) is None  # another user
    assert engine.attribute(event("e4", "u1", 20, rid="unknown")) is None
    assert engine.attribute(event("e5", "u1", 20, "view", rid="req-1")) is None
    assert store.counters(exp.id)["B"].successes["ctr"] == 1


def test_attribution_by_window_uses_the_latest_exposure(
    engine: ExperimentEngine, store: ExperimentStore
) -> None:
    exp = engine.create(spec(attribution_window_s=600))
    engine.record_exposure(exp, "A", "u1", "old", [1, 2], ts=1_000.0)
    engine.record_exposure(exp, "A", "u1", "new", [3, 4], ts=2_000.0)

    assert engine.attribute(event("w1", "u1", 1, ts=2_100.0)) is None  # only in the older list
    hit = engine.attribute(event("w2", "u1", 3, "like", ts=2_100.0))
    assert hit is not None and hit.request_id == "new" and hit.metrics == {"like_rate": 1, "positive_rate": 1}
    assert engine.attribute(event("w3", "u1", 4, ts=2_601.0)) is None  # after the window
    assert engine.attribute(event("w4", "u1", 4, ts=1_999.0)) is None  # before the exposure
    assert engine.attribute(event("w5", "u2", 3, ts=2_100.0)) is None  # user never exposed
    engine.stop(exp.id)
    assert engine.attribute(event("w6", "u1", 3, ts=2_100.0)) is None  # stopped: no attribution
    assert [o.event_id for o in store.outcomes(exp.id)] == ["w2"]


# -- results ----------------------------------------------------------------------------------

RESULT_KEYS = {
    "mode",
    "interleaving",
    "cuped",
    "id",
    "name",
    "status",
    "variants",
    "lift",
    "lift_ci",
    "p_value",
    "sequential",
    "srm",
    "decision",
}


def test_results_match_the_stats_functions(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(planned_exposures=1000))
    feed(exp, "A", 1000, 100)
    feed(exp, "B", 1000, 130)
    r: dict[str, Any] = engine.look(exp.id)

    assert set(r) == RESULT_KEYS
    a, b = r["variants"]
    assert (a["name"], a["model"], a["exposures"], a["successes"]) == ("A", "champion", 1000, 100)
    w = proportion_ci(130, 1000)
    assert b["rate"] == pytest.approx(0.13) and b["ci"] == pytest.approx([w.ci_low, w.ci_high])
    z = two_proportion_ztest(100, 1000, 130, 1000)
    assert r["lift"] == pytest.approx(z.relative_lift) and r["lift"] == pytest.approx(0.3)
    assert r["lift_ci"] == pytest.approx(list(z.lift_ci))
    assert r["p_value"] == pytest.approx(z.p_value)
    var = 0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000
    expected = float(msprt_p_value(0.03, var, mixing_sd(exp.spec)))
    assert r["sequential"]["p_value"] == pytest.approx(expected)
    assert r["sequential"]["reject"] is False and r["decision"] == "running"
    assert r["srm"]["mismatch"] is False and r["srm"]["p_value"] == pytest.approx(1.0)


def test_mean_rating_uses_welch_and_t_intervals(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(primary_metric="mean_rating"))
    ra = tuple(float(x) for x in np.random.default_rng(1).integers(1, 6, 60))
    rb = tuple(float(x) for x in np.random.default_rng(2).integers(2, 6, 50))
    feed(exp, "A", 80, 0, ra)
    feed(exp, "B", 80, 0, rb)
    r: dict[str, Any] = engine.look(exp.id)

    a, b = r["variants"]
    assert (a["exposures"], a["successes"], b["successes"]) == (80, 60, 50)
    assert a["rate"] == pytest.approx(np.mean(ra))
    welch = welch_ttest_arrays(ra, rb)
    assert r["p_value"] == pytest.approx(welch.p_value)
    assert r["lift"] == pytest.approx(welch.relative_lift)
    sd = np.std(ra, ddof=1) / math.sqrt(60)
    assert a["ci"][1] - a["rate"] == pytest.approx(2.0010 * sd, rel=1e-3)  # t_{0.975, 59}


def test_winner_when_the_sequential_test_rejects(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(planned_exposures=2000))
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 2000, 400)
    r: dict[str, Any] = engine.look(exp.id)
    assert r["sequential"]["reject"] is True and r["sequential"]["p_value"] < 1e-6
    assert r["decision"] == "winner:B"
    assert engine.stop(exp.id) and engine.look(exp.id)["decision"] == "winner:B"


def test_control_wins_when_the_treatment_is_worse(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec())
    feed(exp, "A", 2000, 400)
    feed(exp, "B", 2000, 200)
    r: dict[str, Any] = engine.look(exp.id)
    assert r["decision"] == "winner:A" and r["lift"] == pytest.approx(-0.5)


def test_no_difference_once_stopped_without_rejection(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec())
    feed(exp, "A", 300, 30)
    feed(exp, "B", 300, 31)
    assert engine.look(exp.id)["decision"] == "running"
    engine.stop(exp.id)
    r: dict[str, Any] = engine.look(exp.id)
    assert (r["status"], r["decision"]) == ("stopped", "no difference")


def test_empty_experiment_reports_nulls(engine: ExperimentEngine) -> None:
    r: dict[str, Any] = engine.look(engine.create(spec()).id)
    assert r["variants"][0] == {"name": "A", "model": "champion", "exposures": 0, "successes": 0,
                                "rate": None, "ci": [None, None]}  # fmt: skip
    assert (r["lift"], r["lift_ci"], r["p_value"]) == (None, [None, None], None)
    assert r["sequential"] == {"p_value": 1.0, "reject": False}
    assert r["srm"] == {"p_value": None, "mismatch": False} and r["decision"] == "running"


def test_srm_flags_a_skewed_split_and_blocks_the_decision(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec())
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 1700, 400)
    r: dict[str, Any] = engine.look(exp.id)
    assert r["srm"]["mismatch"] is True and r["srm"]["p_value"] < 1e-3
    assert r["sequential"]["reject"] is True and r["decision"] == "running"


def test_clustered_lists_shrink_the_effective_sample(engine: ExperimentEngine) -> None:
    exp = engine.create(spec())
    for variant, clickers in (("A", 20), ("B", 30)):  # 100 users x 5 lists; a clicker clicks all 5
        for u in range(100):
            for j in range(5):
                rid, user = f"{variant}-{u}-{j}", f"{variant}-{u}"
                engine.record_exposure(exp, variant, user, rid, [1], ts=0.0)
                if u < clickers:
                    engine.attribute(event(f"c-{rid}", user, 1, rid=rid))
    r: dict[str, Any] = engine.look(exp.id)

    assert [(v["exposures"], v["successes"]) for v in r["variants"]] == [(500, 100), (500, 150)]
    z = two_proportion_ztest(20, 100, 30, 100)  # deff = 5: the 100 users are the sample
    assert r["p_value"] == pytest.approx(z.p_value) and r["p_value"] > 0.05
    assert r["p_value"] > 10 * two_proportion_ztest(100, 500, 150, 500).p_value
    w = proportion_ci(30, 100)
    assert r["variants"][1]["ci"] == pytest.approx([w.ci_low, w.ci_high])


def test_sequential_looks_wait_for_min_users(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(min_users=100))
    feed(exp, "A", 60, 0)
    feed(exp, "B", 60, 30)  # overwhelming, but only 60 users per arm
    r: dict[str, Any] = engine.look(exp.id)
    assert r["p_value"] < 1e-8 and r["sequential"] == {"p_value": 1.0, "reject": False}
    feed(exp, "A", 40, 0)
    feed(exp, "B", 40, 20)
    assert engine.look(exp.id)["decision"] == "winner:B"


def test_srm_counts_users_not_lists(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec())
    feed(exp, "A", 1500, 0, users=500)  # 3 lists per user
    feed(exp, "B", 520, 0)
    r: dict[str, Any] = engine.look(exp.id)
    assert r["srm"]["mismatch"] is False and r["srm"]["p_value"] > 0.1


def test_guardrail_breach_blocks_the_winner(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(guardrails=("mean_rating",)))
    feed(exp, "A", 2000, 200, (5.0, 4.0) * 100)
    feed(exp, "B", 2000, 400, (2.0, 1.0) * 100)  # more clicks, much worse ratings
    r: dict[str, Any] = engine.look(exp.id)
    assert r["sequential"]["reject"] is True and r["decision"] == "running"
    engine.stop(exp.id)
    assert engine.look(exp.id)["decision"] == "no difference"


def test_guardrail_without_harm_keeps_the_winner(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(guardrails=("mean_rating",)))
    feed(exp, "A", 2000, 200, (4.0, 3.0) * 50)
    feed(exp, "B", 2000, 400, (4.0, 3.0) * 50)
    assert engine.look(exp.id)["decision"] == "winner:B"


def test_three_variants_best_significant_treatment_wins(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(("A", "champion", 1), ("B", "popular", 1), ("C", "popular", 1)))
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 2000, 300)
    feed(exp, "C", 2000, 420)
    r: dict[str, Any] = engine.look(exp.id)
    assert r["decision"] == "winner:C"
    assert r["lift"] == pytest.approx(1.1)


def test_sequential_p_value_is_a_running_minimum(engine: ExperimentEngine, feed: Feed) -> None:
    exp = engine.create(spec(planned_exposures=500))
    feed(exp, "A", 500, 50)
    feed(exp, "B", 500, 100)
    early = engine.look(exp.id)["sequential"]["p_value"]
    feed(exp, "A", 500, 50)
    feed(exp, "B", 500, 0)  # B falls back to A's rate: this look alone carries no evidence
    later = engine.look(exp.id)
    assert early < 0.05 and later["sequential"]["p_value"] == early  # the always-valid p never rises
    assert later["p_value"] == pytest.approx(1.0)


def test_auto_promote_with_the_fake_registry(
    engine: ExperimentEngine, feed: Feed, registry: FakeRegistry
) -> None:
    exp = engine.create(spec(("A", "champion", 1), ("B", "2", 1), auto_promote=True))
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 2000, 400)
    r: dict[str, Any] = engine.look(exp.id)
    assert (r["decision"], r["status"]) == ("winner:B", "stopped")
    assert registry.promoted == [2] and engine.get(exp.id).promoted_version == 2
    engine.look(exp.id)
    assert registry.promoted == [2]  # once


# -- auto-promote against a real embedded MLflow registry --------------------------------------


def test_auto_promote_moves_the_champion_alias(tmp_path: Path, store: ExperimentStore) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "model.bin").write_bytes(b"\x00" * 64)
    registry = ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}", model_name="exp-test",
                             cache_dir=tmp_path / "models")  # fmt: skip
    v1 = registry.log_version(bundle, {}, {}, {}, "# v1", "v1")
    v2 = registry.log_version(bundle, {}, {}, {}, "# v2", "v2")
    registry.promote(v1.version)

    engine = ExperimentEngine(store, lambda: registry, cache_s=0.0)
    exp = engine.create(spec(("A", "champion", 1), ("B", str(v2.version), 1), auto_promote=True))
    for variant, clicks in (("A", 150), ("B", 450)):
        for k in range(1500):
            rid = f"{variant}-{k}"
            engine.record_exposure(exp, variant, rid, rid, [1], ts=0.0)
            if k < clicks:
                engine.attribute(event(f"e-{rid}", rid, 1, rid=rid))
    r: dict[str, Any] = engine.look(exp.id)

    assert r["decision"] == "winner:B" and r["status"] == "stopped"
    assert registry.alias_version(CHAMPION) == v2.version
    assert engine.get(exp.id).promoted_version == v2.version


def test_reading_results_stores_nothing_and_promotes_nothing(
    engine: ExperimentEngine, feed: Feed, registry: FakeRegistry
) -> None:
    """GET results is a pure read: only a scheduled look folds the sequential state and promotes."""
    exp = engine.create(spec(("A", "champion", 1), ("B", "2", 1), auto_promote=True))
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 2000, 400)
    peeked = [engine.results(exp.id) for _ in range(3)]
    assert {r["decision"] for r in peeked} == {"winner:B"}  # what a look would decide
    assert all(r["status"] == "running" for r in peeked) and registry.promoted == []
    assert engine.store.sequential_p(exp.id, "ctr:B:+") == 1.0  # nothing folded in
    looked = engine.look(exp.id)
    assert looked["status"] == "stopped" and registry.promoted == [2]
    assert engine.store.sequential_p(exp.id, "ctr:B:+") < 0.05


def test_the_supervisor_looks_at_the_running_experiment(
    engine: ExperimentEngine, feed: Feed, registry: FakeRegistry
) -> None:
    from recloop.experiments.supervisor import ExperimentSupervisor

    sup = ExperimentSupervisor(engine, interval_s=3600)
    assert sup.look_now() is None  # nothing runs
    exp = engine.create(spec(("A", "champion", 1), ("B", "2", 1), auto_promote=True))
    feed(exp, "A", 2000, 200)
    feed(exp, "B", 2000, 400)
    assert sup.look_now() == "winner:B" and registry.promoted == [2] and sup.looks == 1
    assert engine.get(exp.id).status == "stopped"

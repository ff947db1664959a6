"""One contract suite for every ExperimentStore backend (SQLite file and real Redis).

Redis tests use the server on 127.0.0.1:6379 under a unique key prefix per
test and delete that prefix afterwards with SCAN + UNLINK. If the server is
not running they fail (never skip) with the command that starts it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.errors import ConflictError, DependencyUnavailableError, NotFoundError
from recloop.experiments.models import Experiment, ExperimentSpec, Exposure, Outcome, Variant
from recloop.experiments.store import ExperimentStore, open_experiment_store

REDIS_URL = "redis://127.0.0.1:6379/0"
StoreOpener = Callable[[], ExperimentStore]


def _scan_delete(prefix: str) -> int:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.unlink(*keys)
        return len(keys)
    finally:
        client.close()


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreOpener]:
    """``open()`` -> a store on the same data each call (a second call is a restart)."""
    if request.param == "redis":
        request.getfixturevalue("redis_url")  # fails loudly with the start command if Redis is down
        config: MemoryStateConfig | RedisStateConfig = RedisStateConfig(
            url=REDIS_URL, prefix=f"recloop-test-{uuid.uuid4().hex}"
        )
    else:
        config = MemoryStateConfig(path=tmp_path / "state" / "state.db")
    opened: list[ExperimentStore] = []

    def open_() -> ExperimentStore:
        store = open_experiment_store(config, tmp_path)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        store.close()
    if isinstance(config, RedisStateConfig):
        _scan_delete(f"{config.prefix}-exp:")


@pytest.fixture()
def store(open_store: StoreOpener) -> ExperimentStore:
    return open_store()


def experiment(exp_id: str = "e1", minutes: int = 0, name: str = "test") -> Experiment:
    spec = ExperimentSpec(name=name, variants=(Variant(name="A", model="champion"),
                                               Variant(name="B", model="popular")))  # fmt: skip
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return Experiment(id=exp_id, spec=spec, created_at=created)


def exposure(rid: str, user: str = "u1", variant: str = "A", ts: float = 100.0, exp: str = "e1") -> Exposure:
    return Exposure(exp, variant, user, rid, (10, 20, 30), ts)


def outcome(eid: str, rid: str, metrics: dict[str, float], variant: str = "A", exp: str = "e1") -> Outcome:
    return Outcome(exp, variant, rid, "u1", eid, 10, metrics, 101.0)


def test_experiments_round_trip_newest_first_and_conflict(store: ExperimentStore) -> None:
    old, new = experiment("e1", 0, "old"), experiment("e2", 5, "new")
    store.add_experiment(old)
    store.add_experiment(new)

    assert store.get_experiment("e1") == old
    assert [e.id for e in store.list_experiments()] == ["e2", "e1"]
    with pytest.raises(ConflictError):
        store.add_experiment(experiment("e1"))
    with pytest.raises(NotFoundError, match="nope"):
        store.get_experiment("nope")
    with pytest.raises(NotFoundError):
        store.save_experiment(experiment("nope"))

    stopped = old.model_copy(update={"status": "stopped", "stopped_at": datetime(2026, 1, 2, tzinfo=UTC)})
    store.save_experiment(stopped)
    assert store.get_experiment("e1") == stopped


def test_claim_variant_is_sticky(store: ExperimentStore) -> None:
    assert store.claim_variant("e1", "u1", "B") == "B"
    assert store.claim_variant("e1", "u1", "A") == "B"
    assert store.claim_variant("e2", "u1", "A") == "A"  # experiments are independent


def test_exposures_count_once_per_request_and_users_once(store: ExperimentStore) -> None:
    assert store.add_exposure(exposure("r1", "u1", "A", 100.0))
    assert store.add_exposure(exposure("r2", "u1", "A", 200.0))
    assert not store.add_exposure(exposure("r2", "u1", "A", 300.0))  # same request: ignored
    assert store.add_exposure(exposure("r3", "u2", "B", 150.0))

    c = store.counters("e1")
    assert (c["A"].exposures, c["A"].users, c["B"].exposures, c["B"].users) == (2, 1, 1, 1)
    assert store.exposure("e1", "r2") == exposure("r2", "u1", "A", 200.0)
    assert store.exposure("e1", "missing") is None
    assert store.exposure("e2", "r1") is None
    latest = store.latest_exposure("e1", "u1")
    assert latest is not None and latest.request_id == "r2"
    assert store.latest_exposure("e1", "nobody") is None
    assert store.counters("e2") == {}


def test_outcomes_success_once_per_exposure_and_rating_sums(store: ExperimentStore) -> None:
    store.add_exposure(exposure("r1"))
    store.add_exposure(exposure("r2", "u2", "B"))
    assert store.add_outcome(outcome("c1", "r1", {"ctr": 1.0, "positive_rate": 1.0}))
    assert store.add_outcome(outcome("c2", "r1", {"ctr": 1.0, "positive_rate": 1.0}))  # same list
    assert not store.add_outcome(outcome("c2", "r1", {"ctr": 1.0}))  # duplicate event id
    assert store.add_outcome(outcome("r-a", "r1", {"mean_rating": 5.0, "positive_rate": 1.0}))
    assert store.add_outcome(outcome("r-b", "r1", {"mean_rating": 2.0, "positive_rate": 0.0}))
    assert store.add_outcome(outcome("l1", "r2", {"like_rate": 1.0, "positive_rate": 1.0}, "B"))

    a, b = store.counters("e1")["A"], store.counters("e1")["B"]
    assert dict(a.successes) == {"ctr": 1, "like_rate": 0, "positive_rate": 1}
    assert (a.ratings, a.rating_sum, a.rating_sumsq) == (2, 7.0, 29.0)
    assert dict(b.successes) == {"ctr": 0, "like_rate": 1, "positive_rate": 1}
    assert [o.event_id for o in store.outcomes("e1")] == ["c1", "c2", "r-a", "r-b", "l1"]
    assert store.outcomes("e1")[2] == outcome("r-a", "r1", {"mean_rating": 5.0, "positive_rate": 1.0})


def test_per_user_cross_sums(store: ExperimentStore) -> None:
    store.add_exposure(exposure("r1", "u1"))
    store.add_exposure(exposure("r2", "u1"))
    store.add_outcome(outcome("c1", "r1", {"ctr": 1.0, "positive_rate": 1.0}))
    store.add_outcome(outcome("c2", "r2", {"like_rate": 1.0, "positive_rate": 1.0}))
    store.add_exposure(exposure("r3", "u1"))  # n_u = 3 lists, x_u = 1 click, 2 positives
    store.add_exposure(exposure("r4", "u2"))  # n_u = 1
    store.add_outcome(outcome("s1", "r1", {"mean_rating": 5.0}))
    store.add_outcome(outcome("s2", "r2", {"mean_rating": 2.0}))  # u1: k_u = 2 ratings, r_u = 7

    a = store.counters("e1")["A"]
    assert (a.exposures, a.users, a.n_sq) == (4, 2, 3**2 + 1**2)
    assert (a.x_sq["ctr"], a.xn["ctr"]) == (1**2, 1 * 3)
    assert (a.x_sq["positive_rate"], a.xn["positive_rate"]) == (2**2, 2 * 3)
    assert (a.x_sq["like_rate"], a.xn["like_rate"]) == (1, 3)
    assert (a.k_sq, a.r_sq, a.rk) == (2**2, 7.0**2, 7.0 * 2)


def test_sequential_running_minimum(store: ExperimentStore) -> None:
    assert store.min_sequential_p("e1", "ctr:B:+", 0.5) == 0.5
    assert store.min_sequential_p("e1", "ctr:B:+", 0.8) == 0.5
    assert store.min_sequential_p("e1", "ctr:B:+", 0.01) == pytest.approx(0.01)
    assert store.min_sequential_p("e1", "ctr:B:-", 1.0) == 1.0
    assert store.min_sequential_p("e2", "ctr:B:+", 0.9) == 0.9


def test_state_survives_a_restart(open_store: StoreOpener) -> None:
    first = open_store()
    first.add_experiment(experiment())
    first.add_exposure(exposure("r1"))
    first.add_outcome(outcome("c1", "r1", {"ctr": 1.0}))
    first.min_sequential_p("e1", "k", 0.2)
    first.close()

    second = open_store()
    assert second.get_experiment("e1") == experiment()
    assert second.exposure("e1", "r1") == exposure("r1")
    assert second.counters("e1")["A"].successes["ctr"] == 1
    assert not second.add_outcome(outcome("c1", "r1", {"ctr": 1.0}))
    assert second.min_sequential_p("e1", "k", 0.3) == 0.2


def test_concurrent_writes_are_counted_exactly(store: ExperimentStore) -> None:
    def work(t: int) -> None:
        for n in range(50):
            rid = f"r{t}-{n}"
            store.add_exposure(exposure(rid, f"u{t}", "A"))
            store.add_outcome(outcome(f"c{t}-{n}", rid, {"ctr": 1.0}))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    a = store.counters("e1")["A"]
    assert (a.exposures, a.users, a.successes["ctr"]) == (200, 4, 200)


def test_clear_deletes_everything(store: ExperimentStore) -> None:
    store.add_experiment(experiment())
    store.add_exposure(exposure("r1"))
    store.clear()
    assert store.list_experiments() == []
    assert store.counters("e1") == {}
    assert store.exposure("e1", "r1") is None


def test_memory_backend_file_location(tmp_path: Path) -> None:
    beside = open_experiment_store(MemoryStateConfig(path=tmp_path / "s" / "state.db"), tmp_path / "home")
    home = open_experiment_store(MemoryStateConfig(), tmp_path / "home")
    try:
        assert (tmp_path / "s" / "experiments.db").exists()
        assert (tmp_path / "home" / "experiments.db").exists()
    finally:
        beside.close()
        home.close()


def test_redis_down_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(DependencyUnavailableError, match="RECLOOP_STATE__TYPE=memory"):
        open_experiment_store(RedisStateConfig(url="redis://127.0.0.1:1/0", prefix="x"), tmp_path)


@pytest.mark.redis
def test_redis_keys_stay_under_their_own_prefix(tmp_path: Path) -> None:
    prefix = f"recloop-test-{uuid.uuid4().hex}"
    store = open_experiment_store(RedisStateConfig(url=REDIS_URL, prefix=prefix), tmp_path)
    try:
        store.add_experiment(experiment())
        store.add_exposure(exposure("r1"))
        client = redis.Redis.from_url(REDIS_URL)
        keys = [k.decode() for k in client.scan_iter(match=f"{prefix}*")]
        client.close()
        # never under the feature store's "<prefix>:" (its clear() would wipe them)
        assert keys and all(k.startswith(f"{prefix}-exp:") for k in keys)
        store.clear()
        assert _scan_delete(prefix) == 0
    finally:
        store.close()


def test_exposures_keep_teams_propensities_and_pre_activity(store: ExperimentStore) -> None:
    store.add_experiment(experiment())
    e = Exposure("e1", "interleaved", "u1", "r1", (7, 3, 9), 100.0, ("A", "B", "A"), (0.5, 0.25, 1.0), 12.0)
    plain = exposure("r2", ts=101.0)
    assert store.add_exposure(e) and store.add_exposure(plain)
    assert store.exposure("e1", "r1") == e
    assert store.latest_exposure("e1", "u1") == plain
    assert store.exposures("e1") == [e, plain]
    assert store.exposures("other") == []
    assert plain.teams == () and plain.propensities == () and plain.pre_activity is None


def test_six_field_exposures_written_before_still_decode() -> None:
    import orjson

    from recloop.experiments.store import decode_exposure

    old = decode_exposure(orjson.dumps(["e1", "A", "u1", "r1", [1, 2], 5.0]))
    assert old == Exposure("e1", "A", "u1", "r1", (1, 2), 5.0)

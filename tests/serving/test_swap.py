"""Hot model swap under load: zero failed requests, old model strictly before the new one."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

import recloop.ranking.ranker as ranker_module
from recloop.api.app import create_app
from recloop.config import MemoryStateConfig, Settings
from recloop.data import Dataset
from recloop.pipelines.train import train_and_register
from recloop.pipelines.twostage import TwoStageConfig
from recloop.ranking.ranker import RankerConfig
from recloop.registry import ModelRegistry, registry_from_settings
from recloop.serving.runtime import Runtime
from recloop.serving.swap import ModelWatcher, SwapEvent

TINY = TwoStageConfig(max_queries=300, ranker=RankerConfig(max_rounds=20))
THREADS, PER_THREAD = 3, 100


@dataclass(frozen=True)
class Served:
    client: TestClient
    settings: Settings
    registry: ModelRegistry

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, movielens: Dataset, recbole_wheel: Path
) -> Iterator[Served]:
    """v1 trained (tiny config), v2 = the same bundle registered again, v3 = a broken bundle."""
    home = tmp_path_factory.mktemp("swap_home")
    (home / "data").mkdir()
    shutil.copyfile(recbole_wheel, home / "data" / recbole_wheel.name)
    settings = Settings(home=home, state=MemoryStateConfig(path=home / "swap_state.db"),
                        admin_api_key="swap-test-admin-key")
    with pytest.MonkeyPatch.context() as mp:
        # LightGBM on every core of a loaded 2-core machine spins 10x slower than on one.
        mp.setattr(ranker_module, "cpu_count", lambda: 1)
        assert train_and_register(settings, TINY, dataset=movielens).became_champion
    reg = registry_from_settings(settings)
    assert reg.log_version(reg.download(1), {}, {}, {"copy_of": "1"}, "copy", "copy").version == 2
    broken = home / "broken_bundle"
    broken.mkdir()
    (broken / "meta.json").write_text(json.dumps({"format": -1}))
    assert reg.log_version(broken, {}, {}, {}, "broken", "broken").version == 3
    with TestClient(create_app(settings)) as client:
        yield Served(client, settings, reg)


Response = tuple[float, float, int, str | None]


def test_swap_under_load_loses_no_request(served: Served) -> None:
    runtime = served.runtime
    assert runtime.service.model.version == "1"
    swaps: list[SwapEvent] = []
    watcher = ModelWatcher(runtime.service, served.settings, runtime.dataset, on_swap=swaps.append)
    assert watcher.check_now() is None  # champion unchanged: nothing to do
    results: list[list[Response]] = [[] for _ in range(THREADS)]

    def hammer(k: int) -> None:
        n = 0  # PER_THREAD requests, then more (bounded) until this client saw the new model
        while n < PER_THREAD or (sum(r[3] == "2" for r in results[k]) < 10 and n < 2000):
            t0 = time.perf_counter()
            r = served.client.get(f"/v1/users/{1 + (k * PER_THREAD + n) % 900}/recommendations")
            version = r.json().get("model_version") if r.status_code == 200 else None
            results[k].append((t0, time.perf_counter(), r.status_code, version))
            n += 1

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    while sum(map(len, results)) < 60:
        time.sleep(0.005)
    served.registry.promote(2)
    swap_start = time.perf_counter()
    assert watcher.check_now() == "2"
    swap_end = time.perf_counter()
    for t in threads:
        t.join()

    flat = [r for per in results for r in per]
    assert len(flat) >= THREADS * PER_THREAD
    assert [r for r in flat if r[2] != 200] == []  # zero failed requests
    versions = [r[3] for r in flat]
    assert versions.count("1") >= 60 and versions.count("2") >= 3 * 10
    for per in results:  # each client sees the old model, then only the new one
        seq = [r[3] for r in per]
        assert seq == sorted(seq), seq
    # no request that began after the swap got the old model, none that ended before it the new
    assert all(t0 < swap_end for t0, _, _, v in flat if v == "1")
    assert all(t1 > swap_start for _, t1, _, v in flat if v == "2")
    assert [(e.version, e.previous) for e in swaps] == [("2", "1")]
    assert served.client.get("/ready").json()["model_version"] == "2"
    # the app's own swap callback rebuilds the drift reference from the new model's lists
    app = served.client.app
    assert app.state.monitor.reference_version == "1"  # type: ignore[attr-defined]
    app.state.watcher.on_swap(swaps[0])  # type: ignore[attr-defined]
    assert served.client.get("/v1/monitoring/drift").json()["reference_model_version"] == "2"
    print(
        f"swap: {len(flat)} requests, {versions.count('1')} on v1 then {versions.count('2')} "
        f"on v2; load+warm-up {swaps[0].load_s:.2f}s, swap call {swap_end - swap_start:.2f}s"
    )


def test_background_watcher_keeps_old_model_on_a_broken_bundle(served: Served) -> None:
    service = served.runtime.service
    before = service.model.version
    other = 1 if before == "2" else 2
    watcher = ModelWatcher(service, served.settings, served.runtime.dataset, interval_s=0.05)
    with capture_logs() as logs:
        watcher.start()
        served.registry.promote(3)  # its bundle has no model files
        deadline = time.monotonic() + 20
        while not any(e["event"] == "model swap failed" for e in logs):
            assert time.monotonic() < deadline, logs
            time.sleep(0.02)
        assert service.model.version == before
        r = served.client.get("/v1/users/7/recommendations")
        assert r.status_code == 200 and r.json()["model_version"] == before
        served.registry.promote(other)
        while service.model.version != str(other):
            assert time.monotonic() < deadline, logs
            time.sleep(0.02)
    watcher.stop()
    assert not watcher.running
    failed = [e for e in logs if e["event"] == "model swap failed"]
    assert failed[0]["version"] == 3 and "no meta.json" not in failed[0]["error"]
    assert "format" in failed[0]["error"]
    assert sum(e["event"] == "model swapped" for e in logs) == 1

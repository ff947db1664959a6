"""Reproducible training: the same data, seeds and recipe give the same model and P1 figures.

Two trainings of the test recipe (:data:`tests.homes.SMALL`) on synthetic data with
structure must agree exactly: the ranker's model text and every P1 metric, also
when the second run happens in a process with another hash seed and another
number of usable cores (the training thread count is fixed, not the machine's).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import build_dataset
from homes import SMALL
from recloop.config import Settings
from recloop.data import Dataset
from recloop.evaluation.protocols import ModelBuilder, run_p1
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.inputs import replay_histories
from recloop.runtime import TRAINING_THREADS, training_thread_count
from recloop.serving.session import ModelSession

ROOT = Path(__file__).resolve().parents[2]


def clustered_dataset() -> Dataset:
    """120 users, 40 items in 4 taste clusters, 12 ratings each, distinct timestamps."""
    rng = np.random.default_rng(11)
    rows: list[tuple[int, int, int, int]] = []
    for u in range(1, 121):
        taste = u % 4
        pool = np.r_[np.arange(taste * 10, taste * 10 + 10), rng.choice(40, size=10, replace=False)]
        items = rng.choice(np.unique(pool), size=12, replace=False)
        rows += [(u, 10 * (int(i) + 1), int(rng.integers(1, 6)), 100 * k + u) for k, i in enumerate(items)]
    rows.sort(key=lambda r: r[3])
    return build_dataset(rows, 40)


def train_once(tmp: Path) -> tuple[dict[str, float], str]:
    """P1 metrics of the champion trained with SMALL, and its ranker's model text."""
    data, settings, texts = clustered_dataset(), Settings(home=tmp), []

    def build(ds: Dataset, frame: object) -> ModelSession:
        model, stats, _ = fit_two_stage(ds, frame, settings, SMALL)  # type: ignore[arg-type]
        assert model.ranker.booster is not None
        texts.append(model.ranker.booster.model_to_string())
        return ModelSession(model, stats, replay_histories(ds, frame))  # type: ignore[arg-type]

    report = run_p1(data, [ModelBuilder("champion", build, {})])
    return {k: float(v) for k, v in report.models["champion"].metrics.items()}, texts[0]


def test_training_threads_do_not_follow_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECLOOP_TRAINING_THREADS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3, 4, 5, 6, 7})
    assert training_thread_count() == TRAINING_THREADS == 2
    monkeypatch.setenv("RECLOOP_TRAINING_THREADS", "1")
    assert training_thread_count() == 1


def test_two_trainings_give_the_same_model_and_figures(tmp_path: Path) -> None:
    first, model_a = train_once(tmp_path / "a")
    second, model_b = train_once(tmp_path / "b")
    assert first["NDCG@10"] > 0.0
    assert first == second
    assert model_a == model_b


@pytest.mark.slow  # two trainings and a fresh interpreter (~25 s of CPU)
def test_a_training_in_another_process_on_one_core_gives_the_same_figures(tmp_path: Path) -> None:
    here, _ = train_once(tmp_path / "here")
    code = ("import json, sys; from pathlib import Path; from pipelines.test_reproducible "
            "import train_once; print(json.dumps(train_once(Path(sys.argv[1]))[0]))")  # fmt: skip
    path = f"{ROOT / 'src'}{os.pathsep}{ROOT / 'tests'}"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": path}
    cmd = [sys.executable, "-c", code, str(tmp_path / "there")]
    if hasattr(os, "sched_setaffinity"):
        cmd = ["taskset", "-c", "0", *cmd]
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here

"""OPE over a store's logs: the logged policy evaluated on its own logs matches its actual value."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from recloop.errors import ValidationError
from recloop.experiments.exploration import ExplorationConfig, explore
from recloop.experiments.models import Experiment, ExperimentSpec, Exposure, Outcome, Variant
from recloop.experiments.ope_logs import evaluate_policy, logged_slates, ope_gate
from recloop.experiments.sqlite_store import SQLiteExperimentStore


def test_evaluate_policy_on_logs_with_known_truth(tmp_path: Path) -> None:
    store = SQLiteExperimentStore(tmp_path / "x.db")
    spec = ExperimentSpec(
        name="x", variants=(Variant(name="A", model="champion"), Variant(name="B", model="popular"))
    )
    store.add_experiment(Experiment(id="e", spec=spec, created_at=datetime.now(UTC)))
    with pytest.raises(ValidationError):
        logged_slates(store, "e", 3)
    rng = np.random.default_rng(0)
    rel = {i: 0.6 - 0.1 * i for i in range(6)}  # item i clicked with rel[i] * examine(r)
    exam = [1.0, 0.6, 0.4]
    cfg = ExplorationConfig(type="epsilon", epsilon=0.5, pool=6)
    for n in range(3000):
        shown = explore(list(range(6)), 3, cfg, rng)
        store.add_exposure(
            Exposure("e", "A", f"u{n}", f"r{n}", shown.items, 1.0, ("A",) * 3, shown.propensities)
        )
        for r, item in enumerate(shown.items):
            if rng.random() < rel[item] * exam[r]:
                store.add_outcome(
                    Outcome("e", "A", f"r{n}", f"u{n}", f"c{n}-{item}", item, {"ctr": 1.0}, 2.0)
                )
    logs = logged_slates(store, "e", 3)
    worse = evaluate_policy(logs, lambda e: [3, 4, 5])
    truth_worse = sum(rel[i] * x for i, x in zip([3, 4, 5], exam, strict=True))
    assert worse["dr_ci"][0] <= truth_worse <= worse["dr_ci"][1]
    assert not ope_gate(worse)
    best = evaluate_policy(logs, lambda e: [0, 1, 2])
    assert (
        best["dr_ci"][0] <= sum(rel[i] * x for i, x in zip([0, 1, 2], exam, strict=True)) <= best["dr_ci"][1]
    )
    assert ope_gate(best) and best["dr"] > best["logged_ctr"] > worse["dr"]
    store.close()

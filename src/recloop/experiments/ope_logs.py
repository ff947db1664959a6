"""Off-policy evaluation of a candidate policy on an experiment's logged exposures, and a gate.

:func:`logged_slates` turns the exposure log (items, per-slot propensities)
and the outcome log (clicks) into arrays; :func:`evaluate_policy` estimates
the candidate's expected clicks per list with IPS, SNIPS and DR
(:mod:`recloop.experiments.ope`, reward model: per-item CTR x position,
2-fold cross-fitted) beside the logged policy's actual clicks per list;
:func:`ope_gate` is the retraining gate: a candidate fails only when its DR
upper confidence bound is below the logged policy's actual value (it is
significantly worse than what is serving). Only exposures with propensities
count; the candidate is a callable ``exposure -> its top-k item ids``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recloop.errors import ValidationError
from recloop.experiments.models import Exposure
from recloop.experiments.ope import PositionItemCTR, dr, ips, snips
from recloop.experiments.store import ExperimentStore

__all__ = ["LoggedSlates", "evaluate_policy", "logged_slates", "ope_gate"]


@dataclass(frozen=True)
class LoggedSlates:
    """``exposures`` with ``items``/``propensities``/``clicks`` (n, k) arrays (int64, float64, float64)."""

    exposures: list[Exposure]
    items: np.ndarray
    propensities: np.ndarray
    clicks: np.ndarray


def logged_slates(store: ExperimentStore, experiment_id: str, k: int = 10) -> LoggedSlates:
    """The experiment's exposures of ``k`` slots that carry propensities, with their clicks."""
    logged = [e for e in store.exposures(experiment_id) if len(e.items) == k and len(e.propensities) == k]
    if not logged:
        raise ValidationError(f"experiment {experiment_id!r} has no {k}-item exposures with propensities; "
                              "run one with an exploration policy (spec.exploration)")  # fmt: skip
    row = {e.request_id: i for i, e in enumerate(logged)}
    clicks = np.zeros((len(logged), k))
    for o in store.outcomes(experiment_id):
        i = row.get(o.request_id)
        if i is not None and o.metrics.get("ctr", 0.0) > 0 and o.item_id in logged[i].items:
            clicks[i, logged[i].items.index(o.item_id)] = 1.0
    items = np.array([e.items for e in logged], dtype=np.int64)
    props = np.array([e.propensities for e in logged], dtype=np.float64)
    return LoggedSlates(logged, items, props, clicks)


def evaluate_policy(logs: LoggedSlates, target: Callable[[Exposure], Sequence[int]]) -> dict[str, Any]:
    """IPS, SNIPS and DR of ``target`` (estimate, 95% CI) and the logged policy's actual clicks per list."""
    n, k = logs.items.shape
    t = np.array([list(target(e))[:k] + [-1] * max(0, k - len(list(target(e))[:k])) for e in logs.exposures])
    tp = (t == logs.items).astype(np.float64)
    n_ids = int(max(logs.items.max(), t.max())) + 1
    q_logged, q_target = np.zeros((n, k)), np.zeros(n)
    half = np.arange(n) % 2 == 0
    for fit in (half, ~half) if n >= 2 else (np.ones(n, dtype=bool),):
        m = PositionItemCTR(n_ids).fit(logs.items[fit], logs.clicks[fit])
        rest = ~fit if n >= 2 else fit
        q_logged[rest] = np.clip(m.predict(logs.items[rest]), 0, 1)
        q_target[rest] = np.clip(np.where(t[rest] >= 0, m.predict(np.maximum(t[rest], 0)), 0), 0, 1).sum(1)
    c, p = logs.clicks, logs.propensities
    out: dict[str, Any] = {"lists": n, "logged_ctr": float(c.sum(1).mean()), "metric": "clicks per list"}
    for name, e in (
        ("ips", ips(c, tp, p)),
        ("snips", snips(c, tp, p)),
        ("dr", dr(c, tp, p, q_logged, q_target)),
    ):
        out[name], out[f"{name}_ci"] = e.value, list(e.ci)
    return out


def ope_gate(report: dict[str, Any]) -> bool:
    """Retraining gate: False only if the candidate's DR upper bound is below the logged actual value."""
    return bool(report["dr_ci"][1] >= report["logged_ctr"])

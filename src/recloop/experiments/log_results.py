"""Results that need the logs, not only the counters: interleaving preferences and CUPED.

Both scan the experiment's exposure and outcome logs (O(traffic), unlike the
counter-based A/B results), so they are computed only while the exposure log
has at most :data:`MAX_SCAN` entries (beyond, ``cuped`` is empty and the
interleaving result says so in its decision).

* Interleaving (:func:`interleaving_results`): per user, clicks credited to
  each variant's team over all their lists; preference = sign of the
  difference (:mod:`recloop.experiments.interleaving`). The decision is the
  always-valid mSPRT on preferences, kept as a running minimum per direction
  like the A/B test (looks before ``min_users`` users do not count).
* CUPED (:func:`cuped_results`): per user, the primary binary metric as
  lists with a success / lists, covariate = interactions before their first
  exposure; each treatment against the control (:mod:`recloop.experiments.cuped`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from recloop.experiments.analysis import direction_key, finite
from recloop.experiments.cuped import cuped
from recloop.experiments.interleaving import SequentialPreference, summarise_preferences
from recloop.experiments.models import (
    BINARY_METRICS,
    CupedOut,
    Experiment,
    InterleavingOut,
    Results,
    SequentialOut,
    SrmOut,
    Variant,
    VariantResult,
)
from recloop.experiments.stats import proportion_ci
from recloop.experiments.store import ExperimentStore

__all__ = ["MAX_SCAN", "cuped_results", "interleaving_results"]

MAX_SCAN = 500_000


def _team_clicks(
    store: ExperimentStore, exp: Experiment
) -> tuple[int, dict[str, dict[str, int]], dict[str, int]]:
    """Interleaved lists, per user per team clicks, and per team lists with a click."""
    exposures = store.exposures(exp.id)
    users: dict[str, dict[str, int]] = {e.user_id: defaultdict(int) for e in exposures}
    lists: dict[str, set[str]] = defaultdict(set)
    for o in store.outcomes(exp.id):
        if o.metrics.get("ctr", 0.0) > 0 and o.user_id in users:
            users[o.user_id][o.variant] += 1
            lists[o.variant].add(o.request_id)
    return len(exposures), users, {k: len(v) for k, v in lists.items()}


def interleaving_results(
    store: ExperimentStore, exp: Experiment, commit: bool
) -> tuple[dict[str, Any], Variant | None]:
    """An interleaving experiment's ``Results`` and winner (None until the sequential test rejects)."""
    spec = exp.spec
    va, vb = spec.variants
    n_lists, users, clicked = _team_clicks(store, exp)
    prefs = np.array([np.sign(c[vb.name] - c[va.name]) for c in users.values()], dtype=np.int64)
    s = summarise_preferences(prefs, spec.alpha)
    seq = SequentialPreference(max(2, spec.planned_exposures), spec.alpha, min_users=spec.min_users)
    x = prefs.astype(np.float64)
    p = float(seq.look_p(len(x), x.sum(), (x * x).sum())) if len(x) >= 2 else 1.0
    direction = "+" if s.delta >= 0 else "-"
    p_dir: dict[str, float] = {}
    for d in ("+", "-"):
        key, p_d = direction_key("interleaving", vb.name, d), p if d == direction else 1.0
        p_dir[d] = (
            store.min_sequential_p(exp.id, key, p_d) if commit else min(store.sequential_p(exp.id, key), p_d)
        )
    winner = vb if p_dir["+"] < spec.alpha else va if p_dir["-"] < spec.alpha else None
    variants = []
    for v in (va, vb):
        w = proportion_ci(clicked.get(v.name, 0), n_lists, spec.alpha) if n_lists else None
        variants.append(
            VariantResult(
                name=v.name,
                model=v.model,
                exposures=n_lists,
                successes=clicked.get(v.name, 0),
                rate=w.rate if w else None,
                ci=(w.ci_low, w.ci_high) if w else (None, None),
            )
        )
    decision = (
        f"winner:{winner.name}" if winner else ("running" if exp.status == "running" else "no difference")
    )
    out = Results(
        id=exp.id,
        name=spec.name,
        status=exp.status,
        variants=variants,
        lift=finite(s.delta),
        lift_ci=(finite(s.ci[0]), finite(s.ci[1])),
        p_value=finite(s.p_value),
        sequential=SequentialOut(p_value=min(p_dir.values()), reject=min(p_dir.values()) < spec.alpha),
        srm=SrmOut(p_value=None, mismatch=False),
        decision=decision,
        mode="interleaving",
        interleaving=InterleavingOut(
            users=s.users,
            wins_a=s.wins_a,
            wins_b=s.wins_b,
            ties=s.ties,
            delta=finite(s.delta),
            ci=(finite(s.ci[0]), finite(s.ci[1])),
            p_value=finite(s.p_value),
        ),
    )
    return out.model_dump(mode="json"), winner


def _per_user(store: ExperimentStore, exp: Experiment, metric: str) -> dict[str, list[tuple[float, float]]]:
    """Per variant: (covariate, metric) per user, for users whose first exposure logged a covariate."""
    exposures = store.exposures(exp.id)
    first: dict[str, tuple[str, float | None]] = {}
    lists: dict[str, int] = defaultdict(int)
    for e in exposures:
        first.setdefault(e.user_id, (e.variant, e.pre_activity))
        lists[e.user_id] += 1
    hits: dict[str, set[str]] = defaultdict(set)
    for o in store.outcomes(exp.id):
        if o.metrics.get(metric, 0.0) > 0:
            hits[o.user_id].add(o.request_id)
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for user, (variant, pre) in first.items():
        if pre is not None:
            out[variant].append((float(np.log1p(pre)), len(hits[user]) / lists[user]))
    return out


def cuped_results(store: ExperimentStore, exp: Experiment) -> list[CupedOut]:
    """CUPED vs plain difference of each treatment against the control (empty when not computable)."""
    spec = exp.spec
    if spec.primary_metric not in BINARY_METRICS or len(store.exposures(exp.id)) > MAX_SCAN:
        return []
    data = _per_user(store, exp, spec.primary_metric)
    ctrl = np.array(data.get(spec.control.name, []), dtype=np.float64).reshape(-1, 2)
    results = []
    for v in spec.variants[1:]:
        t = np.array(data.get(v.name, []), dtype=np.float64).reshape(-1, 2)
        if len(ctrl) < 2 or len(t) < 2:
            continue
        r = cuped(ctrl[:, 1], ctrl[:, 0], t[:, 1], t[:, 0], spec.alpha)
        results.append(
            CupedOut(
                variant=v.name,
                users=len(ctrl) + len(t),
                diff=finite(r.diff),
                ci=(finite(r.ci[0]), finite(r.ci[1])),
                p_value=finite(r.p_value),
                diff_cuped=finite(r.diff_cuped),
                ci_cuped=(finite(r.ci_cuped[0]), finite(r.ci_cuped[1])),
                p_value_cuped=finite(r.p_value_cuped),
                variance_reduction=finite(r.variance_reduction),
            )
        )
    return results

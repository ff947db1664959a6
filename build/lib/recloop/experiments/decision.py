"""An experiment's decision at one look: per-arm statistics, the sequential test, SRM, the winner.

:func:`judge` computes it (``commit``: fold this look into the stored running
minimum of the always-valid p-value; otherwise only read it), :func:`render`
writes the ``Results`` object of docs/API.md. Neither promotes anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from recloop.experiments import analysis as an
from recloop.experiments.models import (
    Experiment,
    ExperimentSpec,
    Results,
    SequentialOut,
    Variant,
    VariantCounters,
    VariantResult,
)
from recloop.experiments.store import ExperimentStore

__all__ = ["Judgement", "judge", "render"]


@dataclass(frozen=True)
class Judgement:
    """One look: every arm, the reported comparison, its sequential p-value, SRM and the winner."""

    arms: list[an.ArmStats]
    comparison: Any
    p_sequential: float
    alpha: float
    srm: Any
    winner: Variant | None


def _sequential(store: ExperimentStore, exp_id: str, key: str, p: float, commit: bool) -> float:
    if commit:
        return store.min_sequential_p(exp_id, key, p)
    return min(store.sequential_p(exp_id, key), p)


def judge(store: ExperimentStore, exp: Experiment, commit: bool) -> Judgement:
    """The decision as of now; with ``commit`` this look is folded into the sequential state."""
    spec = exp.spec
    counters = store.counters(exp.id)
    metric, alpha = spec.primary_metric, spec.alpha / (len(spec.variants) - 1)
    arms = [an.arm_stats(v, counters.get(v.name, VariantCounters()), metric, spec.alpha)
            for v in spec.variants]  # fmt: skip
    control, treatments = arms[0], arms[1:]
    tau = an.mixing_sd(spec)
    seq: dict[str, dict[str, float]] = {}
    for t in treatments:
        direction, p = an.look_p_value(control, t, tau, spec.min_users)
        seq[t.variant.name] = {d: _sequential(store, exp.id, an.direction_key(metric, t.variant.name, d),
                                              p if d == direction else 1.0, commit)
                               for d in ("+", "-")}  # fmt: skip
    srm = an.srm(exp, counters)
    winner = None if srm.mismatch else _winner(spec, counters, treatments, seq, alpha)
    focus = _focus(treatments, seq, winner)
    cmp = an.compare(control, focus, metric, spec.alpha)
    return Judgement(arms, cmp, min(seq[focus.variant.name].values()), alpha, srm, winner)


def render(exp: Experiment, j: Judgement) -> dict[str, Any]:
    """The ``Results`` JSON of ``exp`` (its status as it is now) at this look."""
    winner, cmp = j.winner, j.comparison
    decision = f"winner:{winner.name}" if winner else ("running" if exp.status == "running"
                                                       else "no difference")  # fmt: skip
    out = Results(
        id=exp.id, name=exp.spec.name, status=exp.status,
        variants=[VariantResult(name=a.variant.name, model=a.variant.model, exposures=a.exposures,
                                successes=a.successes, rate=an.finite(a.mean),
                                ci=(an.finite(a.ci[0]), an.finite(a.ci[1]))) for a in j.arms],
        lift=an.finite(cmp.relative_lift) if cmp else None,
        lift_ci=(an.finite(cmp.lift_ci[0]), an.finite(cmp.lift_ci[1])) if cmp else (None, None),
        p_value=an.finite(cmp.p_value) if cmp else None,
        sequential=SequentialOut(p_value=j.p_sequential, reject=j.p_sequential < j.alpha),
        srm=j.srm, decision=decision,
    )  # fmt: skip
    return out.model_dump(mode="json")


def _winner(
    spec: ExperimentSpec, counters: dict[str, VariantCounters], treatments: Sequence[an.ArmStats],
    seq: dict[str, dict[str, float]], alpha: float,
) -> Variant | None:  # fmt: skip
    """A treatment better than control (the best such), or control if every treatment is worse."""
    better = [t for t in treatments if seq[t.variant.name]["+"] < alpha]
    if better:
        best = max(better, key=lambda t: t.mean).variant
        losers = [spec.control]
    elif all(seq[t.variant.name]["-"] < alpha for t in treatments):
        best, losers = spec.control, [t.variant for t in treatments]
    else:
        return None
    for g in spec.guardrails:
        if any(an.guardrail_breached(best, lo, counters, g, spec.alpha) for lo in losers):
            return None
    return best


def _focus(
    treatments: Sequence[an.ArmStats], seq: dict[str, dict[str, float]], winner: Variant | None
) -> an.ArmStats:
    """The comparison reported at the top level: the winning treatment, else the smallest p."""
    for t in treatments:
        if winner is not None and t.variant.name == winner.name:
            return t
    return min(treatments, key=lambda t: min(seq[t.variant.name].values()))

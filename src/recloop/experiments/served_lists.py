"""The list an experiment serves, with what the exposure log records per slot.

:func:`serve_interleaved` merges both variants' lists by team draft and logs
each slot's team and its exact propensity (the share of the equally likely
coin sequences that put that item there); :func:`serve_explored` serves one
variant's list through the spec's exploration policy and logs each slot's
exact marginal propensity times the variant's assignment probability.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from recloop.experiments.exploration import explore
from recloop.experiments.interleaving import team_draft_coins
from recloop.experiments.models import Experiment, Variant
from recloop.serving.recommender import Filters, RecItem, RecommendationList

__all__ = ["ServedList", "interleave", "serve_explored", "serve_interleaved"]


@dataclass(frozen=True)
class ServedList:
    """A list to return and log: ``teams`` and ``propensities`` have one entry per item."""

    recs: RecommendationList
    teams: tuple[str, ...]
    propensities: tuple[float, ...]


def interleave(
    a: RecommendationList, b: RecommendationList, names: tuple[str, str], k: int, rng: np.random.Generator
) -> ServedList:
    """Team-draft merge of ``a`` and ``b`` (variant ``names``) with exact per-slot propensities."""
    ids_a, ids_b = [r.item.item_id for r in a.items], [r.item.item_id for r in b.items]
    rounds = (k + 1) // 2
    merges = [
        team_draft_coins(ids_a, ids_b, k, coins) for coins in itertools.product((True, False), repeat=rounds)
    ]
    chosen = merges[int(rng.integers(len(merges)))]
    by_id: dict[int, RecItem] = {r.item.item_id: r for r in b.items}
    by_id.update({r.item.item_id: r for r in a.items})
    props = tuple(
        sum(m.items[r : r + 1] == (item,) for m in merges) / len(merges)
        for r, item in enumerate(chosen.items)
    )
    recs = replace(
        a, items=[by_id[i] for i in chosen.items], model_version=f"{a.model_version}+{b.model_version}"
    )
    return ServedList(recs, tuple(names[t] for t in chosen.teams), props)


def serve_interleaved(
    router: object, exp: Experiment, user_id: str, k: int, filters: Filters | None, rng: np.random.Generator
) -> ServedList:
    """Both variants' top-k (each team picks at most k items) merged into one list of k."""
    from recloop.experiments.serving import ExperimentRouter, serve_variant

    assert isinstance(router, ExperimentRouter)
    va, vb = exp.spec.variants
    a = serve_variant(router.runtime, va, user_id, k, filters, router.models)
    b = serve_variant(router.runtime, vb, user_id, k, filters, router.models)
    return interleave(a, b, (va.name, vb.name), k, rng)


def serve_explored(
    router: object,
    exp: Experiment,
    variant: Variant,
    user_id: str,
    k: int,
    filters: Filters | None,
    rng: np.random.Generator,
    p_variant: float,
) -> ServedList:
    """``variant``'s list through the exploration policy; propensities include ``p_variant``."""
    from recloop.experiments.serving import ExperimentRouter, serve_variant

    assert isinstance(router, ExperimentRouter)
    cfg = exp.spec.exploration
    depth = max(k, cfg.pool) if cfg.type != "none" else k
    recs = serve_variant(router.runtime, variant, user_id, depth, filters, router.models)
    by_id = {r.item.item_id: r for r in recs.items}
    shown = explore([r.item.item_id for r in recs.items], k, cfg, rng)
    out = replace(recs, items=[by_id[i] for i in shown.items])
    return ServedList(
        out, (variant.name,) * len(shown.items), tuple(p * p_variant for p in shown.propensities)
    )

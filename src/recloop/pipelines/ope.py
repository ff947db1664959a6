"""``recloop ope``: estimate a registry version's click-through on an experiment's logged traffic.

Loads the candidate (any registry version or alias) over the serving home's
data and live state, recomputes its top-k for every logged exposure that
carries propensities, and runs :func:`recloop.experiments.ope_logs.evaluate_policy`
(IPS, SNIPS, DR with 95% CIs beside the logged policy's actual clicks per
list) and the gate :func:`~recloop.experiments.ope_logs.ope_gate`.

Context approximation: the candidate ranks with the user's history as it is
*now*, with the items the user interacted with before the exposure excluded
(later interactions are put back as candidates); its personal features may
still see events after the exposure. Estimates are exact for policies whose
lists do not depend on those later events (e.g. ``popular``).
"""

from __future__ import annotations

from typing import Any

from recloop.config import Settings
from recloop.data import load_dataset
from recloop.errors import NotFoundError
from recloop.experiments.models import Exposure
from recloop.experiments.ope_logs import evaluate_policy, logged_slates, ope_gate
from recloop.experiments.store import open_experiment_store
from recloop.features.store import open_store
from recloop.serving.recommender import Filters, ServedModel
from recloop.serving.runtime import load_champion, service_for

__all__ = ["ope_report"]


def ope_report(
    settings: Settings, policy: str, experiment_id: str | None = None, k: int = 10
) -> dict[str, Any]:
    """OPE of ``policy`` on ``experiment_id`` (default: the newest experiment) of the home's store."""
    estore = open_experiment_store(settings.state, settings.home)
    try:
        exps = estore.list_experiments()
        if not exps:
            raise NotFoundError("no experiments in this home: run one with an exploration policy first")
        exp_id = experiment_id or exps[0].id
        logs = logged_slates(estore, exp_id, k)
    finally:
        estore.close()
    dataset = load_dataset(settings)
    bundle, version, _ = load_champion(settings, dataset, alias=policy)
    fstore = open_store(settings.state, dataset.n_items, settings.home, bundle.config.half_life_days)
    try:
        base = dataset.interactions.iloc[: round(settings.base_fraction * len(dataset.interactions))]
        served = ServedModel(bundle.model, version)
        service = service_for(dataset, base, fstore, served, bundle.config.half_life_days)
        catalog = service.live.catalog

        def target(e: Exposure) -> list[int]:
            h = service.history(e.user_id)
            before = {
                catalog.view(int(i)).item_id for i, t in zip(h.items, h.timestamps, strict=True) if t < e.ts
            }
            recs = service.recommend(e.user_id, k + len(h.seen), Filters(exclude_seen=False), served=served)
            return [r.item.item_id for r in recs.items if r.item.item_id not in before][:k]

        report = evaluate_policy(logs, target)
    finally:
        fstore.close()
    return {
        **report,
        "experiment": exp_id,
        "policy": policy,
        "version": version,
        "passes_gate": ope_gate(report),
    }

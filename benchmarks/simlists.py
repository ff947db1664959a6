"""Ranked lists for the vectorised experiment benchmarks (interleaving, OPE, CUPED), cached.

Setting: the P2 cut of shared/EVALUATION.md, as in ``benchmarks/experiments_ab.py``. The
two-stage model is fitted on the first 80% of MovieLens-100K in time order (the champion of
the P2 bootstrap); for every user active after the cut we store the champion's top-``pool``
list (public item ids and ranker scores) and the most-popular list, both computed over the
bootstrap history with seen items excluded, and the user's future (items after the cut) as
ground truth. Lists are static (no learning between requests), which is what lets the
benchmarks simulate thousands of experiments in numpy. The cache is ``--cache`` (an ``.npz``);
delete it to refit.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.console import Console

from recloop.config import get_settings
from recloop.data import load_dataset
from recloop.evaluation.splits import prequential_split
from recloop.experiments.listsim import Population
from recloop.experiments.serving import popular_list
from recloop.experiments.simulator import future_population
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import TwoStageConfig
from recloop.serving.recommender import ServedModel
from recloop.serving.replay import service_session

DEFAULT_CACHE = Path.home() / ".recloop" / "cache" / "simlists-p2.npz"
console = Console()


def build(pool: int = 50, max_queries: int = 3000) -> tuple[Population, dict[str, float]]:
    """Fit the champion on the P2 bootstrap and rank ``pool`` items for every future user."""
    settings = get_settings()
    data = load_dataset(settings)
    boot, _ = prequential_split(data.interactions)
    people = future_population(data, 0.8)
    cfg = TwoStageConfig(max_queries=max_queries)
    t0 = time.perf_counter()
    with console.status("fitting the two-stage model on the P2 bootstrap (80%)"):
        model, _, facts = fit_two_stage(data, boot, settings, cfg)
    fit_s = time.perf_counter() - t0
    session = service_session(data, boot, ServedModel(model, "p2-bootstrap"), cfg.half_life_days)
    n = len(people)
    champ = np.zeros((n, pool), dtype=np.int64)
    scores = np.zeros((n, pool), dtype=np.float64)
    pop = np.zeros((n, pool), dtype=np.int64)
    try:
        for u, person in enumerate(people):
            recs = session.service.recommend(person.user_id, pool)
            champ[u] = [r.item.item_id for r in recs.items]
            scores[u] = [r.score for r in recs.items]
            pop[u] = [r.item.item_id for r in popular_list(session.service, person.user_id, pool).items]
    finally:
        session.close()
    counts = boot.groupby("user_id").size()
    pre = np.array([float(counts.get(int(p.user_id), 0)) for p in people])
    futures = [np.array(sorted(p.future), dtype=np.int64) for p in people]
    population = Population.from_lists([p.user_id for p in people], champ, scores, pop, futures, pre)
    return population, {"fit_s": fit_s, **{k: float(v) for k, v in facts.items()}}


def load(cache: Path = DEFAULT_CACHE) -> Population:
    """The cached population, built (and saved) on first use."""
    if cache.exists():
        return Population.load(cache)
    population, facts = build()
    cache.parent.mkdir(parents=True, exist_ok=True)
    population.save(cache, facts)
    console.print(
        f"cached ranked lists of {population.n_users} users in {cache} ({facts['fit_s']:.0f} s fit)"
    )
    return population


if __name__ == "__main__":
    load()

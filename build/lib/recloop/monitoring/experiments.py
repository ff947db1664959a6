"""Experiment arms as Prometheus counters: exposures, attributed outcomes and their value sums.

The per-arm rate of a binary metric is ``outcome_value / exposures`` over a window; the
experiment engine's own statistics (docs/EXPERIMENTS.md) stay the basis of any decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from recloop.monitoring.metrics import Instruments

__all__ = ["OutcomeLike", "count_exposure", "count_outcomes"]


class OutcomeLike(Protocol):
    """What an attributed outcome carries for the counters."""

    @property
    def experiment_id(self) -> str: ...
    @property
    def variant(self) -> str: ...
    @property
    def metrics(self) -> Mapping[str, float]: ...


def count_exposure(instruments: Instruments, experiment_id: str, variant: str) -> None:
    """One list served to ``variant`` of ``experiment_id``."""
    instruments.exposures.labels(experiment_id, variant).inc()


def count_outcomes(instruments: Instruments, outcomes: Iterable[OutcomeLike]) -> None:
    """Every metric of every attributed outcome: a count and the sum of its values."""
    for out in outcomes:
        for metric, value in out.metrics.items():
            instruments.outcomes.labels(out.experiment_id, out.variant, metric).inc()
            instruments.outcome_value.labels(out.experiment_id, out.variant, metric).inc(value)

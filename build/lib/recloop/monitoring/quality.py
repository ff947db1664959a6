"""The served model's offline figures (from its registry record) as a Prometheus gauge.

``recloop_model_quality{version, metric}``: the metrics the registry recorded for the version
being served (P1 NDCG@10 etc., measured by `recloop train`, docs/EVALUATION.md). Read lazily
at scrape time through ``lookup`` and cached per version, so start-up never waits on the
registry and a hot swap shows up on the next scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping

import structlog
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ModelQualityCollector"]

log = structlog.get_logger("recloop.monitoring")


class ModelQualityCollector(Collector):
    """Yields the gauge for ``version()``; ``lookup(version)`` gives its metrics (may be slow)."""

    def __init__(self, version: Callable[[], str], lookup: Callable[[str], Mapping[str, float]]) -> None:
        self._version, self._lookup = version, lookup
        self._cache: tuple[str, dict[str, float]] | None = None
        self._lock = threading.Lock()

    def _metrics(self, version: str) -> dict[str, float]:
        with self._lock:
            if self._cache is None or self._cache[0] != version:
                try:
                    self._cache = (version, dict(self._lookup(version)))
                except Exception as exc:  # a registry away for a moment must not break /metrics
                    log.error("model quality lookup failed", version=version, error=repr(exc))
                    return {}
            return self._cache[1]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One sample per recorded metric of the served version."""
        version = self._version()
        g = GaugeMetricFamily("recloop_model_quality", "Offline metrics of the served model version",
                              labels=["version", "metric"])  # fmt: skip
        for name, value in sorted(self._metrics(version).items()):
            g.add_metric([version, name], float(value))
        yield g

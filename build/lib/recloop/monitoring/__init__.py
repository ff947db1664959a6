"""Monitoring: Prometheus instruments and drift detection (see :mod:`recloop.monitoring.drift`).

Submodules are imported explicitly so that importing one (e.g. the metrics)
does not pull in scipy.
"""

from __future__ import annotations

__all__: list[str] = []

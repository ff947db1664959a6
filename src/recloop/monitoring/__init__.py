"""Monitoring: drift detection between a recent window and the training reference."""

from __future__ import annotations

from recloop.monitoring.drift import DriftInputs, DriftReport, DriftThresholds, detect_drift

__all__ = ["DriftInputs", "DriftReport", "DriftThresholds", "detect_drift"]

"""Prometheus instruments of the serving process (one registry per app)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info

__all__ = ["Instruments"]

_LATENCY_BUCKETS = (0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25,
                    0.5, 1.0)  # fmt: skip


@dataclass
class Instruments:
    """Every metric recloop exports; a fresh registry per app keeps tests independent."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.request_latency = Histogram(
            "recloop_request_latency_seconds", "HTTP request latency by endpoint",
            ["method", "endpoint", "status"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.events = Counter("recloop_events_total", "Applied events by type", ["type"], registry=r)
        self.duplicates = Counter("recloop_events_duplicate_total", "Duplicate events", registry=r)
        self.rejected = Counter("recloop_events_rejected_total", "Rejected events", registry=r)
        self.foldins = Counter("recloop_foldins_total",
                               "ALS fold-ins (a user with new events, at their next request)", registry=r)
        self.user_scores = Counter(
            "recloop_user_scores_total", "History-dependent candidate scores: reused or computed",
            ["result"], registry=r,
        )  # fmt: skip
        self.store_ops = Counter(
            "recloop_feature_store_ops_total", "Feature store operations", ["op"], registry=r
        )
        self.candidates = Histogram(
            "recloop_candidates", "Candidates per request by source", ["source"],
            buckets=(0, 10, 20, 50, 100, 150, 200, 300), registry=r,
        )  # fmt: skip
        self.model_info = Info("recloop_model", "The model version serving", registry=r)
        self.retrains = Counter(
            "recloop_retrain_runs_total", "Retraining runs by outcome", ["outcome"], registry=r
        )
        for outcome in ("promoted", "kept", "failed"):  # series exist at 0 before the first run
            self.retrains.labels(outcome)
        self.drift = Gauge("recloop_drift_score", "Latest drift statistic", ["name"], registry=r)
        self.drift_alert = Gauge("recloop_drift_alert", "1 while a drift alert is raised", registry=r)
        self.in_flight = Gauge("recloop_requests_in_flight", "HTTP requests being handled", registry=r)
        self.event_to_fresh = Histogram(
            "recloop_event_to_fresh_seconds",
            "Request received -> the user's state updated (the next list reflects the event)",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.last_event = Gauge(
            "recloop_last_event_timestamp_seconds", "Unix time of the latest applied event", registry=r
        )
        self.exposures = Counter(
            "recloop_experiment_exposures_total", "Lists served under an experiment, per arm",
            ["experiment", "variant"], registry=r,
        )  # fmt: skip
        self.outcomes = Counter(
            "recloop_experiment_outcomes_total", "Events attributed to an arm's exposures, per metric",
            ["experiment", "variant", "metric"], registry=r,
        )  # fmt: skip
        self.outcome_value = Counter(
            "recloop_experiment_outcome_value_total", "Sum of the attributed metric values per arm",
            ["experiment", "variant", "metric"], registry=r,
        )  # fmt: skip

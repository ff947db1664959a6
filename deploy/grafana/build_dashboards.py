#!/usr/bin/env python3
"""Write recloop's Grafana dashboards (deploy/grafana/dashboards/*.json) from one definition.

Run ``python deploy/grafana/build_dashboards.py`` after changing a panel; the tests
(tests/deploy/) check that the committed JSON is what this script writes and evaluate
every query against a real Prometheus scraping a real ``recloop serve``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "recloop-prometheus"}
REC = 'endpoint="/v1/users/{user_id}/recommendations"'

# dashboard uid -> (title, [(panel title, unit, kind, [(legend, PromQL)], thresholds)])
Panel = tuple[str, str, str, list[tuple[str, str]], list[float]]
DASHBOARDS: dict[str, tuple[str, list[Panel]]] = {
    "recloop-service": ("recloop / service", [
        ("Requests per second by route", "reqps", "timeseries",
         [("{{endpoint}}", "sum by (endpoint) (rate(recloop_request_latency_seconds_count[1m]))")], []),
        ("Recommendation latency (p50 / p95 / p99)", "s", "timeseries",
         [(f"p{q}", f"histogram_quantile(0.{q}, sum by (le) "
                    f"(rate(recloop_request_latency_seconds_bucket{{{REC}}}[5m])))") for q in (50, 95, 99)],
         [0.05]),
        ("p99 latency by route", "s", "timeseries",
         [("{{endpoint}}", "histogram_quantile(0.99, sum by (le, endpoint) "
                           "(rate(recloop_request_latency_seconds_bucket[5m])))")], [0.05]),
        ("5xx error ratio", "percentunit", "timeseries",
         [("5xx / all", '(sum(rate(recloop_request_latency_seconds_count{status=~"5.."}[5m])) or vector(0))'
                        " / clamp_min(sum(rate(recloop_request_latency_seconds_count[5m])), 1e-9)")], [0.01]),
        ("Requests in flight", "short", "timeseries",
         [("in flight", "sum(recloop_requests_in_flight)")], []),
        ("Per-user cache memory (bytes, and the bound)", "bytes", "timeseries",
         [("{{cache}}", "sum by (cache) (recloop_user_cache_bytes)"),
          ("bound, all caches", "sum(recloop_user_cache_limit_bytes)")], []),
    ]),
    "recloop-learning": ("recloop / learning", [
        ("Events applied per second by type", "short", "timeseries",
         [("{{type}}", "sum by (type) (rate(recloop_events_total[1m]))")], []),
        ("Duplicate and rejected events per second", "short", "timeseries",
         [("duplicates", "sum(rate(recloop_events_duplicate_total[5m]))"),
          ("rejected", "sum(rate(recloop_events_rejected_total[5m]))")], []),
        ("Fold-ins per second", "short", "timeseries",
         [("fold-ins", "sum(rate(recloop_foldins_total[1m]))")], []),
        ("Event to fresh recommendation (p50 / p99)", "s", "timeseries",
         [(f"p{q}", f"histogram_quantile(0.{q}, sum by (le) "
                    "(rate(recloop_event_to_fresh_seconds_bucket[5m])))") for q in (50, 99)], []),
        ("User-score cache hit ratio", "percentunit", "timeseries",
         [("hit ratio", 'sum(rate(recloop_user_scores_total{result="hit"}[5m]))'
                        " / clamp_min(sum(rate(recloop_user_scores_total[5m])), 1e-9)")], []),
        ("Candidates per request by source (median)", "short", "timeseries",
         [("{{source}}", "histogram_quantile(0.5, sum by (le, source) "
                         "(rate(recloop_candidates_bucket[5m])))")], []),
        ("Seconds since the last applied event", "s", "stat",
         [("since last event", "time() - max(recloop_last_event_timestamp_seconds)")], [900]),
    ]),
    "recloop-model": ("recloop / model", [
        ("Serving model version", "none", "stat",
         [("{{version}}", "max by (version) (recloop_model_info)")], []),
        ("Champion offline quality (P1, registry record)", "none", "stat",
         [("{{metric}}", "max by (metric) "
                         '(recloop_model_quality{metric=~"NDCG@10|Recall@20|HR@10|MAP@10"})')], []),
        ("Drift statistics", "none", "timeseries",
         [("{{name}}", "max by (name) (recloop_drift_score)")], []),
        ("Drift alert raised", "bool", "timeseries",
         [("alert", "max(recloop_drift_alert)")], [1]),
        ("Retraining runs by outcome (last hour)", "short", "bargauge",
         [("{{outcome}}", "sum by (outcome) (increase(recloop_retrain_runs_total[1h]))")], []),
    ]),
    "recloop-experiments": ("recloop / experiments", [
        ("Exposures per second by arm", "short", "timeseries",
         [("{{experiment}} / {{variant}}",
           "sum by (experiment, variant) (rate(recloop_experiment_exposures_total[5m]))")], []),
        ("Attributed outcomes per exposure by arm (last hour)", "percentunit", "timeseries",
         [("{{experiment}} / {{variant}} / {{metric}}",
           "sum by (experiment, variant, metric) (increase(recloop_experiment_outcome_value_total[1h]))"
           " / on (experiment, variant) group_left sum by (experiment, variant)"
           " (increase(recloop_experiment_exposures_total[1h]))")], []),
    ]),
}


def _panel(pid: int, spec: Panel) -> dict[str, Any]:
    """One Grafana panel on a 2-column grid."""
    title, unit, kind, targets, thresholds = spec
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": "red", "value": t} for t in thresholds]
    custom: dict[str, Any] = {"drawStyle": "line", "lineInterpolation": "stepAfter", "spanNulls": False}
    if thresholds:
        custom["thresholdsStyle"] = {"mode": "line"}
    return {
        "id": pid, "type": kind, "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 12, "x": 12 * ((pid - 1) % 2), "y": 8 * ((pid - 1) // 2)},
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom if kind == "timeseries" else {},
                                     "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr,
                     "legendFormat": legend} for i, (legend, expr) in enumerate(targets)],
    }  # fmt: skip


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON model."""
    return {
        f"{uid}.json": {
            "uid": uid, "title": title, "tags": ["recloop"], "timezone": "browser", "schemaVersion": 39,
            "version": 1, "editable": True, "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
            "panels": [_panel(i, p) for i, p in enumerate(panels, start=1)],
        }
        for uid, (title, panels) in DASHBOARDS.items()
    }


def render(board: dict[str, Any]) -> str:
    """The committed text of one dashboard."""
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, board in dashboards().items():
        (OUT / name).write_text(render(board))
        print(f"wrote {OUT / name} ({len(board['panels'])} panels)")

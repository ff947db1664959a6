"""The deployment files are valid on their own: Grafana dashboards (generated, ids unique, data
sources resolve), Prometheus config and rules (promtool), compose file, Dockerfile, CI workflow."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dashboards", DEPLOY / "grafana" / "build_dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed_dashboards() -> dict[str, dict[str, object]]:
    """File name -> parsed JSON of every dashboard under deploy/grafana/dashboards."""
    return {p.name: json.loads(p.read_text()) for p in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))}


def dashboard_queries() -> Iterator[tuple[str, str, str]]:
    """(dashboard uid, panel title, PromQL) of every target of every committed dashboard."""
    for board in committed_dashboards().values():
        for panel in board["panels"]:  # type: ignore[attr-defined]
            for target in panel["targets"]:
                yield str(board["uid"]), panel["title"], target["expr"]


def test_committed_dashboards_are_what_the_builder_writes() -> None:
    builder = _builder()
    built = builder.dashboards()
    assert sorted(built) == sorted(committed_dashboards()), "run python deploy/grafana/build_dashboards.py"
    for name, board in built.items():
        text = (DEPLOY / "grafana" / "dashboards" / name).read_text()
        assert text == builder.render(board), f"{name} is stale: run python deploy/grafana/build_dashboards.py"


def test_dashboards_have_unique_ids_and_resolvable_data_sources() -> None:
    sources = yaml.safe_load((DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml").read_text())
    uids = {d["uid"] for d in sources["datasources"]}
    boards = committed_dashboards()
    assert len({b["uid"] for b in boards.values()}) == len(boards)
    for name, board in boards.items():
        panels = board["panels"]
        assert isinstance(panels, list) and panels, name
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids {ids}"
        for p in panels:
            assert p["datasource"]["uid"] in uids, (name, p["title"])
            assert p["targets"], (name, p["title"])
            for t in p["targets"]:
                assert t["datasource"]["uid"] in uids and t["expr"].strip(), (name, p["title"])
    areas = {b["uid"] for b in boards.values()}
    assert {"recloop-service", "recloop-learning", "recloop-model", "recloop-experiments"} <= areas


def test_promtool_accepts_the_config_and_the_rules() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed: `apt-get install -y --no-install-recommends prometheus`"
    for args in (["check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
                 ["check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")]):  # fmt: skip
        r = subprocess.run([promtool, *args], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_has_a_summary_and_a_description() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = [r["alert"] for g in rules["groups"] for r in g["rules"]]
    assert {"RecloopRecommendationP99High", "RecloopErrorRatioHigh", "RecloopDriftAlert",
            "RecloopNoEventsIngested", "RecloopRetrainFailed"} <= set(names)  # fmt: skip
    for g in rules["groups"]:
        for r in g["rules"]:
            assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]

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
    path = DEPLOY / "grafana" / "build_dashboards.py"
    spec = importlib.util.spec_from_file_location("build_dashboards", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed_dashboards() -> dict[str, dict[str, object]]:
    """File name -> parsed JSON of every dashboard under deploy/grafana/dashboards."""
    files = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    return {p.name: json.loads(p.read_text()) for p in files}


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
        assert text == builder.render(board), f"{name} is stale: run deploy/grafana/build_dashboards.py"


def test_dashboards_have_unique_ids_and_resolvable_data_sources() -> None:
    provisioned = DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
    sources = yaml.safe_load(provisioned.read_text())
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


def _venv_tool(name: str) -> str:
    """A linter installed by the dev extras (next to this Python), or on PATH."""
    import sys

    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is missing: `pip install -e '.[dev]'` installs it"
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    r = subprocess.run([_venv_tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_ci_workflow_passes_actionlint_and_its_schema() -> None:
    wf = ROOT / ".github" / "workflows" / "ci.yml"
    r = subprocess.run([_venv_tool("actionlint"), str(wf)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    schema = ["--builtin-schema", "vendor.github-workflows"]
    r = subprocess.run([_venv_tool("check-jsonschema"), *schema, str(wf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "bash scripts/test.sh" in wf.read_text(), "the workflow runs the README's test command"


def test_the_compose_file_matches_the_compose_spec_and_uses_health_gates() -> None:
    compose = DEPLOY / "compose.yaml"
    schema = ["--builtin-schema", "vendor.compose-spec"]
    r = subprocess.run([_venv_tool("check-jsonschema"), *schema, str(compose)], capture_output=True,
                       text=True)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    spec = yaml.safe_load(compose.read_text())
    services = spec["services"]
    assert {"api", "worker", "redis", "postgres", "mlflow", "prometheus", "grafana"} <= set(services)
    for name, svc in services.items():
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert cond["condition"] in ("service_healthy", "service_completed_successfully"), (name, dep)
            dep_check = services[dep].get("healthcheck", {})
            if cond["condition"] == "service_healthy":
                assert dep_check and not dep_check.get("disable"), f"{name} waits on {dep}: no check"
    assert "--appendonly" in services["redis"]["command"], "Redis must persist acknowledged events"
    text = compose.read_text()
    assert "PASSWORD=" not in text and "API_KEY=" not in text, "secrets come from deploy/.env, never the file"

"""A real Prometheus scraping a real `recloop serve` under load: every Grafana panel query and every
alert rule evaluates without error, every panel has data, and a deliberately tiny SLO alert fires.

Needs Debian's ``prometheus`` package (scripts/test.sh installs it, like chromium).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from api.live_server import Server, free_port
from deploy.test_deploy_files import DEPLOY, dashboard_queries

KEY = "prometheus-test-key"


def _need(binary: str) -> str:
    path = shutil.which(binary)
    assert path, f"{binary} is not installed: `apt-get install -y --no-install-recommends prometheus`"
    return path


def _http(url: str, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST" if body is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("X-Admin-Key", key)
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


@pytest.fixture()
def server(trained_home: Path, tmp_path: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(RECLOOP_HOME=str(trained_home), RECLOOP_STATE__TYPE="memory",
               RECLOOP_STATE__PATH=str(tmp_path / "state.db"), RECLOOP_ADMIN_API_KEY=KEY,
               RECLOOP_DRIFT_INTERVAL_S="2", RECLOOP_EXPERIMENT_LOOK_S="3600")  # fmt: skip
    s = Server(env, tmp_path / "serve.log")
    try:
        s.wait_ready()
        yield s
    finally:
        s.sigkill()


def _load(url: str, seconds: float, rng: random.Random) -> None:
    """Lists for known and new users, likes on shown items, a few 404s, for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        user = str(rng.randint(1, 943)) if rng.random() < 0.7 else f"prom-{uuid.uuid4().hex[:8]}"
        recs = _http(f"{url}/v1/users/{user}/recommendations?k=10")
        item = recs["items"][rng.randrange(len(recs["items"]))]["item_id"]
        _http(f"{url}/v1/events", {"event_id": uuid.uuid4().hex, "user_id": user, "item_id": item,
                                   "type": rng.choice(["click", "like", "view"])})  # fmt: skip
        with contextlib.suppress(urllib.error.HTTPError):  # a few 4xx in the error ratio
            _http(f"{url}/v1/items/999999")


class Prometheus:
    """``prometheus`` on a free loopback port scraping ``target`` every second."""

    def __init__(self, target: str, tmp: Path) -> None:
        rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
        test_rule = {"alert": "RecloopTinySLO", "for": "0s", "expr": (
            "histogram_quantile(0.99, sum by (le) (rate(recloop_request_latency_seconds_bucket"
            '{endpoint="/v1/users/{user_id}/recommendations"}[1m]))) > 0.000001')}
        rules["groups"].append({"name": "test", "rules": [test_rule]})
        (tmp / "alerts.yml").write_text(yaml.safe_dump(rules))
        config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        config["scrape_configs"][0]["static_configs"] = [{"targets": [target]}]
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (tmp / "prometheus.log").open("wb")
        self.proc = subprocess.Popen(
            [_need("prometheus"), f"--config.file={tmp / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp / 'tsdb'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def query(self, expr: str) -> dict[str, Any]:
        """``/api/v1/query`` -> its JSON (status "success" or "error")."""
        q = urllib.parse.urlencode({"query": expr})
        try:
            return _http(f"{self.url}/api/v1/query?{q}")  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:  # 400 bad_data carries the error JSON
            return json.loads(exc.read())  # type: ignore[no-any-return]

    def wait_up(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                got = self.query('up{job="recloop"} == 1')
                if got.get("data", {}).get("result"):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"prometheus never scraped recloop; see {self.log.name}")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.log.close()


def test_every_panel_and_alert_evaluates_with_data_and_a_tiny_slo_fires(
    server: Server, tmp_path: Path
) -> None:
    exp = _http(f"{server.url}/v1/experiments", {
        "name": "prom", "primary_metric": "ctr",
        "variants": [{"name": "a", "model": "champion", "weight": 0.5},
                     {"name": "b", "model": "popular", "weight": 0.5}]}, key=KEY)  # fmt: skip
    prom = Prometheus(f"127.0.0.1:{server.url.rsplit(':', 1)[1]}", tmp_path)
    try:
        prom.wait_up()
        _load(server.url, 25.0, random.Random(0))
        empty, errors = [], []
        for board, title, expr in dashboard_queries():
            got = prom.query(expr)
            if got["status"] != "success":
                errors.append((board, title, got.get("error")))
            elif not got["data"]["result"]:
                empty.append((board, title, expr))
        assert not errors, errors
        assert not empty, f"panels without data: {empty}"
        rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                got = prom.query(rule["expr"])
                assert got["status"] == "success", (rule["alert"], got.get("error"))
        end = time.monotonic() + 30
        firing: list[str] = []
        while time.monotonic() < end and "RecloopTinySLO" not in firing:
            alerts = _http(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
            firing = [a["labels"]["alertname"] for a in alerts if a["state"] == "firing"]
            time.sleep(1)
        assert "RecloopTinySLO" in firing, firing
        assert "RecloopDown" not in firing and "RecloopErrorRatioHigh" not in firing, firing
    finally:
        prom.stop()
        _http(f"{server.url}/v1/experiments/{exp['id']}/stop", {}, key=KEY)

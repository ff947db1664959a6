"""The dashboard end to end: Debian chromium (playwright-core) against a real `recloop serve`.

Needs the built dashboard (``web/dist``, built by scripts/test.sh) and
``/usr/bin/chromium`` (``apt-get install -y chromium``); a missing piece fails
with the command that provides it. Screenshots are kept in web/e2e/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.test_restart import Server

WEB = Path(__file__).resolve().parents[2] / "web"
ARTIFACTS = WEB / "e2e" / "artifacts"


@pytest.fixture()
def server(trained_home: Path, tmp_path: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(
        RECLOOP_HOME=str(trained_home),
        RECLOOP_STATE__TYPE="memory",
        RECLOOP_STATE__PATH=str(tmp_path / "state.db"),
        RECLOOP_ADMIN_API_KEY="e2e-admin-key",
    )
    s = Server(env, tmp_path / "serve.log")
    try:
        s.wait_ready()
        yield s
    finally:
        s.sigkill()


def test_playground_dashboard_models_in_chromium(server: Server) -> None:
    if not (WEB / "dist" / "index.html").exists():
        pytest.fail("web/dist is missing: run `cd web && npm ci && npm run build` (scripts/test.sh does)")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian chromium is missing: run `apt-get update && apt-get install -y chromium`")
    node = shutil.which("node")
    assert node, "node is not on PATH; install Node.js 20"
    env = {**os.environ, "E2E_BASE_URL": server.url, "E2E_ARTIFACTS": str(ARTIFACTS)}
    proc = subprocess.run(
        [node, "e2e/run.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"e2e failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    assert "E2E PASSED" in proc.stdout
    for name in ("playground.png", "dashboard.png", "models.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000, f"{name} screenshot is missing or empty"

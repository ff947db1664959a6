"""The dashboard end to end: Debian chromium (playwright-core) against a real `recloop serve`.

Needs the built dashboard (``web/dist``, built by scripts/test.sh) and
``/usr/bin/chromium`` (``apt-get install -y chromium``); a missing piece fails
with the command that provides it. The e2e creates an experiment, sends
simulated traffic and checks every page at 390x844 and 1440x900 for sideways
scroll; it saves a screenshot of each page at both sizes to docs/screenshots/
(committed, shown in the README) and step screenshots to web/e2e/artifacts/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from api.live_server import LIVE_ADMIN_KEY, Server

WEB = Path(__file__).resolve().parents[2] / "web"
ARTIFACTS = WEB / "e2e" / "artifacts"
SCREENSHOTS = WEB.parent / "docs" / "screenshots"
PAGES = ("playground", "dashboard", "models", "experiments", "monitoring")
def test_every_page_in_chromium_at_phone_and_desktop_width(live_server: Server) -> None:
    if not (WEB / "dist" / "index.html").exists():
        pytest.fail("web/dist is missing: run `cd web && npm ci && npm run build` (scripts/test.sh does)")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian chromium is missing: run `apt-get update && apt-get install -y chromium`")
    node = shutil.which("node")
    assert node, "node is not on PATH; install Node.js 20"
    env = {**os.environ, "E2E_BASE_URL": live_server.url, "E2E_ARTIFACTS": str(ARTIFACTS),
           "E2E_SCREENSHOTS": str(SCREENSHOTS), "E2E_ADMIN_KEY": LIVE_ADMIN_KEY}  # fmt: skip
    proc = subprocess.run(
        [node, "e2e/run.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"e2e failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    assert "E2E PASSED" in proc.stdout
    for page in PAGES:
        for size, width in (("phone", "390"), ("desktop", "1440")):
            assert f"{page} @ {width}: scrollWidth" in proc.stdout, f"{page} was not measured at {width} px"
            shot = SCREENSHOTS / f"{page}-{size}.png"
            assert shot.stat().st_size > 10_000, f"{shot.name} is missing or empty"

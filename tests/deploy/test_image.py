"""The container image, built on this machine without a registry (scripts/docker_build_offline.sh),
serves a trained home: `/ready` answers, Docker's HEALTHCHECK turns healthy, it runs as user 10001,
and the dashboard is inside the image.

Needs Debian's ``docker.io`` and ``debootstrap`` (scripts/test.sh installs them) and root to start
the private dockerd; the first run makes the base image (~1 min), later runs reuse it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.live_server import free_port
from homes import HomeCopier

ROOT = Path(__file__).resolve().parents[2]
SOCK = "unix:///run/recloop-docker.sock"


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check,
                          env=os.environ | {"DOCKER_HOST": SOCK})  # fmt: skip


@pytest.fixture(scope="module")
def image() -> str:
    for tool in ("docker", "dockerd", "debootstrap"):
        assert shutil.which(tool), f"{tool} is missing: `apt-get install -y docker.io debootstrap`"
    r = subprocess.run(["bash", str(ROOT / "scripts" / "docker_build_offline.sh"), "recloop:test"],
                       capture_output=True, text=True, env=os.environ | {"DOCKER_HOST": SOCK})  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.strip().splitlines()[-1]


@pytest.fixture()
def container(image: str, copy_trained_home: HomeCopier) -> Iterator[tuple[str, int]]:
    home = copy_trained_home("image_home")
    for p in [home, *home.rglob("*")]:  # the image's user (10001) writes state and caches here
        p.chmod(0o777 if p.is_dir() else 0o666)
    port = free_port()
    name = f"recloop-test-{port}"
    _docker("run", "-d", "--name", name, "--network", "host", "-v", f"{home}:{home}",
            "-e", f"RECLOOP_HOME={home}", "-e", "RECLOOP_STATE__TYPE=memory",
            "-e", f"RECLOOP_STATE__PATH={home}/state.db", "-e", "RECLOOP_ADMIN_API_KEY=image-test-key",
            "-e", f"PORT={port}", image, "serve", "--host", "127.0.0.1", "--port", str(port))  # fmt: skip
    try:
        yield name, port
    finally:
        _docker("rm", "-f", name, check=False)


def test_the_image_serves_a_trained_home_and_turns_healthy(container: tuple[str, int]) -> None:
    name, port = container
    ready, health, end = None, "", time.monotonic() + 180
    while time.monotonic() < end and (ready is None or health != "healthy"):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:
                ready = json.loads(r.read())
        except OSError:
            pass
        health = _docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        time.sleep(2)
    logs = _docker("logs", name, check=False)
    assert ready is not None, logs.stdout[-2000:] + logs.stderr[-2000:]
    got = {k: ready.get(k) for k in ("ready", "model_version")}
    assert got == {"ready": True, "model_version": "1"}, logs.stdout[-2000:] + logs.stderr[-2000:]
    assert ready["store"]["ok"] and ready["disk"]["ok"], ready  # /ready reports both (issue 18)
    assert health == "healthy", health
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/users/1/recommendations?k=5", timeout=5) as r:
        assert len(json.loads(r.read())["items"]) == 5
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
        assert b"<!doctype html>" in r.read().lower()  # the dashboard is inside the image
    assert _docker("exec", name, "id", "-u").stdout.strip() == "10001"

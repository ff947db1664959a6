"""A worker that misses the supervisor's health check is replaced and the reason is logged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and b"spawn_main" in (d / "cmdline").read_bytes():  # not the tracker
                out.append(int(d.name))
    return out


@pytest.mark.slow  # starts processes
def test_a_stopped_worker_is_replaced_with_the_reason_logged(tmp_path: Path) -> None:
    code = ("from recloop.cli.workers import run_workers; run_workers('127.0.0.1', "
            f"{_free_port()}, 2, 'asyncio', 1.0, app='cli.tiny_asgi:app')")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "PYTHONUNBUFFERED": "1"}  # fmt: skip
    log = tmp_path / "supervisor.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(workers := _children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(workers) >= 2, log.read_text()
        victim = workers[0]
        time.sleep(2.0)  # both serving
        os.kill(victim, signal.SIGSTOP)  # alive but silent: what CPU starvation looks like
        while "worker_replaced" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        text = log.read_text()
        assert "worker_replaced" in text, text
        line = next(x for x in text.splitlines() if "worker_replaced" in x)
        assert f"pid={victim}" in line and "no answer to the health check within 1.0 s" in line
        assert victim not in _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()

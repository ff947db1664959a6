"""A real `recloop serve` subprocess for the tests that need one (restart, fuzz, browser, deploy).

:class:`Server` starts it on a free port; the ``live_server`` fixture of tests/api/conftest.py
serves the session's trained home with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

__all__ = ["LIVE_ADMIN_KEY", "RECLOOP", "START_TIMEOUT_S", "Server", "free_port", "serve_env"]

RECLOOP = Path(sys.executable).with_name("recloop")
START_TIMEOUT_S = 90.0
LIVE_ADMIN_KEY = "live-server-admin-key"


def serve_env(home: Path, state: Path, admin_key: str = LIVE_ADMIN_KEY) -> dict[str, str]:
    """The environment of `recloop serve` over ``home`` with a memory store in ``state``
    (every other ``RECLOOP_*`` of this process dropped)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(RECLOOP_HOME=str(home), RECLOOP_STATE__TYPE="memory", RECLOOP_STATE__PATH=str(state),
               RECLOOP_ADMIN_API_KEY=admin_key)  # fmt: skip
    return env


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """One `recloop serve` subprocess; output goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(RECLOOP), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        """Poll /ready until 200; fail with the server's output if it dies or hangs."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"recloop serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"recloop serve not ready after {START_TIMEOUT_S:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        """The last lines the server printed."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def sigkill(self) -> None:
        """SIGKILL (no shutdown handlers run) and reap the process."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)



"""Several uvicorn workers under a supervisor that says why it replaced one.

uvicorn pings each worker every half second and kills one that does not answer within
``timeout_worker_healthcheck`` (5 s by default), then starts another, logging only "Child
process died" at info level. Under CPU starvation (a loaded 2-core machine) workers then loop
in kill/respawn without a word in the logs. Here the timeout is a setting
(``RECLOOP_WORKER_HEALTHCHECK_S``) and every replacement is an error log line with the pid
and the reason: it missed the health check (hung or starved), or it exited with a code.
"""

from __future__ import annotations

from typing import Any

import structlog
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

__all__ = ["LoggedSupervisor", "run_workers"]

log = structlog.get_logger("recloop.serve")


def replacement_reason(process_alive: bool, exitcode: int | None, timeout_s: float) -> str:
    """Why a worker was replaced, for the log line."""
    if process_alive:
        return (f"no answer to the health check within {timeout_s} s (hung, or starved of CPU): killed; "
                "raise RECLOOP_WORKER_HEALTHCHECK_S or run fewer workers")  # fmt: skip
    return f"exited on its own with code {exitcode}"


class LoggedSupervisor(Multiprocess):
    """uvicorn's :class:`Multiprocess` with a logged reason for each worker it replaces."""

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        timeout = self.config.timeout_worker_healthcheck
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=timeout):
                continue
            running, pid = process.process.is_alive(), process.pid
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                log.error("worker_failed_to_start", pid=pid, action="stopping the server")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            why = replacement_reason(running, process.exitcode, timeout)
            log.error("worker_replaced", pid=pid, reason=why, healthcheck_timeout_s=timeout)
            fresh = Process(self.config, self.sockets)
            fresh.start()
            self.processes[idx] = fresh


def run_workers(host: str, port: int, workers: int, loop: str, healthcheck_s: float,
                app: str = "recloop.api.asgi:app", **extra: Any) -> None:  # fmt: skip
    """Serve ``app`` (an import string) with ``workers`` processes under :class:`LoggedSupervisor`."""
    config = uvicorn.Config(app, host=host, port=port, workers=workers, loop=loop,
                            http="httptools", log_level="warning", access_log=False,
                            timeout_worker_healthcheck=healthcheck_s, **extra)  # type: ignore[arg-type]  # fmt: skip
    sock = config.bind_socket()
    try:
        LoggedSupervisor(config, sockets=[sock]).run()
    finally:
        sock.close()

"""``recloop state info|backup|rebuild|repair``: the live-event state from the terminal.

See docs/durability.md for what each backend keeps and how it is recovered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from recloop.cli.output import command_group, fail, guarded, say
from recloop.config import MemoryStateConfig, Settings, get_settings

__all__ = ["app"]

app = command_group("The live-event state: describe it, back it up, rebuild a damaged file.")

_REDIS_RECOVERY = (
    "the Redis backend keeps its durable log (the <prefix>:log stream) in the same server as "
    "the state derived from it, persisted together by Redis' AOF/RDB: recover a damaged Redis "
    "with `redis-check-aof --fix` or `redis-check-rdb` and its own backups (docs/durability.md)"
)


def _memory(settings: Settings, action: str) -> Path:
    if not isinstance(settings.state, MemoryStateConfig):
        fail(f"`recloop state {action}` is for the embedded store (RECLOOP_STATE__TYPE=memory); "
             + _REDIS_RECOVERY, 2)  # fmt: skip
    from recloop.features.store import state_path

    return state_path(settings.state, settings.home)


@app.command()
def info() -> None:
    """Backend, location, number of events and the durability it gives."""
    settings = guarded(get_settings)
    if isinstance(settings.state, MemoryStateConfig):
        from recloop.features.sqlite_log import SQLiteEventLog

        path = _memory(settings, "info")
        log = guarded(lambda: SQLiteEventLog(path))
        try:
            n = guarded(log.event_count)
        finally:
            log.close()
        say(f"state: memory (embedded SQLite) at {path}: {n:,} events; durability: WAL, "
            "synchronous=NORMAL (an acknowledged event survives a crash of recloop)")  # fmt: skip
        return
    import redis

    from recloop.features.redis_durability import read_durability
    from recloop.features.redis_keys import redact, talking_to

    cfg = settings.state

    def read() -> tuple[int, Any]:
        client = redis.Redis.from_url(cfg.url, socket_connect_timeout=2.0)
        try:
            with talking_to(cfg.url):
                return int(client.get(f"{cfg.prefix}:seq") or 0), read_durability(client)
        finally:
            client.close()

    n, found = guarded(read)
    say(f"state: redis at {redact(cfg.url)} prefix {cfg.prefix!r}: {n:,} events; durability: "
        f"{found.mode} ({found.detail})")  # fmt: skip


@app.command()
def backup(dest: Annotated[Path, typer.Argument(help="the new backup file (must not exist)")]) -> None:
    """Copy the embedded state file, consistently, even while `recloop serve` runs."""
    from recloop.features.sqlite_recovery import backup_state

    path = _memory(guarded(get_settings), "backup")
    n = guarded(lambda: backup_state(path, dest))
    say(f"backed up {n:,} events from {path} to {dest}")


@app.command()
def rebuild() -> None:
    """Replace a damaged state.db by a new one with every readable event (server stopped)."""
    from recloop.features.sqlite_recovery import rebuild_state

    path = _memory(guarded(get_settings), "rebuild")
    report = guarded(lambda: rebuild_state(path))
    lost = f"; {report.lost:,} unreadable events lost" if report.lost else ""
    say(f"rebuilt {path}: {report.recovered:,} events recovered{lost}; the damaged file is "
        f"kept as {report.damaged_copy}")  # fmt: skip


@app.command()
def repair(
    half_life_days: Annotated[float, typer.Option(help="the trending half-life of the served model")] = 7.0,
) -> None:
    """Find and fix non-finite item statistics (NaN/inf) in the configured store (server stopped)."""
    from recloop.features.repair import RepairReport, repair_redis, repair_sqlite

    settings = guarded(get_settings)
    if isinstance(settings.state, MemoryStateConfig):
        path = _memory(settings, "repair")
        report: RepairReport = guarded(lambda: repair_sqlite(path))
        what = "quarantined (table quarantined_events)"
    else:
        import redis

        from recloop.features.redis_keys import talking_to

        cfg = settings.state

        def run() -> RepairReport:
            client = redis.Redis.from_url(cfg.url, socket_connect_timeout=2.0)
            try:
                with talking_to(cfg.url):
                    return repair_redis(client, cfg.prefix, half_life_days)
            finally:
                client.close()

        report = guarded(run)
        what = "skipped in the recomputation"
    if not report.items and not report.events:
        say(f"{report.where}: every item statistic is finite; nothing to repair")
        return
    say(f"{report.where}: repaired the statistics of {len(report.items):,} items "
        f"({', '.join(map(str, report.items[:20]))}{' ...' if len(report.items) > 20 else ''}); "
        f"{report.events:,} events with a non-finite time or rating {what}")  # fmt: skip

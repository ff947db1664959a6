"""Backing up and rebuilding the embedded store's state file (``recloop state ...``).

:func:`backup_state` copies a live file with SQLite's online backup API (a
consistent snapshot while a server writes). :func:`rebuild_state` is the
recovery of a damaged file: every event that can still be read is copied, in
log order and with its sequence number, into a new file; the damaged file is
kept beside it as ``<name>.damaged-<UTC time>``. Nothing else exists to rebuild
from: the file is the embedded backend's only durable log.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recloop.errors import ConfigError, DataError
from recloop.features.sqlite_log import COLUMNS, SCHEMA, check_state_file

__all__ = ["RebuildReport", "backup_state", "rebuild_state", "writer_lock"]

_WINDOW = 1000
_ROWS = f"SELECT seq, {COLUMNS} FROM events"
_INSERT_WITH_SEQ = f"INSERT OR IGNORE INTO events (seq, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass(frozen=True)
class RebuildReport:
    """``recovered`` events copied, ``lost`` sequence numbers unreadable, where the damaged file went."""

    recovered: int
    lost: int
    damaged_copy: Path


@contextmanager
def writer_lock(path: Path, action: str = "rebuild") -> Iterator[None]:
    """The store's own exclusive lock: nothing may write while the file is replaced."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{path} is open by a running recloop process: stop `recloop serve` (and any "
                f"store using it) before `recloop state {action}`"
            ) from None
        yield
    finally:
        os.close(fd)


def backup_state(path: Path, dest: Path) -> int:
    """Copy the state file to ``dest`` (which must not exist), safe while a server runs.

    Returns the number of events in the copy.
    """
    if not path.exists():
        raise DataError(f"{path} does not exist: there is no embedded state to back up")
    if dest.exists():
        raise ConfigError(f"{dest} already exists; choose a new backup path")
    check_state_file(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    out = sqlite3.connect(dest)
    try:
        src.backup(out)
        (n,) = out.execute("SELECT COUNT(*) FROM events").fetchone()
    except sqlite3.DatabaseError as exc:
        out.close()
        dest.unlink(missing_ok=True)
        raise DataError(f"{path} cannot be backed up ({exc}); run `recloop state rebuild`") from None
    finally:
        src.close()
        out.close()
    return int(n)


def _readable_rows(path: Path) -> tuple[list[tuple[Any, ...]], int]:
    """Every readable ``(seq, *columns)`` row and how many sequence numbers were unreadable."""
    try:
        check_state_file(path)
    except DataError:
        return [], 0  # no SQLite header: nothing can be read
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            return conn.execute(f"{_ROWS} ORDER BY seq").fetchall(), 0
        except sqlite3.DatabaseError:
            pass  # read around the damage, window by window, then row by row
        try:
            top = int(conn.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0)
        except sqlite3.DatabaseError:
            top = path.stat().st_size // 16  # a row takes more than 16 bytes
        rows: list[tuple[Any, ...]] = []
        lost = 0
        for lo in range(1, top + 1, _WINDOW):
            hi = min(top, lo + _WINDOW - 1)
            try:
                rows += conn.execute(f"{_ROWS} WHERE seq BETWEEN ? AND ? ORDER BY seq", (lo, hi)).fetchall()
                continue
            except sqlite3.DatabaseError:
                pass
            for seq in range(lo, hi + 1):
                try:
                    rows += conn.execute(f"{_ROWS} WHERE seq = ?", (seq,)).fetchall()
                except sqlite3.DatabaseError:
                    lost += 1
        return rows, lost
    except sqlite3.DatabaseError:
        return [], 0
    finally:
        conn.close()


def rebuild_state(path: Path) -> RebuildReport:
    """Replace a damaged state file by a new one holding every readable event (see module doc)."""
    if not path.exists():
        raise DataError(f"{path} does not exist: nothing to rebuild (a new store starts empty)")
    with writer_lock(path):
        rows, lost = _readable_rows(path)
        tmp = path.with_name(path.name + ".rebuild-tmp")
        tmp.unlink(missing_ok=True)
        out = sqlite3.connect(tmp, isolation_level=None)
        try:
            out.execute("PRAGMA journal_mode=WAL")
            out.execute(SCHEMA)
            out.execute("BEGIN")
            out.executemany(_INSERT_WITH_SEQ, rows)
            out.execute("COMMIT")
            out.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            out.close()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        damaged = path.with_name(f"{path.name}.damaged-{stamp}")
        path.rename(damaged)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(damaged.with_name(damaged.name + suffix))
        tmp.rename(path)
        for suffix in ("-wal", "-shm"):
            tmp.with_name(tmp.name + suffix).unlink(missing_ok=True)
    return RebuildReport(len(rows), lost, damaged)

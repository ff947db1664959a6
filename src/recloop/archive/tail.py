"""Copy a store's durable event log into the Delta archive, exactly once.

The archive's newest commit records the last log position it holds (``recloop.last_seq``);
:meth:`Archiver.run_once` reads the log after it and appends the events with their positions
in one commit, so a crash before the commit copies them again and a crash after it never does.
One archiver per table: a lock file beside a local table keeps a second one out.
With ``trim`` (``recloop archive run --trim``) a Redis log is trimmed through each batch
right after the commit that holds it, so the store's log stays bounded (docs/durability.md).
"""

from __future__ import annotations

import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

from recloop.archive.delta import DeltaArchive, events_frame
from recloop.errors import ConfigError
from recloop.features.store import EventLog, TrimmableLog

__all__ = ["ArchiveProgress", "Archiver"]

log = structlog.get_logger("recloop.archive")


@dataclass(frozen=True)
class ArchiveProgress:
    """One pass: events copied, the log position now archived, the table version."""

    copied: int
    last_seq: int
    version: int


class Archiver:
    """Tails ``log`` into ``archive`` in batches of at most ``batch`` events.

    ``trim``: after each commit, drop the committed entries from a log that supports it
    (:class:`~recloop.features.store.TrimmableLog`; the embedded store's SQLite log is its
    only durable record and is never trimmed).
    """

    def __init__(
        self, log_: EventLog, archive: DeltaArchive, batch: int = 50_000, trim: bool = False
    ) -> None:
        self.log, self.archive, self.batch = log_, archive, batch
        self.trim = trim and isinstance(log_, TrimmableLog)
        self._lock_file: IO[str] | None = None

    def _lock(self) -> None:
        """Hold an exclusive lock beside a local table (one archiver per table)."""
        if self._lock_file is not None or "://" in self.archive.path:
            return
        Path(self.archive.path).mkdir(parents=True, exist_ok=True)
        f = open(os.path.join(self.archive.path, "_recloop_archiver.lock"), "w")  # noqa: SIM115
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            raise ConfigError(f"another archiver is writing {self.archive.path}; run one per table") from None
        self._lock_file = f

    def run_once(self) -> ArchiveProgress:
        """Copy every logged event after the archived position (batch by batch)."""
        self._lock()
        self.log.refresh()
        last, copied = self.archive.last_seq(), 0
        while True:
            rows = self.log.events(after=last, limit=self.batch)
            if not rows:
                break
            seqs = [s for s, _ in rows]
            self.archive.append(events_frame([e for _, e in rows], seqs), last_seq=seqs[-1])
            last, copied = seqs[-1], copied + len(rows)
            if self.trim:
                assert isinstance(self.log, TrimmableLog)
                self.log.trim_log(last)
        if copied:
            log.info("archived", events=copied, last_seq=last, path=self.archive.path)
        return ArchiveProgress(copied, last, self.archive.version())

    def follow(self, every_s: float, stop: threading.Event) -> None:
        """``run_once`` every ``every_s`` until ``stop``; a failed pass is logged and retried."""
        while not stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # the log is durable: the next pass catches up
                log.error("archive pass failed", error=repr(exc), path=self.archive.path)
            stop.wait(every_s)

    def close(self) -> None:
        """Release the lock."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

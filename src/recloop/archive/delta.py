"""A Delta Lake table of events (``deltalake``, no JVM), partitioned by event date.

Columns (:data:`ARCHIVE_SCHEMA`): ``event_id``, ``user_id`` (text), ``item_id`` (int64),
``type``, ``value`` (the rating of a ``rate`` event, else null), ``timestamp`` (float64 Unix
seconds), ``request_id`` (nullable), ``seq`` (the durable log position it was copied from;
null for bulk exports) and ``event_date`` (``YYYY-MM-DD`` in UTC, the partition column).

Each append is one Delta commit; a commit made by the :class:`~recloop.archive.tail.Archiver`
carries ``recloop.last_seq`` in its metadata, so the table itself says how far the log has
been copied. Reading ``as_of`` a version number or an ISO timestamp is Delta's time travel.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recloop.errors import ConfigError, DataError
from recloop.events.schema import Event

__all__ = ["ARCHIVE_SCHEMA", "DeltaArchive", "events_frame"]

LAST_SEQ = "recloop.last_seq"


def _lake() -> Any:
    try:
        import deltalake
        import pyarrow
    except ImportError:  # pragma: no cover - the extra is in dev and in the image
        raise ConfigError("the event archive needs deltalake: pip install 'recloop[stream]'") from None
    return deltalake, pyarrow


def _schema() -> Any:
    _, pa = _lake()
    return pa.schema([
        ("event_id", pa.string()), ("user_id", pa.string()), ("item_id", pa.int64()),
        ("type", pa.string()), ("value", pa.float64()), ("timestamp", pa.float64()),
        ("request_id", pa.string()), ("seq", pa.int64()), ("event_date", pa.string()),
    ])  # fmt: skip


ARCHIVE_SCHEMA = ("event_id", "user_id", "item_id", "type", "value", "timestamp", "request_id", "seq",
                  "event_date")  # fmt: skip


def events_frame(events: Sequence[Event], seqs: Sequence[int] | None = None) -> pd.DataFrame:
    """Events as archive rows (``seqs``: their log positions, or null)."""
    ts = np.asarray([e.timestamp for e in events], dtype=np.float64)
    return pd.DataFrame({
        "event_id": [e.event_id for e in events], "user_id": [e.user_id for e in events],
        "item_id": np.asarray([e.item_id for e in events], dtype=np.int64),
        "type": [e.type for e in events],
        "value": np.asarray([np.nan if e.value is None else e.value for e in events], dtype=np.float64),
        "timestamp": ts, "request_id": [e.request_id for e in events],
        "seq": pd.array(list(seqs) if seqs is not None else [None] * len(events), dtype="Int64"),
        "event_date": pd.to_datetime(ts, unit="s", utc=True).strftime("%Y-%m-%d"),
    })  # fmt: skip


class DeltaArchive:
    """One Delta table at ``path`` (a local directory or any URI delta-rs reads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)

    def exists(self) -> bool:
        """Whether a table has been written at the path."""
        dl, _ = _lake()
        return bool(dl.DeltaTable.is_deltatable(self.path))

    def _table(self, as_of: int | str | None = None) -> Any:
        dl, _ = _lake()
        if not self.exists():
            raise DataError(f"no Delta table at {self.path}: write one with `recloop data export --delta "
                            f"{self.path}` or run the archiver")  # fmt: skip
        table = dl.DeltaTable(self.path)
        if as_of is not None:
            try:
                table.load_as_version(int(as_of) if str(as_of).isdigit() else dt.datetime.fromisoformat(
                    str(as_of).replace("Z", "+00:00")))  # fmt: skip
            except Exception as exc:  # delta-rs raises its own errors for an unknown version
                raise DataError(f"{self.path} has no version {as_of!r} ({exc}); `recloop archive info` "
                                "lists the versions") from None  # fmt: skip
        return table

    def append(self, frame: pd.DataFrame, last_seq: int | None = None) -> int:
        """Append rows as one commit (``last_seq`` recorded in it); returns the new version."""
        dl, pa = _lake()
        if frame.empty:
            return self.version()
        meta = {} if last_seq is None else {LAST_SEQ: str(int(last_seq))}
        data = pa.Table.from_pandas(frame[list(ARCHIVE_SCHEMA)], schema=_schema(), preserve_index=False)
        dl.write_deltalake(self.path, data, mode="append", partition_by=["event_date"],
                           commit_properties=dl.CommitProperties(custom_metadata=meta))  # fmt: skip
        return self.version()

    def version(self) -> int:
        """The latest version (-1 when no table exists yet)."""
        return int(self._table().version()) if self.exists() else -1

    def version_at(self, as_of: int | str) -> int:
        """The version a read ``as_of`` a version number or an ISO timestamp sees."""
        return int(self._table(as_of).version())

    def last_seq(self) -> int:
        """The log position the newest archiver commit recorded (0: none yet)."""
        if not self.exists():
            return 0
        for commit in self._table().history():  # newest first
            if LAST_SEQ in commit:
                return int(commit[LAST_SEQ])
        return 0

    def read(self, as_of: int | str | None = None) -> pd.DataFrame:
        """Every row of the table, at ``as_of`` (a version number or an ISO timestamp) if given."""
        return self._table(as_of).to_pandas()  # type: ignore[no-any-return]

    def file_uris(self, as_of: int | str | None = None) -> list[str]:
        """The parquet files that make up the table at ``as_of`` (what an engine like Spark reads)."""
        return [str(u) for u in self._table(as_of).file_uris()]

    def history(self) -> list[dict[str, Any]]:
        """Commits, newest first: version, timestamp (ms), operation, rows added, last_seq."""
        return [{"version": c["version"], "timestamp": c["timestamp"], "operation": c["operation"],
                 "rows_added": (c.get("operationMetrics") or {}).get("num_added_rows"),
                 "last_seq": c.get(LAST_SEQ)} for c in self._table().history()]  # fmt: skip

    def compact(self) -> dict[str, Any]:
        """Rewrite small files into large ones (a new version; old files stay for time travel)."""
        return dict(self._table().optimize.compact())

    def vacuum(self, retention_hours: int = 168) -> list[str]:
        """Delete files no version newer than ``retention_hours`` needs (time travel before it ends)."""
        enforce = retention_hours >= 168
        return list(self._table().vacuum(retention_hours=retention_hours, dry_run=False,
                                         enforce_retention_duration=enforce))  # fmt: skip

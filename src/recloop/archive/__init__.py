"""The event archive: every applied event in a Delta Lake table, the system of record.

:class:`~recloop.archive.delta.DeltaArchive` appends, reads with time travel, compacts and
vacuums; :class:`~recloop.archive.tail.Archiver` copies a store's durable log into it exactly
once (the last archived log position rides in each commit's metadata).
"""

from recloop.archive.delta import ARCHIVE_SCHEMA, DeltaArchive, events_frame
from recloop.archive.tail import Archiver

__all__ = ["ARCHIVE_SCHEMA", "Archiver", "DeltaArchive", "events_frame"]

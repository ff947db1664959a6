"""Training data from the Delta event archive (``--source delta:PATH [--as-of V|TIMESTAMP]``)
and MovieLens (or any dataset) written into one (``recloop data export --delta PATH``).

The archive holds events; training takes interactions: positive events in canonical event
order, the first of each (user, item) pair, decimal user ids as themselves and any other id
mapped to a new int (the rule of :func:`recloop.pipelines.retrain.merge_live_events`). A
MovieLens export read back this way is exactly MovieLens's interaction table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recloop.archive import DeltaArchive
from recloop.config import Settings
from recloop.data import Dataset
from recloop.errors import DataError, ValidationError
from recloop.events.schema import Event
from recloop.pipelines.retrain import merge_live_events
from recloop.retrieval.base import ORIGIN_ATTR, TableOrigin

__all__ = ["ArchiveSource", "archive_interactions", "events_from_rows", "export_dataset", "parse_source",
           "tag_data_source", "training_frame"]


@dataclass(frozen=True)
class ArchiveSource:
    """A parsed ``delta:PATH`` and the version (or timestamp) to read it at."""

    path: str
    as_of: str | None = None

    def label(self, version: int) -> str:
        """How the model card names the data: ``delta:PATH@vN``."""
        return f"delta:{self.path}@v{version}"


def parse_source(source: str | None, as_of: str | None = None) -> ArchiveSource | None:
    """``None``/``movielens`` -> None (the dataset itself); ``delta:PATH`` -> an ArchiveSource."""
    if source is None or source == "movielens":
        if as_of is not None:
            raise ValidationError("--as-of applies to --source delta:PATH only")
        return None
    kind, _, path = source.partition(":")
    if kind != "delta" or not path:
        raise ValidationError(f"--source {source!r}: use movielens or delta:PATH")
    return ArchiveSource(path, as_of)


def events_from_rows(rows: pd.DataFrame, data: Dataset) -> list[Event]:
    """Archive rows as events (item ids mapped to catalog indices; unknown items refused)."""
    known = rows["item_id"].map(data.has_item).to_numpy(dtype=bool)
    if not known.all():
        bad = rows.loc[~known, "item_id"].unique()[:5].tolist()
        raise DataError(f"{int((~known).sum())} archived events name items the catalog lacks (e.g. {bad})")
    items = data.item_index(rows["item_id"].to_numpy())
    values = rows["value"].to_numpy(dtype=np.float64)
    cols = (rows["event_id"], rows["user_id"], items, rows["item_id"], rows["type"], rows["timestamp"],
            values)
    return [Event(eid, uid, int(ix), int(iid), typ, float(ts), None if np.isnan(v) else float(v))
            for eid, uid, ix, iid, typ, ts, v in zip(*cols, strict=True)]  # fmt: skip


def archive_interactions(source: ArchiveSource, data: Dataset) -> tuple[pd.DataFrame, dict[str, int]]:
    """Interactions of the archive at ``source.as_of`` and what was read (``version``, rows)."""
    archive = DeltaArchive(source.path)
    version = archive.version_at(source.as_of if source.as_of is not None else archive.version())
    rows = archive.read(version)  # one version for the rows and the label, whatever is appended meanwhile
    if rows.empty:
        at = source.as_of or "its latest version"
        raise DataError(f"the Delta table {source.path} holds no events at {at}")
    rows = rows.sort_values(["timestamp", "seq", "event_id"], kind="mergesort", na_position="first")
    empty = pd.DataFrame({c: pd.Series(dtype=np.int64) for c in ("user_id", "item_id", "timestamp")})
    base = empty.assign(rating=pd.Series(dtype=np.float64))
    keys: dict[str, int] = {}
    frame, facts = merge_live_events(base, events_from_rows(rows, data), keys)
    if (frame["rating"] % 1 == 0).all():  # whole stars, as MovieLens stores them
        frame["rating"] = frame["rating"].astype(data.interactions["rating"].dtype)
    # the Spark engine reads these rows again from the table's own parquet files
    frame.attrs[ORIGIN_ATTR] = TableOrigin(source.path, version, tuple(archive.file_uris(version)),
                                          tuple(int(i) for i in data.item_ids),
                                          tuple((i, t) for t, i in keys.items()))
    return frame, {**facts, "archive_rows": len(rows), "archive_version": version}


def export_dataset(data: Dataset, path: str, interactions: pd.DataFrame | None = None) -> int:
    """Write ``interactions`` (default: all of ``data``) into a Delta table as ``rate`` events."""
    inter = data.interactions if interactions is None else interactions
    users = inter["user_id"].astype(str).to_numpy()
    items = inter["item_id"].to_numpy(dtype=np.int64)
    ts = inter["timestamp"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame({
        "event_id": [f"export-{u}-{i}" for u, i in zip(users, items, strict=True)], "user_id": users,
        "item_id": items, "type": "rate", "value": inter["rating"].to_numpy(dtype=np.float64),
        "timestamp": ts, "request_id": None, "seq": pd.array([None] * len(inter), dtype="Int64"),
        "event_date": pd.to_datetime(ts, unit="s", utc=True).strftime("%Y-%m-%d"),
    })  # fmt: skip
    return DeltaArchive(path).append(frame)


def training_frame(
    settings: Settings, data: Dataset, source: str | None, as_of: str | None
) -> tuple[pd.DataFrame, str | None]:
    """The interactions to train on and how to name them (None: the dataset's own, ``base_fraction``)."""
    parsed = parse_source(source, as_of)
    if parsed is None:
        inter = data.interactions
        return inter.iloc[: round(settings.base_fraction * len(inter))], None
    frame, facts = archive_interactions(parsed, data)
    return frame, parsed.label(int(facts["archive_version"]))


def tag_data_source(settings: Settings, version: int, label: str) -> None:
    """Record the training data (``delta:PATH@vN``) on the registered version."""
    from recloop.registry import registry_from_settings

    registry_from_settings(settings).set_version_tags(version, {"recloop.data_source": label})

"""Read a ``recloop data synth`` directory as a :class:`~recloop.data.movielens.Dataset`.

The same typed tables as MovieLens (``interactions`` int64/int64/int8/int64 in the
canonical event order, ``items``, ``users``), so every pipeline takes it unchanged.
Within one user the generator's timestamps strictly rise, so (timestamp, user_id) is
unique and the event order needs no crc32 tie-break: a two-key lexsort is the order
shared/EVALUATION.md defines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recloop.data.movielens import Dataset
from recloop.data.synth import FILES, MANIFEST
from recloop.errors import DataError

__all__ = ["read_manifest", "read_synth_dir"]


def read_manifest(path: Path) -> dict[str, Any]:
    """The directory's manifest, checked to be a recloop-synth one."""
    file = path / MANIFEST
    if not file.is_file():
        raise DataError(f"{path}: no {MANIFEST}; make the directory with `recloop data synth --out {path}`")
    try:
        manifest: dict[str, Any] = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{file}: not valid JSON ({exc}); generate the directory again") from exc
    if manifest.get("format") != "recloop-synth":
        raise DataError(f"{file}: format {manifest.get('format')!r}, expected 'recloop-synth'")
    missing = [n for n in FILES if not (path / n).is_file()]
    if missing:
        raise DataError(f"{path}: {', '.join(missing)} missing; generate the directory again")
    return manifest


def _read(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    try:
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read parquet ({exc}); generate the directory again") from exc
    return frame


def read_synth_dir(path: Path) -> Dataset:
    """Load a synthetic dataset; counts are checked against the manifest."""
    manifest = read_manifest(path)
    inter = _read(path / FILES[0])
    expected = manifest["counts"]["events"]
    if len(inter) != expected:
        raise DataError(f"{path}: {len(inter):,} events, the manifest says {expected:,}; file is truncated")
    ts = inter["timestamp"].to_numpy(dtype=np.int64)
    users = inter["user_id"].to_numpy(dtype=np.int64)
    order = np.lexsort((users, ts))
    inter = pd.DataFrame({
        "user_id": users[order],
        "item_id": inter["item_id"].to_numpy(dtype=np.int64)[order],
        "rating": inter["rating"].to_numpy(dtype=np.int8)[order],
        "timestamp": ts[order],
    })  # fmt: skip
    items = _read(path / FILES[1])
    items["year"] = items["year"].astype("Int64")
    label = f"synth:{manifest['shape']}:{path.name}"
    return Dataset(inter, items, _read(path / FILES[2]), source=label)

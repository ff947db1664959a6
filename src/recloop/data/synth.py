"""``recloop data synth``: stream a seeded synthetic dataset into parquet files.

Writes ``interactions.parquet`` (``user_id`` int32, ``item_id`` int32, ``rating``
int8 1-5, ``timestamp`` int64 Unix s; one row group per chunk of
:data:`CHUNK_USERS` users, user-major), ``items.parquet`` (``item_id``, ``title``,
``year``, ``genres``), ``users.parquet`` (``user_id``, ``age``, ``gender``,
``occupation``, ``zip``) and ``manifest.json`` (spec, counts, generator version,
the files' SHA-256). Every chunk draws from its own generator seeded by
``(seed, chunk)``, so the same seed gives the same bytes and memory stays at one
chunk's events. Needs pyarrow (``recloop[stream]``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recloop.data.synth_events import activity, event_chunk
from recloop.data.synth_items import build_catalog, items_frame
from recloop.data.synth_spec import GENERATOR_VERSION, SynthSpec
from recloop.errors import ConfigError

__all__ = ["CHUNK_USERS", "FILES", "MANIFEST", "generate"]

CHUNK_USERS = 4096
MANIFEST = "manifest.json"
FILES = ("interactions.parquet", "items.parquet", "users.parquet")
_OCCUPATIONS = ("student", "engineer", "educator", "artist", "healthcare", "retired", "other",
                "programmer", "writer", "executive", "scientist", "technician")  # fmt: skip


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow ships with recloop[stream]
        raise ConfigError("recloop data synth writes parquet: pip install 'recloop[stream]'") from exc
    return pa, pq


def _users(first: int, count: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": np.arange(first + 1, first + count + 1, dtype=np.int64),
        "age": rng.integers(16, 70, count).astype(np.int64),
        "gender": np.where(rng.random(count) < 0.5, "F", "M"),
        "occupation": np.asarray(_OCCUPATIONS)[rng.integers(0, len(_OCCUPATIONS), count)],
        "zip": [f"{z:05d}" for z in rng.integers(0, 100_000, count)],
    })  # fmt: skip


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _stream_events(spec: SynthSpec, out: Path, n: np.ndarray, catalog: Any,
                   advance: Callable[[int], None] | None) -> int:  # fmt: skip
    pa, pq = _pyarrow()
    schema = pa.schema([("user_id", pa.int32()), ("item_id", pa.int32()), ("rating", pa.int8()),
                        ("timestamp", pa.int64())])  # fmt: skip
    user_schema = pa.Schema.from_pandas(_users(0, 1, np.random.default_rng(0)), preserve_index=False)
    written = 0
    with pq.ParquetWriter(out / FILES[0], schema, compression="zstd") as ev_w, \
            pq.ParquetWriter(out / FILES[2], user_schema, compression="zstd") as us_w:  # fmt: skip
        for chunk, first in enumerate(range(0, spec.users, CHUNK_USERS)):
            rng = np.random.default_rng([spec.seed, 1, chunk])
            counts = n[first : first + CHUNK_USERS]
            cols = event_chunk(spec, catalog, first, counts, rng)
            ev_w.write_table(pa.Table.from_arrays([pa.array(c) for c in cols], schema=schema))
            us_w.write_table(pa.Table.from_pandas(_users(first, len(counts), rng), schema=user_schema,
                                                  preserve_index=False))  # fmt: skip
            written += len(cols[0])
            if advance:
                advance(int(counts.sum()))
    return written


def generate(spec: SynthSpec, out: Path, advance: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Write the dataset of ``spec`` into ``out`` (created); returns the manifest.

    ``advance(n)``: called after each chunk with its planned events (for a progress bar).
    """
    _, pq = _pyarrow()
    out.mkdir(parents=True, exist_ok=True)
    world = np.random.default_rng([spec.seed, 0])
    catalog = build_catalog(spec, world)
    n = activity(spec, world)
    items = items_frame(spec, catalog, world)
    pq.write_table(_pyarrow()[0].Table.from_pandas(items, preserve_index=False), out / FILES[1],
                   compression="zstd")  # fmt: skip
    events = _stream_events(spec, out, n, catalog, advance)
    manifest = {
        "format": "recloop-synth",
        "generator_version": GENERATOR_VERSION,
        "shape": spec.shape,
        "seed": spec.seed,
        "counts": {"users": spec.users, "items": spec.items, "events": events},
        "spec": spec.to_dict(),
        "files": {name: _sha256(out / name) for name in FILES},
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest

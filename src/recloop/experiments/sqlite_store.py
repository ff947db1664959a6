"""The embedded experiment store: one SQLite file in WAL mode, no in-memory mirror.

Every write (an exposure with its counters, an outcome with its counters) is
one ``BEGIN IMMEDIATE`` transaction, so the logs and the counters never
disagree, even across processes sharing the file (``busy_timeout`` 5 s).
Durability as the feature store: ``synchronous=NORMAL``, a committed write
survives a crash of the process (not necessarily a power loss).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from recloop.errors import ConflictError, NotFoundError
from recloop.experiments.models import BINARY_METRICS, Experiment, Exposure, Outcome, VariantCounters
from recloop.experiments.store import (
    counters_from_fields,
    decode_exposure,
    decode_outcome,
    encode_exposure,
    encode_outcome,
)

__all__ = ["SQLiteExperimentStore"]

log = structlog.get_logger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY, created_at REAL NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS assignments (
    experiment_id TEXT NOT NULL, user_id TEXT NOT NULL, variant TEXT NOT NULL,
    PRIMARY KEY (experiment_id, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exposed_users (
    experiment_id TEXT NOT NULL, user_id TEXT NOT NULL, variant TEXT NOT NULL,
    PRIMARY KEY (experiment_id, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS exposures (
    seq INTEGER PRIMARY KEY, experiment_id TEXT NOT NULL, request_id TEXT NOT NULL,
    user_id TEXT NOT NULL, body BLOB NOT NULL, UNIQUE (experiment_id, request_id));
CREATE INDEX IF NOT EXISTS exposures_by_user ON exposures (experiment_id, user_id, seq);
CREATE TABLE IF NOT EXISTS outcomes (
    seq INTEGER PRIMARY KEY, experiment_id TEXT NOT NULL, event_id TEXT NOT NULL,
    body BLOB NOT NULL, UNIQUE (experiment_id, event_id));
CREATE TABLE IF NOT EXISTS hits (
    experiment_id TEXT NOT NULL, request_id TEXT NOT NULL, metric TEXT NOT NULL,
    PRIMARY KEY (experiment_id, request_id, metric)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    experiment_id TEXT NOT NULL, variant TEXT NOT NULL, field TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (experiment_id, variant, field)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS units (
    experiment_id TEXT NOT NULL, variant TEXT NOT NULL, user_id TEXT NOT NULL,
    n REAL NOT NULL DEFAULT 0, x_ctr REAL NOT NULL DEFAULT 0, x_like_rate REAL NOT NULL DEFAULT 0,
    x_positive_rate REAL NOT NULL DEFAULT 0, k REAL NOT NULL DEFAULT 0, r REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (experiment_id, variant, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sequential (
    experiment_id TEXT NOT NULL, key TEXT NOT NULL, p REAL NOT NULL,
    PRIMARY KEY (experiment_id, key)) WITHOUT ROWID;
"""
_TABLES = ("experiments", "assignments", "exposed_users", "exposures", "outcomes", "hits", "counters",
           "units", "sequential")  # fmt: skip
_UNIT_COLUMNS = ("n", *(f"x_{m}" for m in BINARY_METRICS), "k", "r")
_INCREMENT = (
    "INSERT INTO counters VALUES (?, ?, ?, ?) "
    "ON CONFLICT (experiment_id, variant, field) DO UPDATE SET value = value + excluded.value"
)


def _unit(db: sqlite3.Connection, experiment_id: str, variant: str, user_id: str) -> dict[str, float]:
    """The per-(variant, user) state, created at zero if missing."""
    key = (experiment_id, variant, user_id)
    db.execute("INSERT OR IGNORE INTO units (experiment_id, variant, user_id) VALUES (?, ?, ?)", key)
    row = db.execute(f"SELECT {', '.join(_UNIT_COLUMNS)} FROM units "
                     "WHERE experiment_id = ? AND variant = ? AND user_id = ?", key).fetchone()  # fmt: skip
    return dict(zip(_UNIT_COLUMNS, (float(v) for v in row), strict=True))


def _set_unit(db: sqlite3.Connection, experiment_id: str, variant: str, user_id: str,
              unit: dict[str, float]) -> None:  # fmt: skip
    db.execute(f"UPDATE units SET {', '.join(f'{c} = ?' for c in _UNIT_COLUMNS)} "
               "WHERE experiment_id = ? AND variant = ? AND user_id = ?",
               (*(unit[c] for c in _UNIT_COLUMNS), experiment_id, variant, user_id))  # fmt: skip


class SQLiteExperimentStore:
    """The ``memory`` backend of :class:`~recloop.experiments.store.ExperimentStore`."""

    def __init__(self, path: Path) -> None:
        """Open (create) the SQLite file at ``path``, creating its directory."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        log.info("experiment_store_opened", backend="memory", path=str(self.path))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _one(self, sql: str, args: tuple[object, ...]) -> Any:
        with self._lock:
            return self._conn.execute(sql, args).fetchone()

    # -- experiments ---------------------------------------------------------------

    def add_experiment(self, experiment: Experiment) -> None:
        """See :meth:`ExperimentStore.add_experiment`."""
        body = experiment.model_dump_json()
        with self._write() as db:
            cur = db.execute("INSERT OR IGNORE INTO experiments VALUES (?, ?, ?)",
                             (experiment.id, experiment.created_at.timestamp(), body))  # fmt: skip
            if cur.rowcount == 0:
                raise ConflictError(f"experiment {experiment.id!r} exists already")

    def save_experiment(self, experiment: Experiment) -> None:
        """See :meth:`ExperimentStore.save_experiment`."""
        with self._write() as db:
            cur = db.execute("UPDATE experiments SET body = ? WHERE id = ?",
                             (experiment.model_dump_json(), experiment.id))  # fmt: skip
            if cur.rowcount == 0:
                raise NotFoundError(f"no experiment {experiment.id!r}; list them with GET /v1/experiments")

    def get_experiment(self, experiment_id: str) -> Experiment:
        """See :meth:`ExperimentStore.get_experiment`."""
        row = self._one("SELECT body FROM experiments WHERE id = ?", (experiment_id,))
        if row is None:
            raise NotFoundError(f"no experiment {experiment_id!r}; list them with GET /v1/experiments")
        return Experiment.model_validate_json(row[0])

    def list_experiments(self) -> list[Experiment]:
        """See :meth:`ExperimentStore.list_experiments`."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM experiments ORDER BY created_at DESC, id").fetchall()
        return [Experiment.model_validate_json(r[0]) for r in rows]

    # -- assignment and exposures ----------------------------------------------------

    def claim_variant(self, experiment_id: str, user_id: str, variant: str) -> str:
        """See :meth:`ExperimentStore.claim_variant`."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO assignments VALUES (?, ?, ?)", (experiment_id, user_id, variant)
            )
            row = db.execute("SELECT variant FROM assignments WHERE experiment_id = ? AND user_id = ?",
                             (experiment_id, user_id)).fetchone()  # fmt: skip
        return str(row[0])

    def add_exposure(self, exposure: Exposure) -> bool:
        """See :meth:`ExperimentStore.add_exposure`."""
        e = exposure
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO exposures (experiment_id, request_id, user_id, body) "
                "VALUES (?, ?, ?, ?)",
                (e.experiment_id, e.request_id, e.user_id, encode_exposure(e)),
            )
            if cur.rowcount == 0:
                return False
            unit = _unit(db, e.experiment_id, e.variant, e.user_id)
            adds = {"exposures": 1.0, "n_sq": 2.0 * unit["n"] + 1.0}
            adds.update({f"xn:{m}": unit[f"x_{m}"] for m in BINARY_METRICS})
            new_user = db.execute("INSERT OR IGNORE INTO exposed_users VALUES (?, ?, ?)",
                                  (e.experiment_id, e.user_id, e.variant)).rowcount  # fmt: skip
            if new_user:
                adds["users"] = 1.0
            unit["n"] += 1.0
            _set_unit(db, e.experiment_id, e.variant, e.user_id, unit)
            db.executemany(_INCREMENT, [(e.experiment_id, e.variant, k, v) for k, v in adds.items() if v])
        return True

    def exposure(self, experiment_id: str, request_id: str) -> Exposure | None:
        """See :meth:`ExperimentStore.exposure`."""
        row = self._one("SELECT body FROM exposures WHERE experiment_id = ? AND request_id = ?",
                        (experiment_id, request_id))  # fmt: skip
        return None if row is None else decode_exposure(row[0])

    def latest_exposure(self, experiment_id: str, user_id: str) -> Exposure | None:
        """See :meth:`ExperimentStore.latest_exposure`."""
        row = self._one("SELECT body FROM exposures WHERE experiment_id = ? AND user_id = ? "
                        "ORDER BY seq DESC LIMIT 1", (experiment_id, user_id))  # fmt: skip
        return None if row is None else decode_exposure(row[0])

    # -- outcomes and counters ---------------------------------------------------------

    def add_outcome(self, outcome: Outcome) -> bool:
        """See :meth:`ExperimentStore.add_outcome`."""
        o = outcome
        with self._write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO outcomes (experiment_id, event_id, body) VALUES (?, ?, ?)",
                (o.experiment_id, o.event_id, encode_outcome(o)),
            )
            if cur.rowcount == 0:
                return False
            unit = _unit(db, o.experiment_id, o.variant, o.user_id)
            adds: dict[str, float] = {}
            rating = o.metrics.get("mean_rating")
            if rating is not None:
                k, r = unit["k"], unit["r"]
                adds.update(ratings=1.0, rating_sum=rating, rating_sumsq=rating**2, k_sq=2.0 * k + 1.0,
                            r_sq=2.0 * r * rating + rating**2, rk=r + rating * (k + 1.0))  # fmt: skip
                unit["k"], unit["r"] = k + 1.0, r + rating
            for m in BINARY_METRICS:
                if o.metrics.get(m, 0.0) > 0.0:
                    first = db.execute("INSERT OR IGNORE INTO hits VALUES (?, ?, ?)",
                                       (o.experiment_id, o.request_id, m)).rowcount  # fmt: skip
                    if first:
                        x = unit[f"x_{m}"]
                        adds.update({f"s:{m}": 1.0, f"x_sq:{m}": 2.0 * x + 1.0, f"xn:{m}": unit["n"]})
                        unit[f"x_{m}"] = x + 1.0
            _set_unit(db, o.experiment_id, o.variant, o.user_id, unit)
            db.executemany(_INCREMENT, [(o.experiment_id, o.variant, k, v) for k, v in adds.items() if v])
        return True

    def exposures(self, experiment_id: str) -> list[Exposure]:
        """See :meth:`ExperimentStore.exposures`."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM exposures WHERE experiment_id = ? ORDER BY seq",
                                      (experiment_id,)).fetchall()  # fmt: skip
        return [decode_exposure(r[0]) for r in rows]

    def outcomes(self, experiment_id: str) -> list[Outcome]:
        """See :meth:`ExperimentStore.outcomes`."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM outcomes WHERE experiment_id = ? ORDER BY seq",
                                      (experiment_id,)).fetchall()  # fmt: skip
        return [decode_outcome(r[0]) for r in rows]

    def counters(self, experiment_id: str) -> dict[str, VariantCounters]:
        """See :meth:`ExperimentStore.counters`."""
        with self._lock:
            rows = self._conn.execute("SELECT variant, field, value FROM counters WHERE experiment_id = ?",
                                      (experiment_id,)).fetchall()  # fmt: skip
        fields: dict[str, dict[str, float]] = {}
        for variant, name, value in rows:
            fields.setdefault(variant, {})[name] = float(value)
        return {v: counters_from_fields(f) for v, f in fields.items()}

    def min_sequential_p(self, experiment_id: str, key: str, p_value: float) -> float:
        """See :meth:`ExperimentStore.min_sequential_p`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO sequential VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) "
                "DO UPDATE SET p = MIN(p, excluded.p)",
                (experiment_id, key, float(p_value)),
            )
            row = db.execute("SELECT p FROM sequential WHERE experiment_id = ? AND key = ?",
                             (experiment_id, key)).fetchone()  # fmt: skip
        return float(row[0])

    def sequential_p(self, experiment_id: str, key: str) -> float:
        """See :meth:`ExperimentStore.sequential_p`."""
        row = self._one("SELECT p FROM sequential WHERE experiment_id = ? AND key = ?", (experiment_id, key))
        return 1.0 if row is None else float(row[0])

    def clear(self) -> None:
        """Delete every row of every table."""
        with self._write() as db:
            for table in _TABLES:
                db.execute(f"DELETE FROM {table}")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

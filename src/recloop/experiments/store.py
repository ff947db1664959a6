"""Durable experiment storage: its protocol and the factory that picks a backend.

An :class:`ExperimentStore` keeps experiments, the exposure log (every list
served under a variant), the outcome log (every event attributed to an
exposure) and per-variant running counters updated in the same atomic step
as each log write, so results never scan the logs. Two backends pass one
contract suite (``tests/experiments/test_store_contract.py``), chosen by the
same ``settings.state`` config as the feature store:

* ``memory`` -> :class:`~recloop.experiments.sqlite_store.SQLiteExperimentStore`:
  a SQLite file in WAL mode, ``<home>/experiments.db`` (next to the state
  file when ``state.path`` is set). No in-memory mirror, so several
  processes may share the file.
* ``redis`` -> :class:`~recloop.experiments.redis_store.RedisExperimentStore`:
  hashes, sets and lists under ``<state.prefix>-exp:`` (not nested in the
  feature store's ``<state.prefix>:``, whose ``clear`` would wipe it). Unreachable Redis
  raises :class:`~recloop.errors.DependencyUnavailableError`; there is no
  fallback to SQLite.

Counting rules (both backends): an exposure is counted once per
``request_id``; a user once per experiment (first exposure, for SRM); an
outcome once per ``event_id``; a binary metric succeeds at most once per
exposure (``successes`` counts exposures with >= 1 success); every
attributed rating adds to the rating sums. Each write also updates the
per-user cross sums of :class:`~recloop.experiments.models.VariantCounters`
from a small per-(variant, user) state (lists, successes, ratings of that
user), in the same atomic step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import orjson

from recloop.config import MemoryStateConfig, RedisStateConfig
from recloop.experiments.models import BINARY_METRICS, Experiment, Exposure, Outcome, VariantCounters

__all__ = [
    "ExperimentStore",
    "counters_from_fields",
    "decode_exposure",
    "decode_outcome",
    "encode_exposure",
    "encode_outcome",
    "experiments_db_path",
    "open_experiment_store",
]


@runtime_checkable
class ExperimentStore(Protocol):
    """Experiments, exposures, outcomes and per-variant counters. Thread-safe."""

    def add_experiment(self, experiment: Experiment) -> None:
        """Store a new experiment; :class:`~recloop.errors.ConflictError` if the id exists."""
        ...

    def save_experiment(self, experiment: Experiment) -> None:
        """Replace a stored experiment (status changes); NotFoundError if unknown."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """One experiment; :class:`~recloop.errors.NotFoundError` naming the known ids if unknown."""
        ...

    def list_experiments(self) -> list[Experiment]:
        """Every experiment, newest first."""
        ...

    def claim_variant(self, experiment_id: str, user_id: str, variant: str) -> str:
        """The user's sticky variant: the stored one, else ``variant`` (stored atomically)."""
        ...

    def add_exposure(self, exposure: Exposure) -> bool:
        """Log an exposure and count it; False (nothing changed) if its request_id is known."""
        ...

    def exposure(self, experiment_id: str, request_id: str) -> Exposure | None:
        """The exposure of ``request_id`` in the experiment, if any."""
        ...

    def latest_exposure(self, experiment_id: str, user_id: str) -> Exposure | None:
        """The user's most recently logged exposure in the experiment, if any."""
        ...

    def add_outcome(self, outcome: Outcome) -> bool:
        """Log an outcome and update the counters; False if its event_id is known."""
        ...

    def exposures(self, experiment_id: str) -> list[Exposure]:
        """The exposure log of the experiment, oldest first (interleaving, CUPED, off-policy evaluation)."""
        ...

    def outcomes(self, experiment_id: str) -> list[Outcome]:
        """The outcome log of the experiment, oldest first (audit and tests)."""
        ...

    def counters(self, experiment_id: str) -> dict[str, VariantCounters]:
        """Counters per variant name (only variants with at least one write appear)."""
        ...

    def min_sequential_p(self, experiment_id: str, key: str, p_value: float) -> float:
        """Fold ``p_value`` into the stored running minimum under ``key``; return the minimum."""
        ...

    def sequential_p(self, experiment_id: str, key: str) -> float:
        """The stored running minimum under ``key`` (1.0 if no look was folded in yet); a pure read."""
        ...

    def clear(self) -> None:
        """Delete this store's data (and only this store's). For tests and admins."""
        ...

    def close(self) -> None:
        """Release files and connections."""
        ...


def experiments_db_path(config: MemoryStateConfig, home: Path) -> Path:
    """``experiments.db`` beside ``config.path`` when set, else ``<home>/experiments.db``."""
    return config.path.with_name("experiments.db") if config.path else home / "experiments.db"


def open_experiment_store(config: MemoryStateConfig | RedisStateConfig, home: Path) -> ExperimentStore:
    """Build the store ``config`` names (the feature store's ``settings.state``).

    ``redis`` pings the server first (2 s timeout) and raises
    :class:`~recloop.errors.DependencyUnavailableError` saying how to start
    it or switch to the embedded backend.
    """
    if config.type == "memory":
        from recloop.experiments.sqlite_store import SQLiteExperimentStore

        return SQLiteExperimentStore(experiments_db_path(config, home))
    from recloop.experiments.redis_store import RedisExperimentStore

    return RedisExperimentStore(config.url, f"{config.prefix}-exp")


def encode_exposure(e: Exposure) -> bytes:
    """JSON of an exposure, as both backends store it."""
    return orjson.dumps([e.experiment_id, e.variant, e.user_id, e.request_id, list(e.items), e.ts,
                         list(e.teams), list(e.propensities), e.pre_activity])  # fmt: skip


def decode_exposure(raw: bytes | str) -> Exposure:
    """Inverse of :func:`encode_exposure` (also reads the 6-field logs written before teams/propensities)."""
    exp_id, variant, user, rid, items, ts, *rest = orjson.loads(raw)
    teams, props, pre = [*rest, [], [], None][:3]
    return Exposure(exp_id, variant, user, rid, tuple(int(i) for i in items), float(ts),
                    tuple(str(t) for t in teams), tuple(float(p) for p in props),
                    None if pre is None else float(pre))  # fmt: skip


def encode_outcome(o: Outcome) -> bytes:
    """JSON of an outcome, as both backends store it."""
    return orjson.dumps([o.experiment_id, o.variant, o.request_id, o.user_id, o.event_id, o.item_id,
                         dict(o.metrics), o.ts])  # fmt: skip


def decode_outcome(raw: bytes | str) -> Outcome:
    """Inverse of :func:`encode_outcome`."""
    exp_id, variant, rid, user, eid, item_id, metrics, ts = orjson.loads(raw)
    values = {str(k): float(v) for k, v in metrics.items()}
    return Outcome(exp_id, variant, rid, user, eid, int(item_id), values, float(ts))


def counters_from_fields(fields: Mapping[str, float]) -> VariantCounters:
    """Counters from stored fields (missing fields are 0): ``exposures``, ``users``, ``n_sq``,
    ``s:<m>``, ``x_sq:<m>``, ``xn:<m>``, ``ratings``, ``rating_sum``, ``rating_sumsq``, ``k_sq``,
    ``r_sq``, ``rk`` (see :class:`VariantCounters`)."""
    f = fields.get
    return VariantCounters(
        exposures=int(f("exposures", 0)),
        users=int(f("users", 0)),
        successes={m: int(f(f"s:{m}", 0)) for m in BINARY_METRICS},
        ratings=int(f("ratings", 0)),
        rating_sum=float(f("rating_sum", 0.0)),
        rating_sumsq=float(f("rating_sumsq", 0.0)),
        n_sq=float(f("n_sq", 0.0)),
        x_sq={m: float(f(f"x_sq:{m}", 0.0)) for m in BINARY_METRICS},
        xn={m: float(f(f"xn:{m}", 0.0)) for m in BINARY_METRICS},
        k_sq=float(f("k_sq", 0.0)),
        r_sq=float(f("r_sq", 0.0)),
        rk=float(f("rk", 0.0)),
    )

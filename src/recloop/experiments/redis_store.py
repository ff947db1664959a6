"""The Redis experiment store: hashes, sets and lists under one prefix.

Keys (``P`` is the prefix; nothing outside ``P:*`` is touched):

* ``P:experiments`` HASH id -> experiment JSON;
* per experiment ``X = P:x:<id>``: ``X:assign`` HASH user -> sticky variant;
  ``X:users`` HASH user -> variant of the first exposure (SRM);
  ``X:exposures`` HASH request_id -> exposure JSON; ``X:last`` HASH
  user -> request_id of the latest exposure; ``X:oids`` SET of outcome
  event ids; ``X:outcomes`` LIST of outcome JSON (log order); ``X:hits``
  SET of ``request_id \\x1f metric`` (one success per exposure);
  ``X:counters`` HASH ``variant \\x1f field`` -> number; ``X:units`` HASH
  ``variant \\x1f user \\x1f field`` -> the user's lists / successes /
  ratings (for the per-user cross sums); ``X:seq`` HASH key -> running
  minimum of the sequential p-value.

Each exposure and each outcome is one Lua script call: the log write, its
idempotency check and its counter updates are atomic.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from typing import Any

import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from recloop.errors import ConflictError, NotFoundError
from recloop.experiments.models import BINARY_METRICS, Experiment, Exposure, Outcome, VariantCounters
from recloop.experiments.store import (
    counters_from_fields,
    decode_exposure,
    decode_outcome,
    encode_exposure,
    encode_outcome,
)
from recloop.features.redis_keys import delete_prefix, talking_to

__all__ = ["RedisExperimentStore"]

log = structlog.get_logger(__name__)

_SEP = "\x1f"

# KEYS: exposures, last, users, counters, units. ARGV: request_id, exposure JSON, user, variant,
# then the binary metric names. Units fields: "<variant>\x1f<user>\x1f<n|x:m|k|r>".
_EXPOSURE_LUA = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
local c = ARGV[4] .. '\\31'
local u = c .. ARGV[3] .. '\\31'
local function get(f) return tonumber(redis.call('HGET', KEYS[5], u .. f) or '0') end
local function add(f, x) redis.call('HINCRBYFLOAT', KEYS[4], c .. f, x) end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
local n = get('n')
add('exposures', 1)
add('n_sq', 2 * n + 1)
for i = 5, #ARGV do
  local x = get('x:' .. ARGV[i])
  if x > 0 then add('xn:' .. ARGV[i], x) end
end
redis.call('HINCRBYFLOAT', KEYS[5], u .. 'n', 1)
if redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[4]) == 1 then add('users', 1) end
return 1
"""

# KEYS: oids, outcomes, hits, counters, units. ARGV: event_id, outcome JSON, variant, request_id,
# rating ('' if none), user, then the binary metrics with a success.
_OUTCOME_LUA = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
local c = ARGV[3] .. '\\31'
local u = c .. ARGV[6] .. '\\31'
local function get(f) return tonumber(redis.call('HGET', KEYS[5], u .. f) or '0') end
local function add(f, x) redis.call('HINCRBYFLOAT', KEYS[4], c .. f, x) end
if ARGV[5] ~= '' then
  local r = tonumber(ARGV[5])
  local k, s = get('k'), get('r')
  add('ratings', 1); add('rating_sum', r); add('rating_sumsq', r * r)
  add('k_sq', 2 * k + 1); add('r_sq', 2 * s * r + r * r); add('rk', s + r * (k + 1))
  redis.call('HINCRBYFLOAT', KEYS[5], u .. 'k', 1)
  redis.call('HINCRBYFLOAT', KEYS[5], u .. 'r', r)
end
local n = get('n')
for i = 7, #ARGV do
  local m = ARGV[i]
  if redis.call('SADD', KEYS[3], ARGV[4] .. '\\31' .. m) == 1 then
    local x = get('x:' .. m)
    add('s:' .. m, 1); add('x_sq:' .. m, 2 * x + 1)
    if n > 0 then add('xn:' .. m, n) end
    redis.call('HINCRBYFLOAT', KEYS[5], u .. 'x:' .. m, 1)
  end
end
return 1
"""

# KEYS: seq hash. ARGV: key, p. Returns the running minimum as a string.
_MIN_LUA = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and tonumber(cur) <= tonumber(ARGV[2]) then return cur end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
"""

# KEYS: experiments. ARGV: id, JSON. Replace only an existing experiment.
_SAVE_LUA = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisExperimentStore:
    """The ``redis`` backend of :class:`~recloop.experiments.store.ExperimentStore`.

    ``prefix`` must not nest with another store's prefix (``a`` and ``a:b``).
    Raises :class:`DependencyUnavailableError` within ~2 s if the server is down.
    """

    def __init__(self, url: str, prefix: str) -> None:
        """Connect to ``url`` and check it answers."""
        self.url, self.prefix = url, prefix
        self._experiments = f"{prefix}:experiments"
        self._lock = threading.Lock()
        # No client-side retries: a retried script would see its own write as a duplicate.
        self._r: redis.Redis[bytes] = redis.Redis.from_url(
            url, socket_connect_timeout=2.0, socket_timeout=10.0, retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )  # fmt: skip
        with self._talking():
            self._r.ping()
        self._exposure_script = self._r.register_script(_EXPOSURE_LUA)
        self._outcome_script = self._r.register_script(_OUTCOME_LUA)
        self._min_script = self._r.register_script(_MIN_LUA)
        self._save_script = self._r.register_script(_SAVE_LUA)
        log.info("experiment_store_opened", backend="redis", prefix=prefix)

    def _talking(self) -> AbstractContextManager[None]:
        return talking_to(self.url)

    def _key(self, experiment_id: str, name: str) -> str:
        return f"{self.prefix}:x:{experiment_id}:{name}"

    # -- experiments ---------------------------------------------------------------

    def add_experiment(self, experiment: Experiment) -> None:
        """See :meth:`ExperimentStore.add_experiment`."""
        with self._talking():
            if not self._r.hsetnx(self._experiments, experiment.id, experiment.model_dump_json()):
                raise ConflictError(f"experiment {experiment.id!r} exists already")

    def save_experiment(self, experiment: Experiment) -> None:
        """See :meth:`ExperimentStore.save_experiment`."""
        with self._talking():
            saved = self._save_script(keys=[self._experiments],
                                      args=[experiment.id, experiment.model_dump_json()])  # fmt: skip
        if not saved:
            raise NotFoundError(f"no experiment {experiment.id!r}; list them with GET /v1/experiments")

    def get_experiment(self, experiment_id: str) -> Experiment:
        """See :meth:`ExperimentStore.get_experiment`."""
        with self._talking():
            raw = self._r.hget(self._experiments, experiment_id)
        if raw is None:
            raise NotFoundError(f"no experiment {experiment_id!r}; list them with GET /v1/experiments")
        return Experiment.model_validate_json(raw)

    def list_experiments(self) -> list[Experiment]:
        """See :meth:`ExperimentStore.list_experiments`."""
        with self._talking():
            raw = self._r.hvals(self._experiments)
        found = [Experiment.model_validate_json(r) for r in raw]
        return sorted(found, key=lambda e: (-e.created_at.timestamp(), e.id))

    # -- assignment and exposures ----------------------------------------------------

    def claim_variant(self, experiment_id: str, user_id: str, variant: str) -> str:
        """See :meth:`ExperimentStore.claim_variant`."""
        key = self._key(experiment_id, "assign")
        with self._talking():
            pipe = self._r.pipeline(transaction=True)
            pipe.hsetnx(key, user_id, variant)
            pipe.hget(key, user_id)
            _, stored = pipe.execute()
        return _text(stored)

    def add_exposure(self, exposure: Exposure) -> bool:
        """See :meth:`ExperimentStore.add_exposure`."""
        e = exposure
        keys = [self._key(e.experiment_id, n) for n in ("exposures", "last", "users", "counters", "units")]
        args = [e.request_id, encode_exposure(e), e.user_id, e.variant, *BINARY_METRICS]
        with self._talking():
            added = self._exposure_script(keys=keys, args=args)
        return bool(added)

    def exposure(self, experiment_id: str, request_id: str) -> Exposure | None:
        """See :meth:`ExperimentStore.exposure`."""
        with self._talking():
            raw = self._r.hget(self._key(experiment_id, "exposures"), request_id)
        return None if raw is None else decode_exposure(raw)

    def latest_exposure(self, experiment_id: str, user_id: str) -> Exposure | None:
        """See :meth:`ExperimentStore.latest_exposure`."""
        with self._talking():
            request_id = self._r.hget(self._key(experiment_id, "last"), user_id)
            if request_id is None:
                return None
            raw = self._r.hget(self._key(experiment_id, "exposures"), request_id)
        return None if raw is None else decode_exposure(raw)

    # -- outcomes and counters ---------------------------------------------------------

    def add_outcome(self, outcome: Outcome) -> bool:
        """See :meth:`ExperimentStore.add_outcome`."""
        o = outcome
        keys = [self._key(o.experiment_id, n) for n in ("oids", "outcomes", "hits", "counters", "units")]
        rating = o.metrics.get("mean_rating")
        args: list[Any] = [o.event_id, encode_outcome(o), o.variant, o.request_id,
                           "" if rating is None else repr(float(rating)), o.user_id]  # fmt: skip
        args += [m for m in BINARY_METRICS if o.metrics.get(m, 0.0) > 0.0]
        with self._talking():
            added = self._outcome_script(keys=keys, args=args)
        return bool(added)

    def exposures(self, experiment_id: str) -> list[Exposure]:
        """See :meth:`ExperimentStore.exposures` (a hash: ordered by timestamp, then request id)."""
        with self._talking():
            raw = self._r.hvals(self._key(experiment_id, "exposures"))
        return sorted((decode_exposure(r) for r in raw), key=lambda e: (e.ts, e.request_id))

    def outcomes(self, experiment_id: str) -> list[Outcome]:
        """See :meth:`ExperimentStore.outcomes`."""
        with self._talking():
            raw = self._r.lrange(self._key(experiment_id, "outcomes"), 0, -1)
        return [decode_outcome(r) for r in raw]

    def counters(self, experiment_id: str) -> dict[str, VariantCounters]:
        """See :meth:`ExperimentStore.counters`."""
        with self._talking():
            raw = self._r.hgetall(self._key(experiment_id, "counters"))
        fields: dict[str, dict[str, float]] = {}
        for k, v in raw.items():
            variant, _, name = _text(k).partition(_SEP)
            fields.setdefault(variant, {})[name] = float(v)
        return {v: counters_from_fields(f) for v, f in fields.items()}

    def min_sequential_p(self, experiment_id: str, key: str, p_value: float) -> float:
        """See :meth:`ExperimentStore.min_sequential_p`."""
        with self._talking():
            out = self._min_script(keys=[self._key(experiment_id, "seq")], args=[key, repr(float(p_value))])
        return float(out)

    def sequential_p(self, experiment_id: str, key: str) -> float:
        """See :meth:`ExperimentStore.sequential_p`."""
        with self._talking():
            got = self._r.hget(self._key(experiment_id, "seq"), key)
        return 1.0 if got is None else float(got)

    def clear(self) -> None:
        """Delete every key under ``<prefix>:`` (SCAN + UNLINK; never FLUSHDB)."""
        with self._lock, self._talking():
            delete_prefix(self._r, self.prefix)

    def close(self) -> None:
        """Close the connection pool."""
        self._r.close()

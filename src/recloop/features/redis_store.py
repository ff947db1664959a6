"""The Redis feature store: all state in a Redis server, shared by every process.

Keys (``P`` is the configured prefix; nothing outside ``P:*`` is touched):

* ``P:ids:<k>`` SETs of the event ids stored during time bucket ``k`` (the
  idempotency check; bucket width = window / 24, each bucket expires
  ``window + 2 widths`` after it was opened, so the check remembers an id for at
  least ``idempotency_window_s`` (default 24 h) and memory stays bounded by the
  event rate, not by the users);
* ``P:seq`` counter, the last sequence number; ``P:log`` STREAM, the event
  log, entry id ``0-<seq>``, field ``e`` = JSON list of the event's fields;
  trimmed by :meth:`RedisFeatureStore.trim_log` once an archiver has committed
  it elsewhere (``recloop archive run --trim``), never before;
* ``P:u:<user_id>`` STRING of 17-byte records ``<iBdf`` (item, type code,
  timestamp, rating), one added per event, so a history is one GET parsed
  by one ``np.frombuffer``. The script rewrites the string (GET + SET) rather
  than APPEND: APPEND grows a string's allocation greedily (to twice its length
  below 1 MB), which cost ~40% of the histories' memory
  (benchmarks/store_memory.py). (A LIST read with LRANGE costs ~0.5 ms for 300
  elements in redis-py's pure-Python reply parser; one string costs ~45 µs.);
* ``P:counts`` HASH type -> count; ``P:nusers`` counter of distinct users;
* ``P:items`` HASH item -> 40 bytes ``<ddddd`` (count, trend value, trend
  time, rating sum, rating count): the authoritative item stats;
* ``P:factors`` HASH user -> float32 bytes, the fold-in factor cache.

An append batch is one Lua script call (chunks of 500 events): per event,
the id is looked up in the older buckets, then SADD into the current one
decides; a new id gets its sequence number, XADD, the history record, counter and
item-stats updates, all inside the one atomic script. Events are validated
before the call so the script cannot fail half-way.

Item stats: :meth:`RedisFeatureStore.item_stats` returns a local mirror of
``P:items``, loaded on open and updated by this process's own appends; other
processes' events appear after :meth:`RedisFeatureStore.refresh`.

Durability is the server's: ``append`` returns once the script ran in Redis;
whether that survives a Redis restart depends on its AOF/RDB settings, which
``recloop serve`` checks at start (:meth:`RedisFeatureStore.durability`,
docs/durability.md).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

import numpy as np
import orjson
import redis
import structlog
from redis.backoff import NoBackoff
from redis.retry import Retry

from recloop.errors import ConfigError
from recloop.events.schema import Event, EventType
from recloop.features.history import pack_record, user_live
from recloop.features.redis_durability import Durability, check_durability
from recloop.features.redis_keys import delete_prefix, redact, talking_to
from recloop.features.store import UserLive, check_events, check_factor, zero_item_stats
from recloop.retrieval.trending import ItemStats

__all__ = ["RedisFeatureStore"]

log = structlog.get_logger(__name__)

_CHUNK = 500
_FIXED_KEYS = ("seq", "log", "counts", "nusers", "items")
ID_BUCKETS = 24  # the idempotency window is cut into this many buckets (one more is kept)

# KEYS: seq, log, counts, nusers, items, then the NB id buckets (current first), then one
# user string per event. ARGV[1] half-life (s), ARGV[2] NB, ARGV[3] the current bucket's
# TTL (s), then 8 per event: id, type, positive (1/0), item, timestamp, rating, user
# record, log payload. Mirrors ItemStats.add.
_APPEND_LUA = """
local hl = tonumber(ARGV[1])
local nb = tonumber(ARGV[2])
local base = 5 + nb
local out = {}
for i = 1, #KEYS - base do
  local a = 3 + (i - 1) * 8
  local seen = false
  for b = 2, nb do
    if redis.call('SISMEMBER', KEYS[5 + b], ARGV[a + 1]) == 1 then seen = true; break end
  end
  if seen or redis.call('SADD', KEYS[6], ARGV[a + 1]) == 0 then
    out[i] = 0
  else
    local seq = redis.call('INCR', KEYS[1])
    redis.call('XADD', KEYS[2], '0-' .. seq, 'e', ARGV[a + 8])
    local record = ARGV[a + 7]
    local history = redis.call('GET', KEYS[base + i])
    if history then
      redis.call('SET', KEYS[base + i], history .. record)
    else
      redis.call('SET', KEYS[base + i], record)
      redis.call('INCR', KEYS[4])
    end
    redis.call('HINCRBY', KEYS[3], ARGV[a + 2], 1)
    if ARGV[a + 3] == '1' then
      local item = ARGV[a + 4]
      local t = tonumber(ARGV[a + 5])
      local r = tonumber(ARGV[a + 6])
      local c, tv, tt, rs, rn = 0, 0, 0, 0, 0
      local packed = redis.call('HGET', KEYS[5], item)
      if packed then c, tv, tt, rs, rn = struct.unpack('<ddddd', packed) end
      local dt = t - tt
      if dt < 0 then dt = 0 end
      tv = tv * 2 ^ (-dt / hl) + 1
      if t > tt then tt = t end
      c = c + 1
      if r > 0 then rs = rs + r; rn = rn + 1 end
      redis.call('HSET', KEYS[5], item, struct.pack('<ddddd', c, tv, tt, rs, rn))
    end
    out[i] = 1
  end
end
if redis.call('TTL', KEYS[6]) == -1 then redis.call('EXPIRE', KEYS[6], tonumber(ARGV[3])) end
return out
"""


def _payload(e: Event) -> bytes:
    return orjson.dumps(
        [e.event_id, e.user_id, e.item, e.item_id, e.type, e.timestamp, e.value, e.request_id]
    )


def _event(payload: bytes) -> Event:
    eid, uid, item, item_id, etype, ts, value, rid = orjson.loads(payload)
    val = None if value is None else float(value)
    return Event(eid, uid, int(item), int(item_id), cast(EventType, etype), float(ts), val, rid)


def _frozen(arr: np.ndarray, dtype: type[np.generic]) -> np.ndarray:
    out = np.ascontiguousarray(arr, dtype=dtype)
    out.setflags(write=False)
    return out


def _load_item_stats(stats: ItemStats, raw: dict[bytes, bytes], n_items: int, prefix: str) -> None:
    """Overwrite ``stats`` (zeroed first) with the ``P:items`` hash."""
    zero_item_stats(stats)
    if not raw:
        return
    idx = np.array([int(k) for k in raw], dtype=np.int64)
    if idx.max() >= n_items:
        raise ConfigError(
            f"Redis prefix {prefix!r} holds stats for item index {idx.max()} but "
            f"the catalog has {n_items} items: use another prefix or clear it."
        )
    vals = np.frombuffer(b"".join(raw.values()), dtype="<f8").reshape(-1, 5)
    for column, arr in enumerate(
        (stats.counts, stats.trend_value, stats.trend_time, stats.rating_sum, stats.rating_n)
    ):
        arr[idx] = vals[:, column]
    stats.now = float(vals[:, 2].max())


class RedisFeatureStore:
    """The ``redis`` backend of :class:`~recloop.features.store.FeatureStore`.

    ``url``: the server (``redis://host:port/db``); ``prefix``: the key
    namespace (stores with different prefixes are independent; do not nest
    prefixes such as ``a`` and ``a:b``). ``n_items``: catalog size.
    ``idempotency_window_s``: how long an event id is remembered at least. Raises
    :class:`DependencyUnavailableError` within ~2 s if the server is down.
    """

    def __init__(self, url: str, prefix: str, n_items: int, half_life_days: float = 7.0,
                 idempotency_window_s: float = 86_400.0) -> None:  # fmt: skip
        self.url, self.prefix, self.n_items = url, prefix, n_items
        self._keys = [f"{prefix}:{name}" for name in _FIXED_KEYS]
        self._id_width = max(1.0, idempotency_window_s / ID_BUCKETS)
        self._id_ttl = math.ceil(idempotency_window_s + 2 * self._id_width)
        self._factors_key = f"{prefix}:factors"
        self._stats = ItemStats(n_items, half_life_days)
        self._lock = threading.Lock()  # orders own appends against mirror reloads
        # No client-side retries: a retried append script would report its own
        # events as duplicates. Dead pooled connections are caught by the health check.
        try:
            self._r: redis.Redis[bytes] = redis.Redis.from_url(
                url,
                socket_connect_timeout=2.0,
                socket_timeout=10.0,
                retry=Retry(NoBackoff(), 0),
                health_check_interval=30,
            )
        except ValueError as exc:  # e.g. a port that is not a number
            raise ConfigError(
                f"RECLOOP_STATE__URL={redact(url)} is not a usable Redis URL ({exc}); use "
                "redis://HOST:PORT/DB"
            ) from None
        with self._talking():
            self._r.ping()
        self._append = self._r.register_script(_APPEND_LUA)
        self.refresh()
        log.info(
            "feature_store_opened",
            backend="redis",
            url=redact(url),
            prefix=prefix,
            events=self.event_count(),
        )

    def durability(self, allow_volatile: bool = False) -> Durability:
        """The server's persistence mode; ConfigError if it could lose acknowledged events
        and ``allow_volatile`` is off (see :mod:`recloop.features.redis_durability`)."""
        with self._talking():
            return check_durability(self._r, self.url, allow_volatile)

    def _talking(self) -> AbstractContextManager[None]:
        return talking_to(self.url)

    def _user_key(self, user_id: str) -> str:
        return f"{self.prefix}:u:{user_id}"

    def _id_keys(self) -> list[str]:
        """The id buckets to check now, the current (written) one first."""
        k = int(time.time() // self._id_width)
        return [f"{self.prefix}:ids:{k - b}" for b in range(ID_BUCKETS + 1)]

    def append(self, events: Sequence[Event]) -> list[bool]:
        """See :meth:`FeatureStore.append`; one Lua script call per 500 events."""
        batch = list(events)
        check_events(batch, self.n_items)
        result: list[bool] = []
        for start in range(0, len(batch), _CHUNK):
            result.extend(self._append_chunk(batch[start : start + _CHUNK]))
        return result

    def _append_chunk(self, chunk: list[Event]) -> list[bool]:
        id_keys = self._id_keys()
        keys = [*self._keys, *id_keys]
        args: list[Any] = [repr(self._stats.half_life_s), len(id_keys), self._id_ttl]
        for e in chunk:
            keys.append(self._user_key(e.user_id))
            rating = e.rating
            record = pack_record(e)
            args += [
                e.event_id,
                e.type,
                "1" if e.positive else "0",
                e.item,
                repr(float(e.timestamp)),
                repr(rating),
                record,
                _payload(e),
            ]
        with self._lock, self._talking():
            flags = self._append(keys=keys, args=args)
            applied = [bool(f) for f in flags]
            for e, new in zip(chunk, applied, strict=True):
                if new and e.positive:
                    self._stats.add(e.item, e.timestamp, e.rating)
        return applied

    def user_events(self, user_id: str) -> UserLive:
        """See :meth:`FeatureStore.user_events`; one GET."""
        with self._talking():
            raw = self._r.get(self._user_key(user_id))
        return user_live(user_id, raw)

    def item_stats(self) -> ItemStats:
        """The local mirror of ``P:items`` (see the module docstring)."""
        return self._stats

    def refresh(self) -> None:
        """Reload the item stats mirror from Redis, in place (sees other processes)."""
        with self._lock, self._talking():
            raw = self._r.hgetall(self._keys[4])
            _load_item_stats(self._stats, raw, self.n_items, self.prefix)

    def event_count(self) -> int:
        """See :meth:`FeatureStore.event_count`."""
        with self._talking():
            return int(self._r.get(self._keys[0]) or 0)

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """See :meth:`FeatureStore.events`; XRANGE over the stream, 10,000 per call."""
        out: list[tuple[int, Event]] = []
        with self._talking():
            while limit is None or len(out) < limit:
                count = 10_000 if limit is None else min(10_000, limit - len(out))
                page = self._r.xrange(self._keys[1], f"0-{after + 1}", "+", count=count)
                for entry_id, fields in page:
                    after = int(entry_id.split(b"-")[1])
                    out.append((after, _event(fields[b"e"])))
                if len(page) < count:
                    break
        return out

    def users(self) -> int:
        """See :meth:`FeatureStore.users`."""
        with self._talking():
            return int(self._r.get(self._keys[3]) or 0)

    def applied(self, event_ids: Sequence[str]) -> list[bool]:
        """Whether each event id is in the store already, within the idempotency window
        (read-your-writes through a bus)."""
        if not event_ids:
            return []
        ids = list(event_ids)
        with self._talking():
            pipe = self._r.pipeline(transaction=False)
            for key in self._id_keys():
                pipe.smismember(key, ids)  # type: ignore[no-untyped-call]
            rows = pipe.execute()
        return [any(bool(row[n]) for row in rows) for n in range(len(ids))]

    def trim_log(self, through_seq: int) -> int:
        """Drop the log entries with ``seq <= through_seq`` (XTRIM MINID); how many went.

        Only for a log already committed elsewhere (the Delta archive: ``recloop archive
        run --trim`` calls it after each commit). Histories, counters and item stats stay;
        :meth:`events` then starts after ``through_seq``; :meth:`event_count` is unchanged.
        """
        with self._talking():
            return int(self._r.xtrim(self._keys[1], minid=f"0-{through_seq + 1}", approximate=False))

    def counts_by_type(self) -> dict[str, int]:
        """See :meth:`FeatureStore.counts_by_type`."""
        with self._talking():
            raw = self._r.hgetall(self._keys[2])
        return {k.decode(): int(v) for k, v in raw.items()}

    def user_factor(self, user_id: str) -> np.ndarray | None:
        """See :meth:`FeatureStore.user_factor`."""
        with self._talking():
            raw = self._r.hget(self._factors_key, user_id)
        if raw is None:
            return None
        return _frozen(np.frombuffer(raw, dtype="<f4"), np.float32)

    def set_user_factor(self, user_id: str, factor: np.ndarray) -> None:
        """See :meth:`FeatureStore.set_user_factor`."""
        arr = check_factor(factor)
        with self._talking():
            self._r.hset(self._factors_key, user_id, arr.astype("<f4").tobytes())

    def clear(self) -> None:
        """Delete every key under ``<prefix>:`` (SCAN + UNLINK; never FLUSHDB)."""
        with self._lock, self._talking():
            delete_prefix(self._r, self.prefix)
            zero_item_stats(self._stats)

    def close(self) -> None:
        """Close the connection pool."""
        self._r.close()

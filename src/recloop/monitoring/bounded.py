"""Per-user memory bounded by bytes: an LRU map that counts what it holds, and its gauges.

Every structure of a serving process keyed by user id (fold-in states, personal scores,
last shown lists, the lists attribution looks at) is a :class:`ByteLRU`: each entry is
charged its own bytes (the value's arrays as measured by the caller, the key string and
:data:`ENTRY_OVERHEAD`), and the least recently used entries go first once the total would
pass ``limit_bytes`` (or the entry count would pass ``max_entries``). So however many
distinct users come, a cache never holds more than its bound. :class:`CacheCollector`
exports the bytes, the bound and the entries of each one to Prometheus at scrape time
(``recloop_user_cache_bytes``, ``recloop_user_cache_limit_bytes``,
``recloop_user_cache_entries``, labelled by cache name): nothing is done per request.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

import numpy as np
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["ENTRY_OVERHEAD", "ByteLRU", "CacheCollector", "array_bytes", "int_set_bytes"]

K = TypeVar("K")
V = TypeVar("V")

# an OrderedDict slot (hash table entry, linked-list node) and the (value, size) tuple
ENTRY_OVERHEAD = 200


def array_bytes(*arrays: np.ndarray) -> int:
    """Bytes of numpy arrays: their data plus the ndarray object (~112 B each)."""
    return sum(int(a.nbytes) + 112 for a in arrays)


def int_set_bytes(values: set[int]) -> int:
    """Bytes of a set of Python ints: the table plus one int object (32 B) per member."""
    return sys.getsizeof(values) + 32 * len(values)


class ByteLRU(Generic[K, V]):
    """A map keeping the most recently used entries within ``limit_bytes`` (not thread-safe).

    ``put(key, value, nbytes)``: ``nbytes`` is the value's own size; the key and the
    slot are added here. ``max_entries`` (None: no count bound) caps the entries too.
    An entry larger than the whole bound is not kept. The caller holds its own lock.
    """

    def __init__(self, name: str, limit_bytes: int, max_entries: int | None = None) -> None:
        self.name, self.limit_bytes, self.max_entries = name, max(0, int(limit_bytes)), max_entries
        self._data: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self.nbytes = 0
        self.evictions = 0

    def _cost(self, key: K, nbytes: int) -> int:
        return int(nbytes) + sys.getsizeof(key) + ENTRY_OVERHEAD

    def put(self, key: K, value: V, nbytes: int) -> None:
        """Store ``value`` as the most recent entry; evict the least recent beyond the bounds."""
        cost = self._cost(key, nbytes)
        old = self._data.pop(key, None)
        if old is not None:
            self.nbytes -= old[1]
        if cost > self.limit_bytes or self.max_entries == 0:
            return
        self._data[key] = (value, cost)
        self.nbytes += cost
        cap = sys.maxsize if self.max_entries is None else self.max_entries
        while self.nbytes > self.limit_bytes or len(self._data) > cap:
            _, (_, gone) = self._data.popitem(last=False)
            self.nbytes -= gone
            self.evictions += 1

    def get(self, key: K) -> V | None:
        """The value under ``key`` (its recency unchanged), or None."""
        got = self._data.get(key)
        return None if got is None else got[0]

    def move_to_end(self, key: K) -> None:
        """Mark ``key`` most recently used."""
        self._data.move_to_end(key)

    def pop(self, key: K) -> V | None:
        """Remove ``key``; its value or None."""
        got = self._data.pop(key, None)
        if got is None:
            return None
        self.nbytes -= got[1]
        return got[0]

    def clear(self) -> None:
        """Drop every entry."""
        self._data.clear()
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data


class CacheCollector(Collector):
    """Prometheus gauges of the caches ``caches()`` returns, read at scrape time."""

    def __init__(self, caches: Callable[[], Iterable[ByteLRU[object, object]]]) -> None:
        self.caches = caches

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """``recloop_user_cache_{bytes,limit_bytes,entries}{cache}``."""
        size = GaugeMetricFamily("recloop_user_cache_bytes", "Bytes held by a per-user cache "
                                 "(values, keys and slots)", labels=["cache"])  # fmt: skip
        limit = GaugeMetricFamily("recloop_user_cache_limit_bytes", "The configured bound of a "
                                  "per-user cache (bytes)", labels=["cache"])  # fmt: skip
        entries = GaugeMetricFamily("recloop_user_cache_entries", "Users held by a per-user cache",
                                    labels=["cache"])  # fmt: skip
        for c in self.caches():
            size.add_metric([c.name], float(c.nbytes))
            limit.add_metric([c.name], float(c.limit_bytes))
            entries.add_metric([c.name], float(len(c)))
        yield from (size, limit, entries)

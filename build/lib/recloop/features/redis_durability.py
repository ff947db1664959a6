"""What a Redis server promises about acknowledged events, read from its own settings.

The Redis feature store acknowledges an event once its append script ran in
the server's memory; whether the event outlives a Redis restart is the
server's persistence configuration (docs/durability.md):

* ``aof-always``: AOF with ``appendfsync always``; fsynced before the reply,
  survives a crash of Redis, the machine or the power;
* ``aof-everysec``: AOF with ``appendfsync everysec`` (Redis' default AOF
  policy); survives a Redis crash, at most ~1 s lost on a power loss;
* ``aof-no``: AOF written, fsync left to the OS (~30 s at risk on a power loss);
* ``rdb``: snapshots only; everything since the last snapshot is lost when
  Redis crashes (minutes of acknowledged events);
* ``none``: nothing persisted; a restart loses every event.

:func:`check_durability` refuses ``rdb`` and ``none`` (and a server whose
settings cannot be read) unless ``RECLOOP_STATE__ALLOW_VOLATILE=true``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis

from recloop.errors import ConfigError
from recloop.features.redis_keys import redact

__all__ = ["Durability", "check_durability", "read_durability"]

_DURABLE = ("aof-always", "aof-everysec", "aof-no")
_FIX = (
    "Enable the append-only file on that server (redis-cli CONFIG SET appendonly yes, then "
    "CONFIG REWRITE; or `appendonly yes` + `appendfsync everysec` in redis.conf), or accept "
    "losing acknowledged events on a Redis restart with RECLOOP_STATE__ALLOW_VOLATILE=true."
)


@dataclass(frozen=True)
class Durability:
    """The server's persistence mode (see the module docstring) and how it was learned."""

    mode: str
    detail: str

    @property
    def survives_restart(self) -> bool:
        """Whether an acknowledged event survives a crash and restart of Redis."""
        return self.mode in _DURABLE


def _config(client: Any, name: str) -> str:
    raw = client.config_get(name)
    value = raw.get(name, raw.get(name.encode(), b""))
    return value.decode() if isinstance(value, bytes) else str(value)


def read_durability(client: Any) -> Durability:
    """The persistence mode of the server behind ``client`` (CONFIG GET, else INFO).

    ``unknown`` when CONFIG is disabled (renamed or denied by an ACL) and INFO shows
    no AOF: RDB snapshots cannot be told apart from no persistence without CONFIG.
    """
    try:
        aof = _config(client, "appendonly")
        fsync = _config(client, "appendfsync")
        save = _config(client, "save")
    except redis.ResponseError as exc:  # CONFIG renamed away or refused by an ACL
        try:
            info = client.info("persistence")
        except redis.ResponseError:
            return Durability("unknown", f"CONFIG and INFO are disabled ({exc})")
        if int(info.get("aof_enabled", 0)):
            return Durability("aof-everysec", f"INFO: aof_enabled=1 (CONFIG disabled: {exc}; "
                                              "fsync policy assumed everysec)")  # fmt: skip
        return Durability("unknown", f"INFO: aof_enabled=0 and CONFIG is disabled ({exc})")
    if aof == "yes":
        return Durability(f"aof-{fsync or 'everysec'}", f"appendonly yes, appendfsync {fsync}")
    if save.strip():
        return Durability("rdb", f"appendonly no, save {save!r}")
    return Durability("none", "appendonly no, save ''")


def check_durability(client: Any, url: str, allow_volatile: bool) -> Durability:
    """The server's mode; ConfigError if acknowledged events could be lost and not allowed."""
    found = read_durability(client)
    if found.survives_restart or allow_volatile:
        return found
    what = {
        "rdb": "only takes RDB snapshots: events acknowledged since the last snapshot are lost "
        "when Redis crashes",
        "none": "persists nothing: a Redis restart loses every acknowledged event",
        "unknown": "does not let recloop read its persistence settings",
    }[found.mode]
    raise ConfigError(f"Redis at {redact(url)} {what} ({found.detail}). {_FIX}")

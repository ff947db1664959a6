"""What every Redis backend shares: clear errors when Redis is down, deleting one store's keys."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from recloop.errors import DependencyUnavailableError

__all__ = ["delete_prefix", "glob_escape", "held_within", "redact", "talking_to", "unreachable_message"]


def redact(url: str) -> str:
    """``url`` without its password (it ends up in logs and HTTP errors)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def unreachable_message(url: str, exc: BaseException) -> str:
    """What to tell the operator when the configured Redis does not answer."""
    return (
        f"Redis at {redact(url)} is not reachable ({exc}). Start it (redis-server "
        "--daemonize yes) or set RECLOOP_STATE__TYPE=memory to use the embedded store."
    )


@contextmanager
def talking_to(url: str) -> Iterator[None]:
    """Turn a lost Redis connection into a DependencyUnavailableError that names the fix."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise DependencyUnavailableError(unreachable_message(url, exc)) from exc


@contextmanager
def held_within(lock: threading.Lock, timeout_s: float, url: str) -> Iterator[None]:
    """Hold ``lock``, waiting at most ``timeout_s``: calls queued behind one stuck on a hung
    server fail after the timeout too, instead of each adding its own."""
    if not lock.acquire(timeout=timeout_s):
        raise DependencyUnavailableError(
            f"Redis at {redact(url)} did not answer within {timeout_s} s (an earlier call is still "
            "waiting on it); nothing was written: retry, or check the server"
        )
    try:
        yield
    finally:
        lock.release()


def glob_escape(text: str) -> str:
    """``text`` with Redis glob metacharacters escaped, for SCAN MATCH."""
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)


def delete_prefix(client: Any, prefix: str, batch_size: int = 1000) -> int:
    """UNLINK every key under ``<prefix>:`` found by SCAN; returns how many."""
    batch: list[bytes] = []
    total = 0
    for key in client.scan_iter(match=glob_escape(prefix) + ":*", count=batch_size):
        batch.append(key)
        if len(batch) >= batch_size:
            total += len(batch)
            client.unlink(*batch)
            batch.clear()
    if batch:
        total += len(batch)
        client.unlink(*batch)
    return total

"""Deleting one store's keys from a shared Redis (never FLUSHDB): used by every Redis backend."""

from __future__ import annotations

from typing import Any

__all__ = ["delete_prefix", "glob_escape"]


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

"""Deterministic variant assignment by salted hash of the user id.

``bucket = first 53 bits of sha256(utf8(salt + "\\x1f" + str(user_id))) / 2^53``
is uniform on [0, 1) and identical across processes, machines and Python
versions (no use of the randomised built-in ``hash``), so any service (or
another language) can recompute a user's variant without shared state. The
bucket falls into one variant of the cumulative normalised weights. Each
experiment uses its own salt, which makes assignments of different
experiments independent of each other.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterable, Sequence

from recloop.errors import ValidationError

__all__ = ["assign", "assign_many", "bucket"]

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot appear in a salt, so keys never collide
_MANTISSA_BITS = 53


def _key(user_id: str | int, salt: str) -> bytes:
    if isinstance(user_id, bool) or not isinstance(user_id, str | int):
        raise ValidationError(f"user_id must be a str or int, got {type(user_id).__name__}")
    return f"{salt}{_SEPARATOR}{user_id}".encode()


def _check_salt(salt: str) -> None:
    if not salt or _SEPARATOR in salt:
        raise ValidationError("salt must be a non-empty string without the \\x1f character")


def bucket(user_id: str | int, salt: str) -> float:
    """Uniform [0, 1) position of ``user_id`` in the experiment salted by ``salt``.

    Integer ids hash like their decimal string (``42`` and ``"42"`` agree).
    """
    _check_salt(salt)
    digest = hashlib.sha256(_key(user_id, salt)).digest()
    return (int.from_bytes(digest[:8], "big") >> (64 - _MANTISSA_BITS)) / 2.0**_MANTISSA_BITS


def _cumulative(variants: Sequence[str], weights: Sequence[float] | None) -> tuple[list[float], int]:
    """Normalised cumulative weights and the index of the last variant with weight > 0."""
    if isinstance(variants, str) or len(variants) == 0:
        raise ValidationError("variants must be a non-empty sequence of names, e.g. ['a', 'b']")
    if len(set(variants)) != len(variants):
        raise ValidationError(f"variant names must be unique, got {list(variants)}")
    w = [1.0] * len(variants) if weights is None else [float(x) for x in weights]
    if len(w) != len(variants):
        raise ValidationError(f"give one weight per variant: {len(w)} weights, {len(variants)} variants")
    if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise ValidationError(f"weights must be finite, >= 0 and sum to > 0, got {w}")
    total, acc, cum = sum(w), 0.0, []
    for x in w:
        acc += x
        cum.append(acc / total)
    last = max(i for i, x in enumerate(w) if x > 0)
    return cum, last


def _pick(u: float, variants: Sequence[str], cum: list[float], last: int) -> str:
    # bisect_right skips zero-weight variants (equal cumulative values); min() guards
    # against the last cumulative value rounding to just below 1.
    return variants[min(bisect.bisect_right(cum, u), last)]


def assign(
    user_id: str | int,
    salt: str,
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
) -> str:
    """Variant of ``user_id`` in the experiment ``salt``.

    ``weights`` (one per variant, >= 0, any positive total; equal when None)
    are normalised; variant ``i`` gets the buckets in
    ``[W_{i-1}, W_i)`` of the cumulative weights ``W``.
    """
    cum, last = _cumulative(variants, weights)
    return _pick(bucket(user_id, salt), variants, cum, last)


def assign_many(
    user_ids: Iterable[str | int],
    salt: str,
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
) -> list[str]:
    """:func:`assign` for many users, validating the variants and weights once."""
    cum, last = _cumulative(variants, weights)
    return [_pick(bucket(uid, salt), variants, cum, last) for uid in user_ids]

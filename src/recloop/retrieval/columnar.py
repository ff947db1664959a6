"""Every user's history in columnar arrays (CSR-like), not per-user Python objects.

User ``users[r]``'s events are ``items/timestamps/ratings[indptr[r]:indptr[r+1]]``
in time order. ``users`` is a sorted array of user ids (str), looked up by binary
search, so 1M users cost no dict or list per user: 16 bytes per event (int32
item, int64 timestamp, float32 rating) plus ~8 bytes + the id per user. The
arrays save as ``.npy`` files and load memory-mapped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ColumnarHistories"]

_PARTS = ("users", "indptr", "items", "timestamps", "ratings")


@dataclass(frozen=True)
class ColumnarHistories:
    """Histories of many users in five arrays.

    ``users`` str (n_users,) sorted unique; ``indptr`` int64 (n_users + 1,);
    ``items`` int32, ``timestamps`` int64, ``ratings`` float32, each (n_events,).
    """

    users: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    timestamps: np.ndarray
    ratings: np.ndarray

    @classmethod
    def from_events(cls, users: Sequence[str] | np.ndarray, items: np.ndarray, timestamps: np.ndarray,
                    ratings: np.ndarray) -> ColumnarHistories:  # fmt: skip
        """From per-event arrays in time order (each user's order is kept).

        ``users`` may be ints or strings; only the distinct ids are turned into text, so
        30M events of int ids never become 30M Python strings.
        """
        ids = np.asarray(users)
        raw, code = np.unique(ids.astype(str) if ids.dtype.kind == "O" else ids, return_inverse=True)
        names = raw.astype(str)
        if len(names):  # int ids convert to 21-character text: keep only the width they need
            names = names.astype(f"<U{max(1, int(np.char.str_len(names).max()))}")
        by_name = np.argsort(names, kind="stable")  # text order, for the binary search of :meth:`row`
        rank = np.empty(len(names), dtype=np.int64)
        rank[by_name] = np.arange(len(names))
        uniq, code = names[by_name], rank[code.ravel()]
        order = np.argsort(code, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(code, minlength=len(uniq)))]).astype(np.int64)
        return cls(uniq, indptr, np.asarray(items)[order].astype(np.int32),
                   np.asarray(timestamps)[order].astype(np.int64),
                   np.asarray(ratings)[order].astype(np.float32))  # fmt: skip

    @classmethod
    def from_lists(cls, base: Mapping[str, tuple[list[int], list[int], list[float]]]) -> ColumnarHistories:
        """From per-user (items, timestamps, ratings) lists (tests and small callers)."""
        users = [u for u in base for _ in base[u][0]]
        cols = [np.asarray([v for u in base for v in base[u][k]]) for k in range(3)]
        return cls.from_events(np.asarray(users, dtype=str), *cols)

    def row(self, user_id: str) -> int | None:
        """The user's row, or None for a user without history here."""
        r = int(np.searchsorted(self.users, user_id))
        return r if r < len(self.users) and self.users[r] == user_id else None

    def user(self, user_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The user's (items int64, timestamps int64, ratings float32), or None if unknown."""
        r = self.row(user_id)
        if r is None:
            return None
        lo, hi = int(self.indptr[r]), int(self.indptr[r + 1])
        return (np.asarray(self.items[lo:hi], dtype=np.int64), np.asarray(self.timestamps[lo:hi]),
                np.asarray(self.ratings[lo:hi]))  # fmt: skip

    def lists(self, user_id: str) -> tuple[list[int], list[int], list[float]]:
        """The user's (items, timestamps, ratings) as lists (empty for an unknown user)."""
        got = self.user(user_id)
        return ([], [], []) if got is None else (got[0].tolist(), got[1].tolist(), got[2].tolist())

    @property
    def lengths(self) -> np.ndarray:
        """Events per user, int64 (n_users,)."""
        return np.diff(self.indptr)

    def sizes(self) -> dict[str, int]:
        """Events per user id."""
        return dict(zip(self.users.tolist(), self.lengths.tolist(), strict=True))

    def most_active(self, n: int) -> list[str]:
        """The ``n`` users with the most events (ties: the lower id first)."""
        order = np.argsort(-self.lengths, kind="stable")[:n]
        return [str(u) for u in self.users[order]]

    @property
    def nbytes(self) -> int:
        """Bytes of the five arrays."""
        return int(sum(getattr(self, p).nbytes for p in _PARTS))

    def __len__(self) -> int:
        return len(self.users)

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, str) and self.row(user_id) is not None

    def save(self, directory: Path) -> None:
        """``<directory>/{users,indptr,items,timestamps,ratings}.npy`` (directory created)."""
        directory.mkdir(parents=True, exist_ok=True)
        for p in _PARTS:
            np.save(directory / f"{p}.npy", getattr(self, p))

    @classmethod
    def load(cls, directory: Path) -> ColumnarHistories:
        """Read what :meth:`save` wrote, the arrays memory-mapped."""
        parts = [np.load(directory / f"{p}.npy", mmap_mode="r") for p in _PARTS]
        return cls(*parts)

"""What an event says about the user's taste: one table, event type and rating -> weight and polarity.

Every consumer of a history reads it through this table (docs/FEEDBACK.md): the
live histories (:class:`~recloop.serving.live.LiveState`), the ALS fold-in
confidence, the item-item source scores, the ranker's history features, the
demotion of items similar to negatives, the reasons ("because you liked" cites
positives only) and ``GET /v1/users/{id}``.

Two semantics:

* ``explicit`` (what is served): the table below. A 1-star rating is a negative,
  not an interest.
* ``implicit`` (the offline protocols P1/P2 of shared/EVALUATION.md): every
  event but a dislike is a positive of weight 1, whatever its rating.

Weights are signed: > 0 adds to the history with that weight, < 0 is a negative
of that magnitude. Polarity ``positive`` may be cited as "liked"; ``neutral``
is kept in the history with a small weight but never cited; ``negative`` is
taken out of the history and demotes similar items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = [
    "FEEDBACK_TABLE",
    "LIKED_WEIGHT",
    "RATING_RULES",
    "Feedback",
    "Polarity",
    "Semantics",
    "feedback",
    "weigh",
]

Polarity = Literal["positive", "neutral", "negative"]
Semantics = Literal["explicit", "implicit"]


@dataclass(frozen=True, slots=True)
class Feedback:
    """One row of the table: the signed weight of the event and its polarity."""

    weight: float
    polarity: Polarity


# Events without a rating, by type (``rate`` without a value counts as a neutral "seen it").
FEEDBACK_TABLE: dict[str, Feedback] = {
    "purchase": Feedback(1.0, "positive"),
    "like": Feedback(1.0, "positive"),
    "click": Feedback(0.3, "neutral"),
    "view": Feedback(0.2, "neutral"),
    "rate": Feedback(0.3, "neutral"),
    "dislike": Feedback(-1.0, "negative"),
}

# ``rate`` events with a value: (lowest rating of the band, feedback), highest band first.
RATING_RULES: tuple[tuple[float, Feedback], ...] = (
    (4.5, Feedback(1.0, "positive")),  # 5 stars
    (3.5, Feedback(0.8, "positive")),  # 4 stars
    (2.5, Feedback(0.3, "neutral")),  # 3 stars: watched, lukewarm
    (1.5, Feedback(-0.5, "negative")),  # 2 stars
    (float("-inf"), Feedback(-1.0, "negative")),  # 1 star
)

LIKED_WEIGHT = 0.5  # a history item of at least this weight is a "liked" one (reasons cite it)

_IMPLICIT_POS = Feedback(1.0, "positive")
_IMPLICIT_NEG = Feedback(-1.0, "negative")


def feedback(event_type: str, value: float | None = None, semantics: Semantics = "explicit") -> Feedback:
    """The table's row for one event: ``event_type`` and, for ``rate``, its rating ``value``."""
    if semantics == "implicit":
        return _IMPLICIT_NEG if event_type == "dislike" else _IMPLICIT_POS
    if event_type == "rate" and value is not None and value > 0:
        return next(fb for low, fb in RATING_RULES if value >= low)
    return FEEDBACK_TABLE.get(event_type, FEEDBACK_TABLE["view"])


def weigh(types: Sequence[str] | None, ratings: np.ndarray, semantics: Semantics = "explicit") -> np.ndarray:
    """Signed weights float32 (n,) for n events: ``types`` (None: all ``rate``), ``ratings`` (0: none).

    The vectorised form of :func:`feedback` (base histories hold ~100 events per user).
    """
    r = np.asarray(ratings, dtype=np.float64)
    if types is None:
        if semantics == "implicit":
            return np.ones(len(r), dtype=np.float32)
        out = np.full(len(r), FEEDBACK_TABLE["rate"].weight)
        done = np.zeros(len(r), dtype=bool)
        for low, fb in RATING_RULES:
            band = (r > 0) & (r >= low) & ~done
            out[band] = fb.weight
            done |= band
        return out.astype(np.float32)
    rows = zip(types, r.tolist(), strict=True)
    return np.asarray([feedback(t, v or None, semantics).weight for t, v in rows], dtype=np.float32)

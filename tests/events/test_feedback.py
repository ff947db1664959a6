"""The feedback table: every event type and rating has one weight and one polarity."""

from __future__ import annotations

import numpy as np
import pytest

from recloop.events.feedback import FEEDBACK_TABLE, LIKED_WEIGHT, feedback, weigh
from recloop.events.schema import EVENT_TYPES


@pytest.mark.parametrize(("kind", "value", "weight", "polarity"), [
    ("purchase", None, 1.0, "positive"), ("like", None, 1.0, "positive"),
    ("rate", 5, 1.0, "positive"), ("rate", 4, 0.8, "positive"), ("rate", 3, 0.3, "neutral"),
    ("rate", 2, -0.5, "negative"), ("rate", 1, -1.0, "negative"), ("rate", None, 0.3, "neutral"),
    ("click", None, 0.3, "neutral"), ("view", None, 0.2, "neutral"), ("dislike", None, -1.0, "negative"),
    ("rate", 4.5, 1.0, "positive"), ("rate", 2.5, 0.3, "neutral"),
])  # fmt: skip
def test_explicit_table(kind: str, value: float | None, weight: float, polarity: str) -> None:
    fb = feedback(kind, value)
    assert (fb.weight, fb.polarity) == (weight, polarity)


def test_every_event_type_has_a_row_and_polarity_matches_the_sign() -> None:
    assert set(FEEDBACK_TABLE) == set(EVENT_TYPES)
    for kind in EVENT_TYPES:
        for value in (None, 1, 2, 3, 4, 5):
            fb = feedback(kind, value)
            assert (fb.weight < 0) == (fb.polarity == "negative")
            assert (fb.weight >= LIKED_WEIGHT) == (fb.polarity == "positive")


def test_implicit_semantics_is_the_offline_protocols() -> None:
    """shared/EVALUATION.md: every rating is a positive event of weight 1."""
    for value in (1, 2, 3, 4, 5):
        assert feedback("rate", value, "implicit").weight == 1.0
    assert feedback("dislike", None, "implicit").polarity == "negative"
    assert weigh(None, np.array([1, 5, 2], np.float32), "implicit").tolist() == [1.0, 1.0, 1.0]


def test_vectorised_weights_match_the_table() -> None:
    ratings = np.array([1, 2, 3, 4, 5, 0, 3.5], np.float32)
    table = [feedback("rate", r or None).weight for r in ratings.tolist()]
    assert weigh(None, ratings).tolist() == pytest.approx(table)
    types = ["like", "view", "rate", "dislike"]
    got = weigh(types, np.array([0, 0, 2, 0], np.float32)).tolist()
    assert got == pytest.approx([1.0, 0.2, -0.5, -1.0])

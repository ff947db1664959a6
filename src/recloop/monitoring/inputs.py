"""The two sides of a drift comparison: the training reference and a time window of live traffic.

The reference comes from the training base (its latest 10 % of events, all ratings in
MovieLens) and the serving model's own lists for a sample of training users. The live side is
the events and lists of the last ``window_s`` seconds. :func:`matched` then makes both sides
comparable: the event-type mix is compared only over the types the reference has (and turned
off when it has one type only), and a check without live data (no ratings in the window) is
turned off with the reason, instead of being scored against a placeholder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from recloop.monitoring.drift import DriftInputs

__all__ = ["DisabledCheck", "LiveWindow", "live_inputs", "matched", "reference_inputs"]


@dataclass(frozen=True)
class DisabledCheck:
    """A check not run for this data, and why (shown in the API and on the Monitoring page)."""

    name: str
    label: str
    reason: str


@dataclass(frozen=True)
class LiveWindow:
    """The live events ``(item, type, rating, t)`` and lists ``(scores, cold, items, t)`` of a window."""

    events: Sequence[tuple[int, str, float, float]]
    recs: Sequence[tuple[Any, bool, Any, float]]


def genre_counts(genre_of: Sequence[Sequence[str]], items: Sequence[int]) -> dict[str, int]:
    """Genre -> number of events on items of that genre (an item without genres: ``unknown``)."""
    c: Counter[str] = Counter()
    for i in items:
        c.update(genre_of[i] or ("unknown",))
    return dict(c)


def reference_inputs(service: Any, genre_of: Sequence[Sequence[str]], sample_users: int) -> DriftInputs:
    """The reference: the base's latest 10 % of events and the model's lists for training users."""
    live = service.live
    base = live.base
    users = base.users[:: max(1, len(base) // sample_users)][:sample_users].tolist()
    order = np.argsort(base.timestamps, kind="stable")
    recent = order[-max(1, len(order) // 10) :]
    items = base.items[recent].tolist()
    stats = live.stats
    pop = np.log1p(stats.counts)
    scores, recs = [], []
    model = service.model.model
    for u in users:
        ranked = model.rank(live.history(u), stats, stats.now, 10)
        scores.extend(ranked.scores.tolist())
        recs.extend(ranked.items.tolist())
    return DriftInputs(
        output_scores=np.asarray(scores), cold_start_share=0.0,
        recommended_counts={str(k): v for k, v in Counter(recs).items()},
        numeric={"rating": base.ratings[recent].astype(float), "item_popularity": pop[items]},
        categorical={"event_type": {"rate": len(recent)}, "genre": genre_counts(genre_of, items)},
    )  # fmt: skip


def live_inputs(window: LiveWindow, popularity: Any, genre_of: Sequence[Sequence[str]],
                positive_rate: float | None) -> DriftInputs:  # fmt: skip
    """The live side over ``window`` (``rating`` empty when the window holds no ratings)."""
    events, recs = window.events, window.recs
    items = [e[0] for e in events]
    return DriftInputs(
        output_scores=np.concatenate([r[0] for r in recs]),
        cold_start_share=float(np.mean([r[1] for r in recs])),
        recommended_counts={str(k): v for k, v in Counter(int(i) for r in recs for i in r[2]).items()},
        numeric={"rating": np.asarray([e[2] for e in events if e[1] == "rate"], dtype=float),
                 "item_popularity": np.log1p(popularity)[items]},
        categorical={"event_type": dict(Counter(e[1] for e in events)),
                     "genre": genre_counts(genre_of, items)},
        positive_rate=positive_rate,
    )  # fmt: skip


def matched(
    reference: DriftInputs, current: DriftInputs
) -> tuple[DriftInputs, DriftInputs, list[DisabledCheck]]:
    """Both sides restricted to what can be compared, and the checks that were turned off."""
    off: list[DisabledCheck] = []
    ref_types = reference.categorical.get("event_type", {})
    live_types = current.categorical.get("event_type", {})
    cats = dict(current.categorical)
    if "event_type" in reference.categorical:
        shared = {t: n for t, n in live_types.items() if t in ref_types}
        if len(ref_types) < 2:
            only = ", ".join(sorted(ref_types)) or "none"
            off.append(DisabledCheck("categorical.event_type", "Event-type mix",
                                     f"the training reference holds one event type only ({only}); live "
                                     f"traffic has {', '.join(sorted(live_types))}: a mix cannot be "
                                     "compared"))  # fmt: skip
        elif not shared:
            off.append(DisabledCheck("categorical.event_type", "Event-type mix",
                                     "no live events of the types the reference has"))  # fmt: skip
        else:
            cats["event_type"] = shared
    drop_cat = {d.name.split(".", 1)[1] for d in off}
    drop_num: set[str] = set()
    if "rating" in current.numeric and current.numeric["rating"].size == 0:
        off.append(DisabledCheck("numeric.rating", "Ratings",
                                 "no ratings in the live window (clicks and likes carry none)"))  # fmt: skip
        drop_num.add("rating")

    def keep(inputs: DriftInputs, categorical: dict[str, dict[str, int]] | None = None) -> DriftInputs:
        cat = categorical if categorical is not None else dict(inputs.categorical)
        return replace(inputs, numeric={k: v for k, v in inputs.numeric.items() if k not in drop_num},
                       categorical={k: v for k, v in cat.items() if k not in drop_cat})  # fmt: skip

    return keep(reference), keep(current, {k: dict(v) for k, v in cats.items()}), off

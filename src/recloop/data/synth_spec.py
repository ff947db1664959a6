"""What ``recloop data synth`` generates: the named shapes and the resolved counts.

A :class:`SynthSpec` fixes every number the generator needs, so the same spec and seed
give the same bytes. ``--fraction F`` scales users and events by ``F`` and the catalog
by ``F ** 0.6`` (a small fraction still has a catalog of realistic size per user).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from recloop.errors import ValidationError

__all__ = ["GENERATOR_VERSION", "SHAPES", "ShapeDefaults", "SynthSpec", "make_spec"]

GENERATOR_VERSION = 1
"""Bumped whenever a change to the generator changes its output for a given seed."""

ITEM_SCALE_EXPONENT = 0.6
MAX_DENSITY = 0.5  # events / (users * items) above this cannot stay repeat-free with a tail


@dataclass(frozen=True)
class ShapeDefaults:
    """A named shape's full-size counts and its structure knobs.

    ``min_events``: fewest events per user (MovieLens keeps users with >= 20 ratings);
    ``span_days``: the time the events cover; ``start``: the first second (Unix s);
    ``zipf``: item popularity exponent; ``session_mean``: mean events per session;
    ``pareto``: user-activity tail exponent (smaller = heavier tail).
    """

    users: int
    items: int
    events: int
    clusters: int
    min_events: int
    span_days: float
    start: int
    zipf: float
    session_mean: float
    pareto: float


SHAPES: dict[str, ShapeDefaults] = {
    # MovieLens-20M's published counts; 2000-01-01, ten years
    "ml20m": ShapeDefaults(138_493, 26_744, 20_000_263, clusters=20, min_events=20, span_days=3650.0,
                           start=946_684_800, zipf=0.9, session_mean=12.0, pareto=1.2),
    # a shop: a million customers, 200k products, two years from 2024-01-01
    "shop": ShapeDefaults(1_000_000, 200_000, 30_000_000, clusters=50, min_events=3, span_days=730.0,
                          start=1_704_067_200, zipf=1.0, session_mean=4.0, pareto=1.3),
}  # fmt: skip


@dataclass(frozen=True)
class SynthSpec:
    """The resolved generation: a shape's knobs with the final counts and the seed."""

    shape: str
    fraction: float
    seed: int
    users: int
    items: int
    events: int
    clusters: int
    min_events: int
    span_days: float
    start: int
    zipf: float
    session_mean: float
    pareto: float

    @property
    def span_s(self) -> int:
        """The time the events cover, in seconds."""
        return int(self.span_days * 86_400)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (the manifest's ``spec``)."""
        return asdict(self)


def _check(shape: str, users: int, items: int, events: int, clusters: int) -> None:
    if users < 1 or items < 1 or events < users:
        raise ValidationError(
            f"shape {shape}: {users:,} users, {items:,} items, {events:,} events; need at least one "
            "user and one item and at least one event per user (raise --events or lower --users)",
            field="events",
        )
    if items < 2 * clusters:
        raise ValidationError(f"shape {shape}: {items:,} items for {clusters} taste clusters; "
                              f"pass --items {2 * clusters} or more", field="items")  # fmt: skip
    if events > MAX_DENSITY * users * items:
        raise ValidationError(
            f"shape {shape}: {events:,} events for {users:,} users x {items:,} items is denser than "
            f"{MAX_DENSITY:.0%}; histories are repeat-free, so raise --items or lower --events",
            field="events",
        )


def make_spec(shape: str, fraction: float = 1.0, seed: int = 0, users: int | None = None,
              items: int | None = None, events: int | None = None) -> SynthSpec:  # fmt: skip
    """Resolve a named shape, a fraction and explicit count overrides into a spec."""
    if shape not in SHAPES:
        raise ValidationError(f"--shape {shape!r}: choose {' or '.join(SHAPES)}", field="shape")
    if not 0.0 < fraction <= 1.0:
        raise ValidationError(f"--fraction {fraction}: give a number in (0, 1]", field="fraction")
    d = SHAPES[shape]
    n_users = users if users is not None else max(1, round(d.users * fraction))
    n_items = items if items is not None else max(1, round(d.items * fraction**ITEM_SCALE_EXPONENT))
    n_events = events if events is not None else max(1, round(d.events * fraction))
    clusters = max(1, min(d.clusters, n_items // 4))
    _check(shape, n_users, n_items, n_events, clusters)
    min_events = max(1, min(d.min_events, n_events // n_users // 2))
    return SynthSpec(shape, fraction, seed, n_users, n_items, n_events, clusters, min_events, d.span_days,
                     d.start, d.zipf, d.session_mean, d.pareto)  # fmt: skip

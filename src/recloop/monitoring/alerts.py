"""Drift alerts collapsed per check: one open alert per check while it keeps failing.

A check that fails on consecutive runs is one :class:`OpenAlert` ("drifting since 08:39", seen
N times, last seen at ...); it closes when the check passes again (or is no longer scored) and
moves to the bounded list of closed alerts. Only an alert that *opens* asks for a retrain, so a
check that stays red for an hour asks once, not twelve times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

__all__ = ["AlertBook", "AlertUpdate", "FailingCheck", "OpenAlert"]


@dataclass(frozen=True)
class FailingCheck:
    """One check over its threshold in one run: its key, label and the statistic it had."""

    key: str
    label: str
    value: float


@dataclass(frozen=True)
class OpenAlert:
    """A check failing since ``since`` (Unix s), ``count`` runs in a row, last at ``last_seen``.

    ``closed_at`` is set once the check recovered (the alert is then history).
    """

    key: str
    label: str
    since: float
    last_seen: float
    count: int
    value: float
    closed_at: float | None = None


@dataclass(frozen=True)
class AlertUpdate:
    """What one run changed: alerts that opened and alerts that closed."""

    opened: tuple[OpenAlert, ...]
    closed: tuple[OpenAlert, ...]


class AlertBook:
    """Open alerts by check key, and the latest ``keep_closed`` closed ones (not thread-safe:
    the owner serialises runs)."""

    def __init__(self, keep_closed: int = 50) -> None:
        self.open: dict[str, OpenAlert] = {}
        self.closed: list[OpenAlert] = []
        self.keep_closed = keep_closed

    def update(self, failing: Iterable[FailingCheck], now: float) -> AlertUpdate:
        """Record one completed run at ``now`` whose checks over threshold are ``failing``.

        A failing check with an open alert extends it; a new one opens; an open alert whose
        check passed (or was not scored: turned off) closes. A run skipped for lack of data
        is not a run: do not call this, and open alerts stay as they are.
        """
        fails = {f.key: f for f in failing}
        opened: list[OpenAlert] = []
        for key, f in fails.items():
            current = self.open.get(key)
            if current is None:
                self.open[key] = OpenAlert(key, f.label, now, now, 1, f.value)
                opened.append(self.open[key])
            else:
                self.open[key] = replace(current, last_seen=now, count=current.count + 1, value=f.value)
        closed = [replace(a, closed_at=now) for k, a in self.open.items() if k not in fails]
        for a in closed:
            del self.open[a.key]
        self.closed = [*closed, *self.closed][: self.keep_closed]
        return AlertUpdate(tuple(opened), tuple(closed))

    def open_alerts(self) -> list[OpenAlert]:
        """Open alerts, the oldest first."""
        return sorted(self.open.values(), key=lambda a: (a.since, a.key))

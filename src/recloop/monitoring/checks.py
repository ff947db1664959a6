"""How each drift check is named and plotted: a stable key, a human label, the plotted value.

The key is ``name`` for PSI/delta/drop checks and ``name:kind`` for the KS and chi-squared tests
of the same input. A test alerts on its p-value, so its p-value is what is plotted against its
threshold; every other check plots its statistic.
"""

from __future__ import annotations

from typing import Literal

from recloop.monitoring.drift import DriftScore

__all__ = ["Direction", "alert_direction", "check_key", "check_label", "plots_p_value", "plotted_value"]

Direction = Literal["below", "above", "abs_above"]

_SUBJECTS = {
    "numeric.rating": "Ratings",
    "numeric.item_popularity": "Item popularity",
    "categorical.event_type": "Event-type mix",
    "categorical.genre": "Genre mix",
    "output.scores": "Ranking scores",
    "output.cold_start_share": "Cold-start share of lists",
    "output.gini": "Concentration of recommended items (Gini)",
    "online.positive_rate": "Online positive rate",
}
_KINDS = {"psi": "PSI", "ks": "Kolmogorov-Smirnov", "chi2": "chi-squared",
          "delta": "change vs reference", "relative_drop": "relative drop"}  # fmt: skip


def check_key(name: str, kind: str) -> str:
    """``categorical.genre:chi2`` for a test, ``categorical.genre`` for its PSI."""
    return f"{name}:{kind}" if kind in ("ks", "chi2") else name


def check_label(name: str, kind: str) -> str:
    """A human label: "Genre mix (chi-squared)", "Cold-start share of lists (change vs reference)"."""
    subject = _SUBJECTS.get(name, name.rsplit(".", 1)[-1].replace("_", " ").capitalize())
    return f"{subject} ({_KINDS.get(kind, kind)})"


def plots_p_value(kind: str) -> bool:
    """Whether the check's rule (and so its chart) is on the p-value."""
    return kind in ("ks", "chi2")


def plotted_value(score: DriftScore) -> float:
    """The value compared with the threshold: the p-value of a test, else the statistic."""
    if plots_p_value(score.kind) and score.p_value is not None:
        return score.p_value
    return score.statistic


def alert_direction(kind: str) -> Direction:
    """When the plotted value alerts: ``below`` the threshold (tests), ``abs_above`` (deltas), ``above``."""
    if plots_p_value(kind):
        return "below"
    return "abs_above" if kind == "delta" else "above"

"""Resolve ``--models`` names into protocol builders (baselines and the champion)."""

from __future__ import annotations

from recloop.config import Settings
from recloop.errors import ValidationError
from recloop.evaluation.baselines import KNOWN_BASELINES, baseline_builder
from recloop.evaluation.protocols import ModelBuilder
from recloop.events.feedback import Semantics
from recloop.pipelines.recipe import registered_builder

__all__ = ["builders_for"]


def builders_for(
    names: list[str], settings: Settings, semantics: Semantics = "implicit"
) -> list[ModelBuilder]:
    """Builders in the order given; ``champion`` is resolved through the registry.

    ``semantics`` is the registered models' P2 feedback semantics (the baselines are
    implicit models whatever it is).
    """
    out: list[ModelBuilder] = []
    for name in names:
        if name in KNOWN_BASELINES:
            out.append(baseline_builder(name, settings))
        elif name == "champion" or name == "challenger":
            out.append(registered_builder(name, settings, semantics))
        else:
            raise ValidationError(
                f"unknown model {name!r}; choose from champion, {', '.join(KNOWN_BASELINES)}"
            )
    return out

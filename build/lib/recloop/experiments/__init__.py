"""Online experiments: user assignment, statistics for A/B tests, bandits.

Modules: :mod:`~recloop.experiments.assignment` (salted-hash bucketing),
:mod:`~recloop.experiments.stats` (fixed-horizon and always-valid tests,
SRM, power), :mod:`~recloop.experiments.bandit` (Thompson sampling) and
:mod:`~recloop.experiments.aa` (A/A simulation of false-positive rates).
"""

__all__: list[str] = []

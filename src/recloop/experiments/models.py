"""Immutable values of the experiment platform: specs, experiments, logs, results.

An :class:`ExperimentSpec` is what an admin posts; the engine turns it into an
:class:`Experiment` (id, status, timestamps). :class:`Exposure` (a list served
to a user under a variant) and :class:`Outcome` (a user event attributed to an
exposure) are the two logs; :class:`VariantCounters` are the running sums the
store keeps per variant so that results cost O(variants), whatever the traffic.
:class:`Results` is the ``GET /v1/experiments/{id}/results`` payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recloop.experiments.exploration import ExplorationConfig

__all__ = [
    "BINARY_METRICS",
    "INTERLEAVED",
    "METRICS",
    "MODEL_ALIASES",
    "CupedOut",
    "Experiment",
    "ExperimentSpec",
    "Exposure",
    "InterleavingOut",
    "MetricName",
    "Outcome",
    "Results",
    "SequentialOut",
    "SrmOut",
    "Variant",
    "VariantCounters",
    "VariantResult",
]

MetricName = Literal["ctr", "like_rate", "mean_rating", "positive_rate"]
METRICS: tuple[str, ...] = get_args(MetricName)
BINARY_METRICS: tuple[str, ...] = ("ctr", "like_rate", "positive_rate")
"""Metrics that are a rate of exposures with at least one success; ``mean_rating`` is a mean."""

MODEL_ALIASES: tuple[str, ...] = ("champion", "challenger", "popular")
"""Model references a variant may name besides a registry version number."""


class Variant(BaseModel):
    """One arm: a name shown in results, the model it serves and its traffic weight.

    ``model`` is ``"champion"`` / ``"challenger"`` (registry aliases), a
    registry version number as a string (``"3"``) or ``"popular"`` (most
    popular unseen items, no model). ``weight`` (>= 0, any positive total)
    is the A/B traffic share; bandit mode ignores it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    model: str = Field(description='"champion", "challenger", "popular" or a version number like "3"')
    weight: float = Field(default=1.0, ge=0.0, allow_inf_nan=False)

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        v = value.strip()
        if v in MODEL_ALIASES or (v.isdigit() and int(v) > 0):
            return str(int(v)) if v.isdigit() else v
        raise ValueError(f"{value!r} is not a model: use champion, challenger, popular or a version like '3'")

    @property
    def registry_version(self) -> int | None:
        """The version number when ``model`` names one, else None."""
        return int(self.model) if self.model.isdigit() else None


class ExperimentSpec(BaseModel):
    """What to test: 2-5 variants (the first is the control), the metric, the rules.

    ``primary_metric`` decides the winner; ``guardrails`` are metrics the
    winner must not be significantly worse on (fixed-horizon test at
    ``alpha``). ``mode="bandit"`` allocates traffic by Thompson sampling on
    the primary metric instead of the weights. ``mode="interleaving"`` (exactly
    two variants, weights ignored) serves every user one team-draft merge of
    both variants' lists and credits each click to the variant that
    contributed the item (:mod:`recloop.experiments.interleaving`);
    ``primary_metric`` must then be ``ctr``. ``exploration``: an optional
    randomisation of served lists so that logged propensities support
    off-policy evaluation (:mod:`recloop.experiments.exploration`).
    ``attribution_window_s``:
    an event without a ``request_id`` is attributed to the user's latest
    exposure if it happened at most this long after it. ``salt`` seeds the
    hash assignment (default: the experiment id). The sequential test's
    mixing sd comes from the plan: ``planned_exposures`` per variant at a
    control rate of ``baseline_rate`` (for ``mean_rating``: that many
    ratings per variant with the MovieLens rating variance, 1.27). Looks
    before every variant has ``min_users`` exposed users do not count for
    the sequential test (plug-in variances of tiny arms break its guarantee).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    variants: tuple[Variant, ...] = Field(min_length=2, max_length=5)
    primary_metric: MetricName = "ctr"
    guardrails: tuple[MetricName, ...] = ()
    mode: Literal["ab", "bandit", "interleaving"] = "ab"
    exploration: ExplorationConfig = Field(default_factory=ExplorationConfig)
    attribution_window_s: float = Field(default=1800.0, gt=0.0, le=7 * 86400.0)
    auto_promote: bool = False
    alpha: float = Field(default=0.05, gt=0.0, lt=0.5)
    salt: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[^\x1f]+$")
    planned_exposures: int = Field(default=2000, ge=10, le=100_000_000)
    baseline_rate: float = Field(default=0.1, gt=0.0, lt=1.0)
    min_users: int = Field(default=50, ge=2, le=1_000_000)

    @model_validator(mode="after")
    def _consistent(self) -> ExperimentSpec:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be unique, got {names}")
        if self.mode == "ab" and sum(v.weight for v in self.variants) <= 0:
            raise ValueError("variant weights must have a positive sum")
        if self.mode == "interleaving" and (len(self.variants) != 2 or self.primary_metric != "ctr"):
            raise ValueError("interleaving compares exactly 2 variants on primary_metric 'ctr'")
        if len(set(self.guardrails)) != len(self.guardrails):
            raise ValueError(f"guardrails must be unique, got {list(self.guardrails)}")
        return self

    @property
    def control(self) -> Variant:
        """The first variant: every other one is compared with it."""
        return self.variants[0]

    def variant(self, name: str) -> Variant:
        """The variant called ``name`` (KeyError if none)."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)


class Experiment(BaseModel):
    """A created experiment. ``promoted_version``: set when auto-promote acted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    spec: ExperimentSpec
    status: Literal["running", "stopped"] = "running"
    created_at: datetime
    stopped_at: datetime | None = None
    promoted_version: int | None = None

    @property
    def name(self) -> str:
        """The spec's name."""
        return self.spec.name

    @property
    def salt(self) -> str:
        """Hash salt of the assignment: the spec's, else the id."""
        return self.spec.salt or self.id

    def public(self) -> dict[str, Any]:
        """The ``Experiment`` object of docs/API.md."""
        return {
            "id": self.id,
            "name": self.spec.name,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "primary_metric": self.spec.primary_metric,
            "mode": self.spec.mode,
            "variants": [v.model_dump() for v in self.spec.variants],
        }


INTERLEAVED = "interleaved"
"""The ``variant`` of an interleaving exposure (its slots name the teams)."""


@dataclass(frozen=True, slots=True)
class Exposure:
    """A list served under ``variant``: ``items`` are public item ids in rank order, ``ts`` Unix s.

    Per shown position (empty for logs written before they existed):
    ``teams`` names the variant that contributed the slot (interleaving; for
    A/B and bandit every slot is ``variant``); ``propensities`` is the
    probability that the serving policy showed that item there, the variant's
    assignment probability included (exact for A/B weights, epsilon
    exploration and team draft; for the bandit the Thompson probability when
    the user was routed). ``pre_activity``: the user's number of interactions
    when the list was served (the first exposure's value is the CUPED covariate).
    """

    experiment_id: str
    variant: str
    user_id: str
    request_id: str
    items: tuple[int, ...]
    ts: float
    teams: tuple[str, ...] = ()
    propensities: tuple[float, ...] = ()
    pre_activity: float | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """An event attributed to an exposure; ``metrics`` maps metric name -> value.

    Binary metrics carry 1.0 (success) or 0.0; ``mean_rating`` carries the
    rating (1-5). Idempotent by ``event_id``.
    """

    experiment_id: str
    variant: str
    request_id: str
    user_id: str
    event_id: str
    item_id: int
    metrics: Mapping[str, float]
    ts: float


@dataclass(frozen=True, slots=True)
class VariantCounters:
    """Running sums of one variant, with users as the unit (for cluster-robust variances).

    Per user ``u`` of the variant: ``n_u`` lists, ``x_u[m]`` lists with a
    success on binary metric ``m``, ``k_u`` ratings summing to ``r_u``.
    ``exposures = sum n_u``, ``users`` = number of users,
    ``successes[m] = sum x_u[m]``, ``ratings = sum k_u``,
    ``rating_sum = sum r_u``, ``rating_sumsq`` = sum of squared ratings, and
    the per-user cross sums ``n_sq = sum n_u^2``, ``x_sq[m] = sum x_u[m]^2``,
    ``xn[m] = sum x_u[m] n_u``, ``k_sq = sum k_u^2``, ``r_sq = sum r_u^2``,
    ``rk = sum r_u k_u`` (delta-method variances of the ratio metrics).
    """

    exposures: int = 0
    users: int = 0
    successes: Mapping[str, int] = field(default_factory=dict)
    ratings: int = 0
    rating_sum: float = 0.0
    rating_sumsq: float = 0.0
    n_sq: float = 0.0
    x_sq: Mapping[str, float] = field(default_factory=dict)
    xn: Mapping[str, float] = field(default_factory=dict)
    k_sq: float = 0.0
    r_sq: float = 0.0
    rk: float = 0.0


class VariantResult(BaseModel):
    """One variant in the results; for ``mean_rating`` ``successes`` counts ratings."""

    name: str
    model: str
    exposures: int
    successes: int
    rate: float | None
    ci: tuple[float | None, float | None]


class SequentialOut(BaseModel):
    """Always-valid mSPRT p-value (running minimum over looks) and whether it rejects."""

    p_value: float | None
    reject: bool


class SrmOut(BaseModel):
    """Sample-ratio-mismatch chi-square p-value over exposed users; alert below 0.001."""

    p_value: float | None
    mismatch: bool


class InterleavingOut(BaseModel):
    """Interleaving result: per-user preference for ``b`` (the second variant) over ``a``.

    ``delta`` = share of users preferring b minus share preferring a, with a
    bootstrap CI; ``p_value``: exact sign test (fixed horizon); ``sequential``:
    always-valid mSPRT on the per-user preferences (running minimum).
    """

    users: int
    wins_a: int
    wins_b: int
    ties: int
    delta: float | None
    ci: tuple[float | None, float | None]
    p_value: float | None


class CupedOut(BaseModel):
    """CUPED on the per-user primary metric (lists with a success / lists), beside the plain estimate.

    Covariate: the user's interactions before their first exposure. ``diff``
    is treatment minus control of per-user means, with Welch intervals.
    """

    variant: str
    users: int
    diff: float | None
    ci: tuple[float | None, float | None]
    p_value: float | None
    diff_cuped: float | None
    ci_cuped: tuple[float | None, float | None]
    p_value_cuped: float | None
    variance_reduction: float | None


class Results(BaseModel):
    """The ``Results`` object of docs/API.md (null where a figure is undefined yet)."""

    id: str
    name: str
    status: Literal["running", "stopped"]
    variants: list[VariantResult]
    lift: float | None
    lift_ci: tuple[float | None, float | None]
    p_value: float | None
    sequential: SequentialOut
    srm: SrmOut
    decision: str
    mode: str = "ab"
    interleaving: InterleavingOut | None = None
    cuped: list[CupedOut] = Field(default_factory=list)

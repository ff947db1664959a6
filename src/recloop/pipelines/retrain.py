"""``recloop retrain``: retrain on base + live data, compare on a fresh window, maybe promote.

Data: the dataset's interactions plus every positive live event of the
feature store, in the canonical event order of shared/EVALUATION.md. The
latest ``window_fraction`` of it is held out; a challenger is trained (and
registered) on everything before. The champion and the challenger are then
scored on the same window, from the same pre-window history
(:mod:`recloop.pipelines.compare`), and the challenger is promoted only if
the primary metric improves by ``margin`` and no guardrail breaks.

How the champion is scored (``champion_eval``): ``"auto"`` scores the
champion's artifact as it serves when its training data provably ends
before the window (its ``last_timestamp`` fact is earlier than the window's
first event); otherwise, and always with ``"refit"``, its registered recipe
(config + ALS params) is refitted on exactly the frame the challenger was
fitted on, so neither model has seen the window.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import structlog

from recloop.config import Settings
from recloop.data import Dataset, event_order, load_dataset
from recloop.errors import ValidationError
from recloop.evaluation.baselines import BASELINE_NAMES, baseline_builder
from recloop.evaluation.protocols import OnlineModel
from recloop.evaluation.splits import temporal_user_split
from recloop.events.schema import Event
from recloop.features.store import open_event_log
from recloop.pipelines.compare import (
    Check,
    Policy,
    Primary,
    Window,
    decide,
    score_window,
    split_window,
)
from recloop.pipelines.train import train_and_register
from recloop.pipelines.twostage import fit_two_stage
from recloop.ranking.bundle import LoadedBundle, TwoStageConfig, load_bundle
from recloop.ranking.inputs import item_stats, replay_histories
from recloop.registry import CHAMPION, ModelRegistry, registry_from_settings
from recloop.serving.session import ModelSession

__all__ = ["Contender", "RetrainDecision", "RetrainPlan", "conclude", "contenders", "judge",
           "merge_live_events", "plan_retrain", "retrain", "sample_users"]

log = structlog.get_logger(__name__)
Stage = Callable[[str], None]
ChampionEval = Literal["auto", "refit"]
TAG = "recloop.retrain"


@dataclass(frozen=True)
class Contender:
    """A version's window metrics; ``evaluated_as``: ``artifact`` or ``refit`` (its recipe)."""

    version: int
    metrics: dict[str, float]
    evaluated_as: str = "artifact"


@dataclass(frozen=True)
class RetrainDecision:
    """The outcome of one retraining run, JSON-ready via :meth:`to_dict`.

    ``champion`` is ``None`` when there was no champion before (the new
    version then became champion as the first one). ``window``: sizes and
    time span of the evaluation window; ``data``: what was merged.
    """

    decision: Literal["promoted", "kept"]
    reason: str
    champion: Contender | None
    challenger: Contender
    primary: Check | None
    guardrails: dict[str, Check]
    baselines: dict[str, dict[str, float]]
    window: dict[str, Any]
    data: dict[str, Any]
    policy: Policy
    timings: dict[str, float]
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_dict(self) -> dict[str, Any]:
        """``{"decision", "reason", "champion", "challenger", "guardrails", "window", ...}``."""
        return {
            "decision": self.decision, "reason": self.reason,
            "champion": asdict(self.champion) if self.champion else None,
            "challenger": asdict(self.challenger),
            "primary": asdict(self.primary) if self.primary else None,
            "guardrails": {k: asdict(c) for k, c in self.guardrails.items()},
            "baselines": self.baselines, "window": self.window, "data": self.data,
            "policy": asdict(self.policy), "timings": self.timings,
            "created_at": self.created_at.isoformat(),
            "protocols": "P1-window and P2-window replay (recloop.pipelines.compare)",
        }  # fmt: skip


def _user_key(raw: str, numeric: dict[str, int], extra: dict[str, int], start: int) -> int:
    """Canonical decimal ids keep their value; other ids get fresh ints above ``start``."""
    if raw.lstrip("-").isdigit() and str(int(raw)) == raw:
        return numeric.setdefault(raw, int(raw))
    return extra.setdefault(raw, start + len(extra))


def merge_live_events(
    base: pd.DataFrame, events: Sequence[Event], user_keys: dict[str, int] | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Base interactions + positive live events as one frame in canonical event order.

    Live rows: ``user_id`` (decimal ids as ints; any other id is mapped to a new
    int above every known id, in log order), ``item_id``, ``rating`` (the rate
    value, else 0) and ``timestamp`` (whole seconds). Dislikes are not
    interactions. Only the first interaction of each (user, item) pair is kept.
    Returns the frame and counts of what was merged; ``user_keys``, if given, receives the
    text id -> int of every id that was mapped.
    """
    positive = [e for e in events if e.positive]
    numeric: dict[str, int] = {}
    extra: dict[str, int] = {} if user_keys is None else user_keys
    known = [int(base["user_id"].max()) if len(base) else 0]
    known += [int(e.user_id) for e in positive
              if e.user_id.lstrip("-").isdigit() and str(int(e.user_id)) == e.user_id]  # fmt: skip
    start = max(known) + 1
    live = pd.DataFrame({
        "user_id": np.asarray([_user_key(e.user_id, numeric, extra, start) for e in positive],
                              dtype=np.int64),
        "item_id": np.asarray([e.item_id for e in positive], dtype=np.int64),
        "rating": np.asarray([e.rating for e in positive], dtype=np.float64),
        "timestamp": np.floor([e.timestamp for e in positive]).astype(np.int64),
    })  # fmt: skip
    merged = event_order(pd.concat([base[live.columns], live], ignore_index=True))
    frame = merged.drop_duplicates(["user_id", "item_id"], keep="first").reset_index(drop=True)
    facts = {"base_rows": len(base), "live_events": len(events), "live_positive": len(positive),
             "live_dislikes": len(events) - len(positive), "mapped_user_ids": len(extra),
             "duplicates_dropped": len(merged) - len(frame), "rows": len(frame)}  # fmt: skip
    return frame, facts


def sample_users(frame: pd.DataFrame, fraction: float, seed: int = 7) -> pd.DataFrame:
    """Rows of a random ``fraction`` of the users (at least one), order kept."""
    if not 0.0 < fraction <= 1.0:
        raise ValidationError(f"sample fraction must be in (0, 1], got {fraction}")
    users = np.sort(frame["user_id"].unique())
    n = max(1, round(fraction * len(users)))
    keep = np.random.default_rng(seed).choice(users, size=n, replace=False)
    return frame[frame["user_id"].isin(keep)].reset_index(drop=True)


def _store_events(settings: Settings, n_items: int) -> list[Event]:
    store = open_event_log(settings.state, n_items, settings.home)  # read-only: a server may own it
    try:
        return [e for _, e in store.events()]
    finally:
        store.close()


def _session(dataset: Dataset, bundle: LoadedBundle, window: Window) -> ModelSession:
    stats = item_stats(dataset, window.history, bundle.config.half_life_days)
    return ModelSession(bundle.model, stats, replay_histories(dataset, window.history))


def _champion(
    registry: ModelRegistry, version: int, dataset: Dataset, window: Window,
    fit_frame: pd.DataFrame, settings: Settings, mode: ChampionEval,
) -> tuple[ModelSession, str]:  # fmt: skip
    """The champion as a session at the window start, and how it was obtained."""
    bundle = load_bundle(registry.download(version), dataset)
    last = bundle.meta.get("facts", {}).get("last_timestamp")
    clean = last is not None and int(last) < int(window.events["timestamp"].iloc[0])
    if mode == "auto" and clean:
        return _session(dataset, bundle, window), "artifact"
    model, _, _ = fit_two_stage(dataset, fit_frame, settings, bundle.config)  # its own recipe
    refitted = LoadedBundle(model, bundle.config, bundle.meta)
    return _session(dataset, refitted, window), "refit"


def _record(registry: ModelRegistry, d: RetrainDecision, report: Path | None) -> None:
    """Tag both versions with the decision, the reason and their own window metrics."""
    pairs = [("challenger", d.challenger, d.champion), ("champion", d.champion, d.challenger)]
    for role, me, other in pairs:
        if me is None:
            continue
        registry.set_version_tags(me.version, {
            f"{TAG}.decision": d.decision, f"{TAG}.reason": d.reason[:4000],
            f"{TAG}.role": role, f"{TAG}.opponent": str(other.version) if other else "",
            f"{TAG}.at": d.created_at.isoformat(), f"{TAG}.evaluated_as": me.evaluated_as,
            f"{TAG}.metrics": json.dumps(me.metrics), f"{TAG}.report": str(report or ""),
        })  # fmt: skip


def _contenders(
    registry: ModelRegistry, before: int | None, new: int, data: Dataset, window: Window,
    settings: Settings, champion_eval: ChampionEval, baselines: Sequence[str], say: Stage,
) -> tuple[dict[str, OnlineModel], str]:  # fmt: skip
    """Champion (as evaluated: ``how``), challenger and baselines, ready to score on the window."""
    models: dict[str, OnlineModel] = {}
    how = "artifact"
    if before is not None:
        say(f"load champion v{before} ({champion_eval})")
        models["champion"], how = _champion(registry, before, data, window,
                                            temporal_user_split(window.history)[0], settings,
                                            champion_eval)  # fmt: skip
    models["challenger"] = _session(data, load_bundle(registry.download(new), data), window)
    for name in baselines:
        models[f"baseline.{name}"] = baseline_builder(name, settings).build(data, window.history)
    return models, how


def judge(
    before: int | None, new: int, scores: dict[str, Any], how: str, policy: Policy, common: dict[str, Any],
) -> RetrainDecision:  # fmt: skip
    """Promote the challenger or keep the champion, by ``policy`` on the window's scores (no side effect)."""
    challenger = Contender(new, scores["challenger"])
    common = {**common, "baselines": {k.removeprefix("baseline."): v for k, v in scores.items()
                                      if k.startswith("baseline.")}}  # fmt: skip
    if before is None:
        reason = f"no champion before: v{new} became champion as the first version"
        return RetrainDecision("promoted", reason, None, challenger, None, {}, **common)
    verdict = decide(scores["champion"], scores["challenger"], policy)
    return RetrainDecision("promoted" if verdict.promote else "kept", verdict.reason,
                           Contender(before, scores["champion"], how), challenger,
                           verdict.primary, verdict.guardrails, **common)  # fmt: skip


def conclude(settings: Settings, decision: RetrainDecision, write_report: bool = True) -> Path | None:
    """Act on a decision: promote (when it says so over a champion), write the report, tag both versions."""
    from recloop.pipelines.report import write_retrain_report

    registry = registry_from_settings(settings)
    if decision.decision == "promoted" and decision.champion is not None:
        registry.promote(decision.challenger.version)
    files = write_retrain_report(decision, settings.home / "reports") if write_report else None
    _record(registry, decision, files.json if files else None)
    log.info("retrain decided", decision=decision.decision,
             champion=decision.champion.version if decision.champion else None,
             challenger=decision.challenger.version, reason=decision.reason)  # fmt: skip
    return files.json if files else None


@dataclass(frozen=True)
class RetrainPlan:
    """What a retraining run works on: base + live interactions, the held-out window, the fit frame."""

    data: Dataset
    window: Window
    fit_frame: pd.DataFrame
    facts: dict[str, Any]


def plan_retrain(
    settings: Settings, events: Sequence[Event] | None = None, dataset: Dataset | None = None,
    window_fraction: float = 0.1, sample_fraction: float | None = None,
) -> RetrainPlan:  # fmt: skip
    """Merge base data and live events (default: the configured store's), hold out the window."""
    data = dataset or load_dataset(settings)
    live = list(events) if events is not None else _store_events(settings, data.n_items)
    frame, counts = merge_live_events(data.interactions, live)
    window = split_window(frame, window_fraction)
    fit = window.history if sample_fraction is None else sample_users(window.history, sample_fraction)
    facts: dict[str, Any] = {**counts, "source": data.source, "challenger_train_rows": len(fit),
                             "sample_fraction": sample_fraction or 1.0}  # fmt: skip
    return RetrainPlan(data, window, fit, facts)


def contenders(
    settings: Settings, plan: RetrainPlan, before: int | None, new: int,
    champion_eval: ChampionEval = "auto", baselines: Sequence[str] = BASELINE_NAMES,
    stage: Stage | None = None,
) -> tuple[dict[str, OnlineModel], str]:  # fmt: skip
    """Champion, challenger and baselines ready to score on the plan's window (and how the champion was)."""
    registry = registry_from_settings(settings)
    return _contenders(registry, before, new, plan.data, plan.window, settings, champion_eval, baselines,
                       stage or (lambda _s: None))  # fmt: skip


def retrain(
    settings: Settings, *, events: Sequence[Event] | None = None, config: TwoStageConfig | None = None,
    margin: float = 0.01, coverage_margin: float = 0.05, latency_margin: float = 0.5,
    window_fraction: float = 0.1, dataset: Dataset | None = None, stage: Stage | None = None,
    primary: Primary = "p2_ndcg", champion_eval: ChampionEval = "auto",
    sample_fraction: float | None = None, baselines: Sequence[str] = BASELINE_NAMES,
    write_report: bool = True,
) -> RetrainDecision:  # fmt: skip
    """Train a challenger on fresh data, score it beside the champion, promote or keep.

    ``events``: the live events (default: every event of the configured feature
    store; pass them when this process already owns the store).
    ``sample_fraction``: train the challenger on that share of the users only
    (a deliberately weaker challenger, for drills and tests). ``baselines`` are
    scored on the same window for context. Writes
    ``<home>/reports/retrain-<UTC time>.{md,json,png}`` unless ``write_report`` is off.
    """
    policy = Policy(primary, margin, coverage_margin, latency_margin)
    say = stage or (lambda _s: None)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    say("merge base data and live events")
    plan = plan_retrain(settings, events, dataset, window_fraction, sample_fraction)
    before = registry_from_settings(settings).alias_version(CHAMPION)
    timings["merge_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = train_and_register(settings, config, lambda s: say(f"challenger: {s}"), plan.data,
                                plan.fit_frame, run_name="retrain")  # fmt: skip
    new = result.version.version
    timings["train_challenger_s"] = time.perf_counter() - t
    t = time.perf_counter()
    models, how = contenders(settings, plan, before, new, champion_eval, baselines, say)
    timings["prepare_models_s"] = time.perf_counter() - t
    t = time.perf_counter()
    say(f"score the window: P1 + P2 replay of {len(plan.window.events)} events")
    scores = score_window(models, plan.data, plan.window)
    timings["score_window_s"] = time.perf_counter() - t
    common = dict(window=plan.window.describe(), data=plan.facts, policy=policy, timings=timings)
    decision = judge(before, new, scores, how, policy, common)
    say("record the decision")
    conclude(settings, decision, write_report)
    return decision

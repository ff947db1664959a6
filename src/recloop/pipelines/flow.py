"""The retrain pipeline as a Prefect flow: ``recloop flow retrain`` (docs/ORCHESTRATION.md).

Tasks, each retried on failure: load the events (the Delta archive or the state store), plan
(merge with the base data, hold out the window), train and register the challenger, evaluate
champion vs challenger on the window, gate (the promotion policy), promote and report. The
steps are :mod:`recloop.pipelines.retrain`'s own, so a flow run decides what ``recloop retrain``
decides on the same data. Prefect lives in its own environment (it pins an older FastAPI than
the API's; scripts/flow_env.sh makes it), and runs in ephemeral mode unless
``PREFECT_API_URL`` names a server.
"""

from __future__ import annotations

from typing import Any, cast

from recloop.config import Settings
from recloop.errors import ConfigError
from recloop.events.schema import Event
from recloop.pipelines.compare import Policy, Primary, score_window
from recloop.pipelines.retrain import RetrainDecision, RetrainPlan, conclude, contenders, judge, plan_retrain
from recloop.pipelines.train import train_and_register
from recloop.ranking.bundle import TwoStageConfig
from recloop.registry import CHAMPION, registry_from_settings

__all__ = ["archive_events", "retrain_flow", "serve_retrain_flow"]

RETRIES, RETRY_DELAY_S = 2, 10


def _prefect() -> Any:
    try:
        import prefect
    except ImportError:
        raise ConfigError("Prefect is not in this environment: run `bash scripts/flow_env.sh`, then "
                          "`.venv-flow/bin/recloop flow retrain`") from None  # fmt: skip
    return prefect


def archive_events(settings: Settings, source: str) -> list[Event]:
    """Every event of a ``delta:PATH[@VERSION]`` archive, in event order."""
    from recloop.archive import DeltaArchive
    from recloop.data import load_dataset
    from recloop.pipelines.archive_data import events_from_rows, parse_source

    path, _, version = source.partition("@")
    parsed = parse_source(path, version or None)
    assert parsed is not None
    rows = DeltaArchive(parsed.path).read(parsed.as_of)
    return events_from_rows(rows.sort_values(["timestamp", "seq", "event_id"], kind="mergesort"),
                            load_dataset(settings))  # fmt: skip


def _load(settings: Settings, src: str | None) -> list[Event] | None:
    return None if src is None else archive_events(settings, src)


def _plan(settings: Settings, events: list[Event] | None, window_fraction: float) -> RetrainPlan:
    return plan_retrain(settings, events, window_fraction=window_fraction)


def _train(settings: Settings, p: RetrainPlan, max_queries: int) -> tuple[int | None, int]:
    before = registry_from_settings(settings).alias_version(CHAMPION)
    cfg = TwoStageConfig(max_queries=max_queries)
    result = train_and_register(settings, cfg, None, p.data, p.fit_frame, run_name="retrain")
    return before, result.version.version


def _evaluate(
    settings: Settings, p: RetrainPlan, versions: tuple[int | None, int]
) -> tuple[dict[str, Any], str]:
    models, how = contenders(settings, p, versions[0], versions[1])
    return score_window(models, p.data, p.window), how


def _gate(p: RetrainPlan, versions: tuple[int | None, int], scored: tuple[dict[str, Any], str],
          policy: Policy) -> RetrainDecision:  # fmt: skip
    common = dict(window=p.window.describe(), data=p.facts, policy=policy, timings={})
    return judge(versions[0], versions[1], scored[0], scored[1], policy, common)


def _promote_and_report(settings: Settings, decision: RetrainDecision) -> str | None:
    path = conclude(settings, decision)
    return None if path is None else str(path)


def _build(
    settings: Settings, max_queries: int, margin: float, primary: Primary, window_fraction: float
) -> Any:
    """The Prefect flow object over the six tasks."""
    prefect = _prefect()
    steps: dict[str, Any] = {}
    for f in (_load, _plan, _train, _evaluate, _gate, _promote_and_report):
        name = f.__name__.lstrip("_")
        steps[name] = prefect.task(retries=RETRIES, retry_delay_seconds=RETRY_DELAY_S,
                                   name=name.replace("_", " "))(f)  # fmt: skip
    policy = Policy(primary, margin)  # the guardrail margins `recloop retrain` uses

    def run(src: str | None) -> RetrainDecision:
        p = steps["plan"](settings, steps["load"](settings, src), window_fraction)
        versions = steps["train"](settings, p, max_queries)
        decision = steps["gate"](p, versions, steps["evaluate"](settings, p, versions), policy)
        steps["promote_and_report"](settings, decision)
        return cast(RetrainDecision, decision)

    flow: Any = prefect.flow(name="recloop-retrain", log_prints=True)(run)
    return flow


def retrain_flow(
    settings: Settings, source: str | None = None, *, max_queries: int = 5000, margin: float = 0.01,
    primary: Primary = "p2_ndcg", window_fraction: float = 0.1,
) -> RetrainDecision:  # fmt: skip
    """Run the flow once (ephemeral Prefect unless a server is configured); the decision."""
    flow = _build(settings, max_queries, margin, primary, window_fraction)
    return cast(RetrainDecision, flow(source))


def serve_retrain_flow(
    settings: Settings, source: str | None, cron: str, *, max_queries: int = 5000, margin: float = 0.01,
    primary: Primary = "p2_ndcg", window_fraction: float = 0.1,
) -> None:  # fmt: skip
    """Serve the flow on a cron schedule until interrupted (needs a Prefect API to schedule on)."""
    flow = _build(settings, max_queries, margin, primary, window_fraction)
    flow.serve(name="recloop-retrain-scheduled", cron=cron, parameters={"src": source})

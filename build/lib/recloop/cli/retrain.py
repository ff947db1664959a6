"""``recloop retrain`` (one run, old vs new table) and ``recloop worker`` (triggered runs)."""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from recloop.cli.output import console, err_console, guarded
from recloop.config import get_settings
from recloop.monitoring.monitor import drift_file_probe

if TYPE_CHECKING:
    from recloop.pipelines.retrain import RetrainDecision

__all__ = ["render_decision", "retrain", "worker"]

_SHOWN = ("p2.NDCG@10", "p2.HR@10", "p2.NDCG@10_warm", "p2.NDCG@10_cold", "p1.NDCG@10",
          "p1.Recall@20", "p1.HR@10", "p1.Coverage@10", "latency_p50_ms", "latency_p95_ms")  # fmt: skip


class PrimaryMetric(StrEnum):
    """The metric a challenger must improve."""

    p2_ndcg = "p2_ndcg"
    p1_ndcg = "p1_ndcg"


def render_decision(d: RetrainDecision) -> Table:
    """Old vs new per metric with the relative change and the check it feeds."""
    from recloop.pipelines.compare import relative_change

    champ, chal = d.champion, d.challenger
    old = f"champion v{champ.version} ({champ.evaluated_as})" if champ else "champion (none)"
    table = Table(title=f"retrain on the latest {d.window['events']} events: {d.decision}")
    table.add_column("metric", style="bold")
    for col in (old, f"challenger v{chal.version}", "change", "check"):
        table.add_column(col, justify="right")
    checks = {c.metric: c for c in ([d.primary] if d.primary else []) + list(d.guardrails.values())}
    for k in _SHOWN:
        new = chal.metrics[k]
        was = champ.metrics[k] if champ else None
        change = relative_change(was, new) if was is not None else None
        c = checks.get(k)
        mark = "" if c is None else ("[green]pass[/]" if c.passed else "[red]FAIL[/]")
        table.add_row(k, "-" if was is None else f"{was:.4f}", f"{new:.4f}",
                      "-" if change is None else f"{change:+.1%}", mark)  # fmt: skip
    return table


def retrain(
    json_path: Annotated[Path | None, typer.Option("--json", help="also write the JSON here")] = None,
    margin: Annotated[float, typer.Option(help="relative gain the primary metric needs")] = 0.01,
    primary: Annotated[PrimaryMetric, typer.Option(help="metric to improve")] = PrimaryMetric.p2_ndcg,
    window: Annotated[float, typer.Option(help="latest share of events held out")] = 0.1,
    max_queries: Annotated[int, typer.Option(help="ranker training queries")] = 5000,
) -> None:
    """Train on base + live events, compare with the champion on a fresh window, maybe promote."""
    from recloop.pipelines.retrain import retrain as run_retrain
    from recloop.ranking.bundle import TwoStageConfig

    settings = get_settings()
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), TimeElapsedColumn(),
                  console=err_console, transient=True) as prog:  # fmt: skip
        task = prog.add_task("starting", total=None)
        decision = guarded(lambda: run_retrain(
            settings, config=TwoStageConfig(max_queries=max_queries), margin=margin,
            window_fraction=window, primary=primary.value,
            stage=lambda s: prog.update(task, description=s)))  # fmt: skip
    console.print(render_decision(decision))
    colour = "green" if decision.decision == "promoted" else "yellow"
    console.print(f"[bold {colour}]{decision.decision}[/]: {decision.reason}")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(decision.to_dict(), indent=2))


def worker(
    interval: Annotated[float, typer.Option(help="scheduled retrain every N seconds")] = 86400.0,
    min_events: Annotated[int, typer.Option(help="retrain after this many new events")] = 1000,
    check_every: Annotated[float, typer.Option(help="seconds between trigger checks")] = 30.0,
    margin: Annotated[float, typer.Option(help="relative gain the primary metric needs")] = 0.01,
) -> None:
    """Watch the triggers (schedule, new events) and retrain when one fires; Ctrl-C stops."""
    from recloop.pipelines.triggers import RetrainTriggers, worker_loop

    settings = get_settings()
    stop = threading.Event()

    def halt(_sig: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second Ctrl-C does not wait for the running retrain
            raise KeyboardInterrupt
        err_console.print("worker: stopping after the current step (Ctrl-C again to abort)")
        stop.set()

    signal.signal(signal.SIGTERM, halt)
    signal.signal(signal.SIGINT, halt)
    triggers = RetrainTriggers(interval_s=interval, min_new_events=min_events)
    err_console.print(f"worker: checking every {check_every:.0f}s ({triggers}); Ctrl-C stops")
    guarded(lambda: worker_loop(
        settings, stop, triggers=triggers, check_every_s=check_every, margin=margin,
        drift_probe=drift_file_probe(settings.home),
        on_decision=lambda d: console.print(f"[bold]{d.decision}[/]: {d.reason}")))  # fmt: skip

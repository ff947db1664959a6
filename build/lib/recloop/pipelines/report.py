"""The retraining report: markdown, JSON and a champion-vs-challenger bar chart.

Files: ``<reports dir>/retrain-<UTC time>.{md,json,png}`` (a ``-2``, ``-3``
suffix when two runs share a second).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recloop.pipelines.compare import COVERAGE, LATENCY, PRIMARY_METRICS, relative_change

if TYPE_CHECKING:
    from recloop.pipelines.retrain import RetrainDecision

__all__ = ["PLOTTED", "ReportFiles", "render_markdown", "write_retrain_report"]

PLOTTED = ("p2.NDCG@10", "p2.HR@10", "p1.NDCG@10", "p1.Recall@20", COVERAGE, LATENCY)
"""Metrics in the chart and the markdown table, in this order."""


@dataclass(frozen=True)
class ReportFiles:
    """Paths of one report's three files."""

    markdown: Path
    json: Path
    png: Path


def _status(d: RetrainDecision, metric: str) -> str:
    """``pass``/``FAIL`` for the primary metric and guardrails, ``info`` otherwise."""
    checks = ([d.primary] if d.primary else []) + list(d.guardrails.values())
    for c in checks:
        if c.metric == metric:
            return "pass" if c.passed else "FAIL"
    return "info"


def _pct(change: float | None) -> str:
    return "n/a" if change is None else f"{change:+.1%}"


def render_markdown(d: RetrainDecision) -> str:
    """A human-readable report: decision, table old vs new, window, protocol notes."""
    champ, chal = d.champion, d.challenger
    old = f"v{champ.version} ({champ.evaluated_as})" if champ else "none"
    lines = [
        f"# Retraining {d.created_at:%Y-%m-%d %H:%M:%S} UTC: **{d.decision}**", "",
        f"{d.reason}", "",
        f"- champion: {old}; challenger: v{chal.version}",
        f"- primary metric: {PRIMARY_METRICS[d.policy.primary]} (margin {d.policy.margin:+.1%}); "
        f"guardrails: Coverage@10 drop <= {d.policy.coverage_margin:.0%}, "
        f"latency p50 growth <= {d.policy.latency_margin:.0%}",
        f"- data: {d.data.get('source')} base {d.data.get('base_rows')} rows + "
        f"{d.data.get('live_positive')} positive live events "
        f"({d.data.get('live_dislikes')} dislikes not used, "
        f"{d.data.get('duplicates_dropped')} repeated user-item pairs dropped)",
        f"- window: latest {d.window['fraction']:.0%} by global time = {d.window['events']} "
        f"events of {d.window['users']} users ({d.window['cold_users']} without history); "
        f"history before it: {d.window['history_rows']} rows", "",
        "| metric | champion | challenger | change | check |", "|---|---|---|---|---|",
    ]  # fmt: skip
    keys = [k for k in chal.metrics if not k.endswith(("_warm", "_cold"))]
    ordered = [k for k in PLOTTED if k in keys] + [k for k in keys if k not in PLOTTED]
    for k in ordered:
        new = chal.metrics[k]
        was = f"{champ.metrics[k]:.4f}" if champ else "-"
        change = _pct(relative_change(champ.metrics[k], new)) if champ else "-"
        lines.append(f"| {k} | {was} | {new:.4f} | {change} | {_status(d, k)} |")
    if d.baselines:
        lines += [
            "",
            "Baselines on the same window (context, fitted on the same history):",
            "",
            "| baseline | p1.NDCG@10 | p2.NDCG@10 | p1.Coverage@10 |",
            "|---|---|---|---|",
        ]
        for name, m in d.baselines.items():
            lines.append(f"| {name} | {m['p1.NDCG@10']:.4f} | {m['p2.NDCG@10']:.4f} | "
                         f"{m[COVERAGE]:.4f} |")  # fmt: skip
    lines += [
        "", "## How it was measured", "",
        "Protocols P1 and P2 of shared/EVALUATION.md applied to the window: "
        "**P1-window** ranks, for each user active in the window, every item unseen before "
        "it (window items are the test set); **P2-window** replays the window events "
        "test-then-train from the pre-window history, all models in lockstep so latency "
        "(single-user recommend call, ms) is measured under the same load.",
        "",
        "The challenger was trained only on data before the window. The champion is scored "
        "as its served artifact when its training data ends before the window "
        "(`artifact`); otherwise its registered recipe is refitted on the challenger's "
        "training frame (`refit`), so neither model has seen the window.",
        "", "Wall time (s): " + ", ".join(f"{k}={v:.1f}" for k, v in d.timings.items()), "",
    ]  # fmt: skip
    return "\n".join(lines)


def plot_comparison(d: RetrainDecision, path: Path) -> None:
    """One panel per metric: champion vs challenger bars, % change and pass/fail in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in PLOTTED if k in d.challenger.metrics]
    fig, axes = plt.subplots(1, len(keys), figsize=(2.3 * len(keys), 3.6), squeeze=False)
    colors = {"pass": "#15803d", "FAIL": "#b91c1c", "info": "#374151"}
    for ax, k in zip(axes[0], keys, strict=True):
        new = d.challenger.metrics[k]
        names, values = [f"v{d.challenger.version}\nnew"], [new]
        if d.champion:
            names.insert(0, f"v{d.champion.version}\nold")
            values.insert(0, d.champion.metrics[k])
        bars = ax.bar(names, values, color=["#9ca3af", "#2563eb"][-len(values) :])
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
        status = _status(d, k)
        change = _pct(relative_change(values[0], new)) if d.champion else "first"
        role = " (primary)" if k == PRIMARY_METRICS[d.policy.primary] else ""
        role = " (lower is better)" if k == LATENCY else role
        ax.set_title(f"{k}{role}\n{change} {status}", fontsize=9, color=colors[status])
        ax.tick_params(labelsize=8)
        ax.set_ylim(0, max(values) * 1.25 or 1.0)
    fig.suptitle(f"retrain: {d.decision} (window of {d.window['events']} events)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_retrain_report(d: RetrainDecision, directory: Path) -> ReportFiles:
    """Write the markdown, JSON and PNG of ``d`` into ``directory`` (created)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"retrain-{d.created_at:%Y%m%dT%H%M%SZ}"
    n = 1
    while (directory / f"{stem}.json").exists():
        n += 1
        stem = f"retrain-{d.created_at:%Y%m%dT%H%M%SZ}-{n}"
    files = ReportFiles(directory / f"{stem}.md", directory / f"{stem}.json",
                        directory / f"{stem}.png")  # fmt: skip
    payload = {**d.to_dict(), "files": {"markdown": str(files.markdown), "png": str(files.png)}}
    files.json.write_text(json.dumps(payload, indent=2))
    files.markdown.write_text(render_markdown(d))
    plot_comparison(d, files.png)
    return files

"""The model card (markdown) and the feature-importance plot of a version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recloop.evaluation.protocols import EvaluationReport

__all__ = ["model_card", "plot_importances"]

_KEYS = ("NDCG@10", "Recall@10", "Recall@20", "HR@10", "MAP@10", "Precision@10", "Coverage@10")


def model_card(report: EvaluationReport, importances: dict[str, float], facts: dict[str, Any]) -> str:
    """Markdown: what the model is, how it was evaluated, against what, and its features."""
    lines = [
        "# recloop two-stage recommender",
        "",
        "Candidates from recency-weighted EASE and item-kNN, next-item transitions, ALS "
        "(FAISS inner-product search), popularity and trending; ordered by LightGBM LambdaRank.",
        "",
        f"Evaluation: protocol P1 (shared/EVALUATION.md) on {report.data['source']}, "
        f"{report.data['users']} users, train {report.data['train']} / test {report.data['test']}.",
        "",
        "| model | " + " | ".join(_KEYS) + " | wall s |",
        "|---" * (len(_KEYS) + 2) + "|",
    ]
    for name, r in report.models.items():
        cells = " | ".join(f"{r.metrics[k]:.4f}" for k in _KEYS)
        lines.append(f"| {name} | {cells} | {r.wall_s:.1f} |")
    lines += ["", "## Training facts", ""]
    lines += [f"- {k}: {v}" for k, v in facts.items()]
    lines += ["", "## Feature importance (gain share)", ""]
    lines += [f"- {k}: {v:.3f}" for k, v in list(importances.items())[:15]]
    return "\n".join(lines) + "\n"


def plot_importances(importances: dict[str, float], path: Path) -> None:
    """Horizontal bar chart of the top-20 gain importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = list(importances.items())[:20][::-1]
    fig, ax = plt.subplots(figsize=(7, 6))
    ax.barh([k for k, _ in items], [v for _, v in items], color="#3b82f6")
    ax.set_xlabel("share of total gain")
    ax.set_title("LightGBM LambdaRank feature importance")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

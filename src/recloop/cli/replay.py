"""``recloop replay --url``: the P2 protocol over HTTP against a running server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import DataOption, ReplaySampleOption, console, guarded, progress_bar, use_data_dir
from recloop.config import get_settings
from recloop.data import load_dataset

__all__ = ["replay"]


def replay(
    url: Annotated[str, typer.Option(help="base URL of a running recloop serve")] = ("http://127.0.0.1:8000"),
    limit: Annotated[int | None, typer.Option(help="replay only the first N events")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", help="also write JSON here")] = None,
    data_dir: DataOption = None,
    replay_sample: ReplaySampleOption = None,
    sample_seed: Annotated[int, typer.Option(help="seed of --replay-sample")] = 0,
) -> None:
    """Replay P2 events over HTTP (GET top-10, score, POST the event); print metrics."""
    from recloop.evaluation.http_replay import http_replay
    from recloop.evaluation.splits import prequential_split

    use_data_dir(data_dir)
    data = guarded(lambda: load_dataset(get_settings()))
    rest = len(prequential_split(data.interactions)[1])
    total = rest if limit is None else min(limit, rest)
    with progress_bar("P2 over HTTP", total) as advance:
        out = guarded(lambda: http_replay(url, data, limit, advance, sample=replay_sample,
                                          sample_seed=sample_seed))  # fmt: skip
    title = f"P2 over HTTP against {url} (model {out['model_version']}) on {data.source}"
    if "replay_sample" in out:
        s = out["replay_sample"]
        title += f"; scored a sample of {s['scored']:,} of {s['of']:,} replayed events (seed {s['seed']})"
    table = Table(title=title)
    for k in out["metrics"]:
        table.add_column(k, justify="right")
    table.add_row(*(f"{v:,.1f}" if k.endswith("per_s") else f"{v:.4f}"
                    for k, v in out["metrics"].items()))  # fmt: skip
    console.print(table)
    if json_path:
        json_path.write_text(json.dumps(out, indent=2))

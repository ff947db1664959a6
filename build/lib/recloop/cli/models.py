"""``recloop models list|promote|rollback``: the registry from the terminal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from recloop.cli.output import command_group, console, guarded
from recloop.config import get_settings

__all__ = ["app"]

app = command_group("Registered model versions and the champion alias.")
_SHOWN = ("NDCG@10", "Recall@20", "HR@10", "Coverage@10")


@app.command("list")
def list_versions() -> None:
    """Versions with their P1 metrics; the champion is marked."""
    from recloop.registry import registry_from_settings

    reg = guarded(lambda: registry_from_settings(get_settings()))
    table = Table(title="registered versions (P1 metrics)")
    for col in ("version", "aliases", "created", *_SHOWN):
        table.add_column(col)
    for v in sorted(guarded(reg.versions), key=lambda x: -x.version):
        cells = [f"{v.metrics[k]:.4f}" if k in v.metrics else "-" for k in _SHOWN]
        table.add_row(str(v.version), ",".join(v.aliases), v.created_at.strftime("%F %T"), *cells)
    console.print(table)


@app.command()
def promote(version: Annotated[int, typer.Argument(help="version to make champion")]) -> None:
    """Point the ``champion`` alias at VERSION (the previous one is kept for rollback)."""
    from recloop.registry import registry_from_settings

    reg = guarded(lambda: registry_from_settings(get_settings()))
    res = guarded(lambda: reg.promote(version))
    console.print(f"champion: {res.champion} (was {res.previous}) [{res.action}]")


@app.command()
def rollback() -> None:
    """Restore the previous champion."""
    from recloop.registry import registry_from_settings

    reg = guarded(lambda: registry_from_settings(get_settings()))
    res = guarded(reg.rollback)
    console.print(f"champion: {res.champion} (was {res.previous}) [{res.action}]")

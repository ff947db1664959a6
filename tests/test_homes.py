"""tests/homes.py: a copied RECLOOP_HOME has its own registry; the source is never written to."""

from __future__ import annotations

from pathlib import Path

import pytest

from homes import copy_home
from recloop.config import Settings
from recloop.registry import registry_from_settings

# MLflow's own SQLAlchemy store triggers this; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


def run_dirs(home: Path) -> int:
    """Number of MLflow runs with artifacts under ``home/mlartifacts``."""
    return sum(1 for p in (home / "mlartifacts").glob("*/artifacts") if p.is_dir())


def test_a_copied_home_logs_and_promotes_in_the_copy_only(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "meta.json").write_text('{"format": 1}')
    source = registry_from_settings(Settings(home=tmp_path / "src"))
    assert source.log_version(bundle, {}, {}, {}, "card", "train").version == 1
    source.ensure_champion(1)

    copy = copy_home(tmp_path / "src", tmp_path / "copy")
    mine = registry_from_settings(Settings(home=copy))
    assert mine.log_version(bundle, {}, {}, {}, "card", "retrain").version == 2
    mine.promote(2)

    assert [v.version for v in mine.versions()] == [1, 2] and mine.alias_version("champion") == 2
    assert all(v.source.startswith(copy.resolve().as_uri()) for v in mine.versions())
    assert (mine.download(1) / "meta.json").read_text() == '{"format": 1}'
    assert mine.download(1).is_relative_to(copy)
    # the source home: one version, still champion, one run's artifacts
    assert [v.version for v in source.versions()] == [1] and source.alias_version("champion") == 1
    assert (run_dirs(tmp_path / "src"), run_dirs(copy)) == (1, 2)

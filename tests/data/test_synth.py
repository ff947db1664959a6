"""``recloop data synth``: determinism, schema, counts, learnable structure, and --data end to end."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from recloop.cli import app
from recloop.config import Settings, get_settings
from recloop.data import load_dataset
from recloop.data.synth import FILES, generate
from recloop.data.synth_source import read_synth_dir
from recloop.data.synth_spec import make_spec
from recloop.errors import DataError, ValidationError

runner = CliRunner()
SMALL = {"users": 2000, "items": 1500, "events": 60_000}  # 60k events: CI stays cheap


def _digests(path: Path) -> dict[str, str]:
    return {n: hashlib.sha256((path / n).read_bytes()).hexdigest() for n in (*FILES, "manifest.json")}


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "small"
    generate(make_spec("ml20m", seed=7, **SMALL), out)
    return out


@pytest.fixture()
def no_data_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """`--data` sets RECLOOP_DATA__DIR in the process: restore it after the test."""
    monkeypatch.setenv("RECLOOP_DATA__DIR", "")
    monkeypatch.delenv("RECLOOP_DATA__DIR")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_same_seed_same_bytes_other_seed_other_bytes(small_dir: Path, tmp_path: Path) -> None:
    generate(make_spec("ml20m", seed=7, **SMALL), tmp_path / "again")
    generate(make_spec("ml20m", seed=8, **SMALL), tmp_path / "other")
    assert _digests(tmp_path / "again") == _digests(small_dir)
    other = _digests(tmp_path / "other")
    assert other["interactions.parquet"] != _digests(small_dir)["interactions.parquet"]


def test_schema_and_counts(small_dir: Path) -> None:
    manifest = json.loads((small_dir / "manifest.json").read_text())
    assert manifest["counts"] == SMALL and manifest["seed"] == 7 and manifest["generator_version"] == 1
    data = read_synth_dir(small_dir)
    inter = data.interactions
    assert list(inter.columns) == ["user_id", "item_id", "rating", "timestamp"]
    assert [str(t) for t in inter.dtypes] == ["int64", "int64", "int8", "int64"]
    assert len(inter) == SMALL["events"] and inter["user_id"].nunique() == SMALL["users"]
    assert inter["rating"].between(1, 5).all()
    assert list(data.items.columns) == ["item_id", "title", "year", "genres"] and data.n_items == 1500
    assert list(data.users.columns) == ["user_id", "age", "gender", "occupation", "zip"]
    assert len(data.users) == SMALL["users"]
    order = np.lexsort((inter["user_id"], inter["timestamp"]))
    assert (order == np.arange(len(inter))).all()  # canonical event order
    assert not inter.duplicated(["user_id", "item_id"]).any()  # repeat-free histories
    assert not inter.duplicated(["user_id", "timestamp"]).any()


def test_structure_a_recommender_can_learn(small_dir: Path) -> None:
    inter = read_synth_dir(small_dir).interactions
    pop = inter["item_id"].value_counts().to_numpy()
    top = pop[: max(1, len(pop) // 100)].sum() / pop.sum()
    assert top > 0.08  # top-1% of items hold far more than their 1% share
    act = inter["user_id"].value_counts().to_numpy()
    assert act.max() > 8 * np.median(act)  # a heavy tail of very active users
    # popularity drifts: the top items of the first and last quarter of time differ
    t = inter["timestamp"].to_numpy()
    early, late = inter[t < np.quantile(t, 0.25)], inter[t > np.quantile(t, 0.75)]
    top_e = set(early["item_id"].value_counts().index[:50])
    top_l = set(late["item_id"].value_counts().index[:50])
    assert len(top_e & top_l) < 40
    # new items arrive: many items' first event is late
    first = inter.groupby("item_id")["timestamp"].min()
    assert (first > np.quantile(t, 0.5)).mean() > 0.1
    # sessions: most consecutive events of a user are minutes apart, some are days apart
    gaps = inter.sort_values(["user_id", "timestamp"]).groupby("user_id")["timestamp"].diff().dropna()
    assert (gaps < 3600).mean() > 0.5 and (gaps > 86_400).mean() > 0.02


def test_ratings_follow_taste(small_dir: Path) -> None:
    """A user's ratings are higher for the genres they watch most (affinity, not noise)."""
    data = read_synth_dir(small_dir)
    genre = data.items.set_index("item_id")["genres"].str.split("|").str[0]
    frame = data.interactions.assign(g=genre.reindex(data.interactions["item_id"]).to_numpy())
    share = frame.groupby(["user_id", "g"])["rating"].transform("size") / frame.groupby("user_id")[
        "rating"
    ].transform("size")
    corr = np.corrcoef(share.to_numpy(), frame["rating"].to_numpy(dtype=float))[0, 1]
    assert corr > 0.1


def test_fraction_scales_users_events_and_items() -> None:
    spec = make_spec("ml20m", fraction=0.01)
    assert (spec.users, spec.events) == (1385, 200_003)
    assert spec.items == round(26_744 * 0.01**0.6)
    shop = make_spec("shop")
    assert (shop.users, shop.items, shop.events) == (1_000_000, 200_000, 30_000_000)
    with pytest.raises(ValidationError, match="--fraction"):
        make_spec("ml20m", fraction=0.0)
    with pytest.raises(ValidationError, match="repeat-free"):
        make_spec("shop", users=10, items=10, events=90)
    with pytest.raises(ValidationError, match="--shape"):
        make_spec("ml1b")


def test_load_dataset_reads_the_directory(small_dir: Path, tmp_path: Path) -> None:
    data = load_dataset(Settings(home=tmp_path, data={"dir": small_dir}))
    assert data.source == f"synth:ml20m:{small_dir.name}" and len(data.interactions) == SMALL["events"]
    with pytest.raises(DataError, match="recloop data synth"):
        load_dataset(Settings(home=tmp_path, data={"dir": tmp_path}))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text(json.dumps({"format": "recloop-synth"}))
    with pytest.raises(DataError, match="missing"):
        read_synth_dir(tmp_path / "bad")


def test_cli_synth_writes_and_reports(tmp_path: Path, no_data_env: None) -> None:
    out = tmp_path / "cli"
    args = ["data", "synth", "--shape", "shop", "--users", "300", "--items", "400", "--events", "3000"]
    result = runner.invoke(app, [*args, "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3,000 events in" in result.stdout and "events/s" in result.stdout
    assert pd.read_parquet(out / "interactions.parquet").shape == (3000, 4)
    bad = runner.invoke(app, ["data", "synth", "--fraction", "2", "--out", str(tmp_path / "x")])
    assert bad.exit_code != 0 and "--fraction" in bad.output


@pytest.mark.slow
def test_train_on_synthetic_data_end_to_end(small_dir: Path, tmp_path: Path, no_data_env: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("RECLOOP_HOME", str(tmp_path / "home"))
    report = tmp_path / "p1.json"
    args = ["train", "--data", str(small_dir), "--max-queries", "300", "--json", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = json.loads(report.read_text())
    assert out["data"]["source"] == f"synth:ml20m:{small_dir.name}"
    assert out["data"]["items"] == SMALL["items"]
    ndcg = {name: r["metrics"]["NDCG@10"] for name, r in out["models"].items()}
    assert ndcg["als"] > 0.0 and ndcg["champion"] > 0.0
    missing = runner.invoke(app, ["train", "--data", str(tmp_path / "nope")])
    assert missing.exit_code == 65 and "recloop data synth" in missing.output

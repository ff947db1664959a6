"""``recloop data info`` and ``recloop evaluate`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recloop.cli import app
from recloop.config import Settings
from recloop.data import Dataset
from recloop.evaluation.baselines import baseline_builder
from recloop.evaluation.protocols import run_p2

runner = CliRunner()


@pytest.fixture()
def cli_env(
    tmp_path: Path, recbole_wheel: Path, monkeypatch: pytest.MonkeyPatch, fresh_settings: None
) -> Path:
    """RECLOOP_HOME in a tmp dir, data read from the verified RecBole wheel."""
    for name in ("RECLOOP_DATA__SOURCE", "RECLOOP_DATA__GROUPLENS_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("RECLOOP_DATA__RECBOLE_WHEEL", str(recbole_wheel))
    return tmp_path


def test_data_info(cli_env: Path) -> None:
    result = runner.invoke(app, ["data", "info"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "recbole:recbole-1.2.1-py3-none-any.whl" in out
    for key, shown in [("interactions", "100,000"), ("users", "943"), ("items", "1,682")]:
        line = next(ln for ln in out.splitlines() if f" {key} " in ln)
        assert shown in line
    assert "1997-09-20" in out  # first event, 1997-09-20T03:05:10+00:00


def test_evaluate_p2_json(cli_env: Path, movielens: Dataset) -> None:
    out_path = cli_env / "reports" / "p2.json"
    args = ["evaluate", "--protocol", "p2", "--models", "popular", "--limit", "500"]
    result = runner.invoke(app, [*args, "--json", str(out_path)])
    assert result.exit_code == 0, result.output
    assert "P2 on recbole" in result.stdout
    report = json.loads(out_path.read_text())
    assert set(report) == {"protocol", "data", "models"}
    assert report["protocol"] == "p2"
    assert report["data"] == {
        "source": "recbole:recbole-1.2.1-py3-none-any.whl",
        "bootstrap": 80_000,
        "replayed": 500,
        "items": 1682,
    }
    popular = report["models"]["popular"]
    assert set(popular) == {"metrics", "params", "wall_s"}
    assert popular["params"] == {}
    assert popular["wall_s"] > 0
    metrics = popular["metrics"]
    assert {
        "NDCG@10",
        "HR@10",
        "NDCG@10_cold",
        "HR@10_cold",
        "NDCG@10_warm",
        "HR@10_warm",
        "events_per_s",
    } <= set(metrics)
    assert metrics["events"] == 500
    # the same figures as calling the protocol directly
    direct = run_p2(movielens, [baseline_builder("popular", Settings())], limit=500)
    for key in ("NDCG@10", "HR@10", "NDCG@10_cold", "HR@10_warm"):
        assert metrics[key] == pytest.approx(direct.models["popular"].metrics[key])


def test_evaluate_unknown_model_names_the_valid_ones(cli_env: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--protocol", "p2", "--models", "popular,bogus"])
    assert result.exit_code != 0
    message = " ".join(result.stderr.split())  # undo rich's line wrapping
    assert "unknown model 'bogus'" in message
    for name in ("champion", "popular", "itemknn", "als", "ease"):
        assert name in message


def test_evaluate_unknown_protocol_is_rejected(cli_env: Path) -> None:
    result = runner.invoke(app, ["evaluate", "--protocol", "p3"])
    assert result.exit_code == 2
    assert "p3" in result.output

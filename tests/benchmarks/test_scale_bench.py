"""benchmarks/scale.py's bookkeeping: stage windows, exponents, run names (no subprocess)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "scale_bench", Path(__file__).resolve().parents[2] / "benchmarks" / "scale.py")
assert _SPEC is not None and _SPEC.loader is not None
scale = importlib.util.module_from_spec(_SPEC)
sys.modules["scale_bench"] = scale
_SPEC.loader.exec_module(scale)


def test_stage_costs_take_the_peak_inside_each_window() -> None:
    stages = [{"name": "a", "start": 10.0, "end": 20.0, "wall_s": 10.0, "rss_end_mb": 1.0},
              {"name": "b", "start": 20.0, "end": 30.0, "wall_s": 10.0, "rss_end_mb": 7.0}]  # fmt: skip
    samples = [(12.0, 100.0), (15.0, 300.0), (25.0, 50.0)]
    got = scale.stage_costs(stages, samples)
    assert [(s["name"], s["peak_rss_mb"]) for s in got] == [("a", 300.0), ("b", 50.0)]


def test_exponent_of_a_power_law() -> None:
    xs = [1e5, 1e6, 1e7]
    assert scale.exponent(xs, [x**1.5 for x in xs]) == pytest.approx(1.5)
    assert scale.exponent([1.0], [2.0]) is None


def test_run_names() -> None:
    assert scale.parse_run("ml100k") is None
    assert scale.parse_run("ml20m") == ("ml20m", 1.0)
    assert scale.parse_run("shop-0.01") == ("shop", 0.01)
    with pytest.raises(SystemExit):
        scale.parse_run("nope")

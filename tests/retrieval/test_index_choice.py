"""The ALS index chosen by catalog size, its recall measured at build and kept in the bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recloop.config import ALSParams
from recloop.pipelines.twostage import _index_recall
from recloop.retrieval.als import ALSScorer
from recloop.retrieval.candidates import CandidateSources
from recloop.retrieval.index import (
    FlatIndex,
    IndexConfig,
    IVFIndex,
    build_index,
    recall_against_exact,
)
from recloop.retrieval.index_choice import IndexReport, MIPSIndex, choose_index, read_report
from recloop.retrieval.sources import SourceSpec
from recloop.retrieval.sources.als import ALSSource


def _mixture(n: int, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 16)) * 2
    x = centres[rng.integers(0, 40, n)] + rng.standard_normal((n, 16))
    q = centres[rng.integers(0, 40, 300)] + rng.standard_normal((300, 16))
    return x.astype(np.float32), q.astype(np.float32)


def test_a_small_catalog_gets_the_exact_index() -> None:
    x, q = _mixture(3000)
    index, report = choose_index(IndexConfig(), x, q)
    assert isinstance(index, FlatIndex)
    assert report == IndexReport("flat", 3000, 1.0, 0)


def test_above_the_threshold_a_padded_hnsw_is_tuned_to_the_target_recall() -> None:
    x, q = _mixture(20_000)
    x *= np.random.default_rng(5).lognormal(0.0, 0.5, (len(x), 1)).astype(np.float32)  # norms vary
    cfg = IndexConfig(auto_flat_max=5000, hnsw_ef_search=2, hnsw_m=8, auto_target_recall=0.95)
    index, report = choose_index(cfg, x, q)
    assert isinstance(index, MIPSIndex) and report.kind == "hnsw_mips" and index.dim == 16
    assert report.ef_search == index.ef_search > 2 and report.recall10 >= 0.95 and report.queries == 300
    exact = build_index(IndexConfig(type="flat"), x)
    assert recall_against_exact(index, exact, q, 10) == report.recall10  # what was recorded is true
    scores, ids = index.search(q[:5], 10)  # the inner products of the original vectors
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", q[:5], x[ids]), rtol=1e-4, atol=1e-4)
    index.set_ef_search(2)  # the width it started from
    assert recall_against_exact(index, exact, q, 10) < report.recall10


def test_an_explicit_ivf_keeps_its_nprobe_and_reports_its_recall() -> None:
    x, q = _mixture(20_000)
    index, report = choose_index(IndexConfig(type="ivf", ivf_nlist=100, ivf_nprobe=2), x, q)
    assert isinstance(index, IVFIndex) and report.nprobe == 2 and report.nlist == 100
    assert 0.0 < report.recall10 < 1.0 and report.ef_search == 0


def test_the_report_is_saved_with_the_source_and_reaches_the_training_facts(tmp_path: Path) -> None:
    x, q = _mixture(8000)
    als = ALSScorer(ALSParams(factors=16))
    als.set_item_factors(x)
    als.user_factors = q
    cfg = IndexConfig(auto_flat_max=1000)
    index, report = choose_index(cfg, x, q)
    spec = SourceSpec(kind="als", quota=10, params={"factors": 16, "index": cfg.model_dump()})
    src = ALSSource(spec, als, index, report)
    src.save(tmp_path)
    assert read_report(tmp_path / "index.json") == report
    back = ALSSource.load(spec, tmp_path)
    assert back.report == report and isinstance(back.index, MIPSIndex)
    assert back.index.ef_search == report.ef_search  # the tuned width is saved with the index
    facts = _index_recall(CandidateSources([back], len(x)))
    assert facts == {"index_recall10_vs_exact": report.recall10, "index_ef_search": report.ef_search}

"""SASRec and its candidate source: it learns order, is seeded, follows the live history, reloads.

Everything trains a tiny network on synthetic sequences (well under a second per fit), and the
serving path is checked without torch in a subprocess that cannot import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import recloop
from recloop.config import SASRecParams
from recloop.errors import ConfigError
from recloop.retrieval.base import TrainData
from recloop.retrieval.history import History
from recloop.retrieval.sasrec import SASRecScorer, training_windows
from recloop.retrieval.sources import FitContext, Query, SourceSpec, source_kind
from recloop.retrieval.trending import ItemStats

N_ITEMS = 20
TINY = SASRecParams(d=16, blocks=1, max_len=8, dropout=0.1, lr=0.01, epochs=30, batch_size=32, seed=3)


def cyclic(n_users: int, length: int, seed: int) -> list[np.ndarray]:
    """Each user walks the cycle 0 -> 1 -> ... -> 19 -> 0 from a random start (an order, not a taste)."""
    rng = np.random.default_rng(seed)
    return [(rng.integers(N_ITEMS) + np.arange(length)) % N_ITEMS for _ in range(n_users)]


def as_train(histories: list[np.ndarray]) -> TrainData:
    users = np.repeat(np.arange(len(histories)), [len(h) for h in histories])
    items = np.concatenate(histories)
    return TrainData.from_arrays(users, items, np.ones(len(items)), np.arange(len(items)), N_ITEMS)


@pytest.fixture(scope="module")
def fitted() -> SASRecScorer:
    return SASRecScorer(TINY).fit(as_train(cyclic(60, 12, seed=0)))


def test_windows_cover_every_transition_of_a_long_history() -> None:
    x, y = training_windows([np.arange(20)], max_len=8)
    assert x.shape == (3, 8)  # 19 transitions in windows of 8: 8 + 8 + 3
    assert sorted(y[y >= 0].tolist()) == list(range(1, 20))
    assert np.all((x == 0) == (y < 0))  # a padded input predicts nothing


def test_learns_the_next_item_far_above_chance(fitted: SASRecScorer) -> None:
    held_out = cyclic(50, 6, seed=1)  # users never trained on
    scores = fitted.score_many([h[:-1] for h in held_out])
    hits = np.mean([int(np.argmax(s)) == int(h[-1]) for s, h in zip(scores, held_out, strict=True)])
    assert hits >= 0.8  # chance is 1/20
    assert fitted.losses[-1] < fitted.losses[0] / 2


def test_same_seed_same_model_other_seed_another() -> None:
    data = as_train(cyclic(30, 10, seed=2))
    quick = TINY.model_copy(update={"epochs": 3})
    h = [np.array([3, 4, 5])]
    first = SASRecScorer(quick).fit(data).score_many(h)
    again = SASRecScorer(quick).fit(data).score_many(h)
    other = SASRecScorer(quick.model_copy(update={"seed": 4})).fit(data).score_many(h)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)


def test_every_live_event_moves_the_source_at_once(fitted: SASRecScorer) -> None:
    spec = SourceSpec(kind="sasrec", quota=5, params=TINY.model_dump())
    source = source_kind("sasrec").fit(spec, FitContext(as_train(cyclic(60, 12, seed=0))))
    before = History.from_items([7, 8, 9])
    after = History.from_items([7, 8, 9, 14])  # the user jumps ahead in the cycle
    s_before = source.scores(Query(before, ItemStats(N_ITEMS), 0.0))
    s_after = source.scores(Query(after, ItemStats(N_ITEMS), 0.0))
    assert int(np.argmax(s_before)) == 10 and int(np.argmax(s_after)) == 15
    masked = s_after.copy()
    masked[after.seen] = -np.inf
    top = source.propose(Query(after, ItemStats(N_ITEMS), 0.0), masked, np.sort(masked))
    assert top[0] == 15 and len(top) == 5 and not set(top.tolist()) & {7, 8, 9, 14}
    assert not np.any(source.scores(Query(History.from_items([]), ItemStats(N_ITEMS), 0.0)))


def test_bundle_round_trip_gives_the_same_scores(fitted: SASRecScorer, tmp_path: Path) -> None:
    spec = SourceSpec(kind="sasrec", quota=5, params=TINY.model_dump())
    kind = source_kind("sasrec")
    kind(spec, fitted).save(tmp_path)  # type: ignore[call-arg]
    back = kind.load(spec, tmp_path)
    q = Query(History.from_items([1, 2, 3, 4]), ItemStats(N_ITEMS), 0.0)
    assert (tmp_path / "sasrec.pt").exists()
    assert np.array_equal(back.scores(q), fitted.score(np.array([1, 2, 3, 4])))


@pytest.mark.slow  # starts processes
def test_serving_without_torch_unless_the_recipe_names_sasrec(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import sys

        class NoTorch:  # as if torch were not installed
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ModuleNotFoundError(f"No module named {name!r}")
                return None

        sys.meta_path.insert(0, NoTorch())
        import numpy as np
        from recloop.config import ModelParams
        from recloop.errors import ConfigError
        from recloop.retrieval.base import TrainData
        from recloop.retrieval.candidates import CandidateSources, default_candidates
        from recloop.retrieval.history import History
        from recloop.retrieval.sources import FitContext, source_kind
        from recloop.retrieval.trending import ItemStats
        import recloop.api.app, recloop.ranking.bundle, recloop.evaluation.baselines  # the serving path
        items = np.array([0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 0])
        data = TrainData.from_arrays(np.repeat([1, 2, 3], 4), items, np.ones(12), np.arange(12), 5)
        specs = default_candidates(ModelParams(sasrec_source=False)).sources
        assert "sasrec" not in [s.kind for s in specs]
        sources = CandidateSources([source_kind(s.kind).fit(s, FitContext(data)) for s in specs], 5)
        cands = sources.generate(History.from_items([0, 1]), ItemStats(5), 0.0)
        assert len(cands.items) > 0
        spec = default_candidates(ModelParams(sasrec_source=True)).sources
        try:
            source_kind("sasrec").fit(next(s for s in spec if s.kind == "sasrec"), FitContext(data))
        except ConfigError as exc:
            print("REFUSED", exc.message)
        assert "torch" not in sys.modules
    """)
    src = str(Path(recloop.__file__).resolve().parents[1])  # this checkout, not an installed copy
    env = {**os.environ, "PYTHONPATH": src}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                         cwd=tmp_path, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "REFUSED" in out.stdout and "pip install" in out.stdout and "torch" in out.stdout


def test_a_missing_torch_is_a_config_error_naming_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "recloop.retrieval.sasrec", None)
    spec = SourceSpec(kind="sasrec", quota=5, params=TINY.model_dump())
    with pytest.raises(ConfigError, match=r"pip install 'recloop\[sequence\]'"):
        source_kind("sasrec").load(spec, Path("."))

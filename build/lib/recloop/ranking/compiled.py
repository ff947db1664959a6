"""The ranker compiled to native code with lleaves (LLVM), for the request path.

LightGBM's own predict costs about 1.5 µs per candidate row and 74 trees on
this machine (the C++ predictor walks generic tree structures and converts
every row first); lleaves turns the same model text into straight-line
machine code that scores a request's ~150 candidates about 8x faster. The
compiled object is cached by a hash of the model text, the lleaves/llvmlite
versions and the host CPU (it is specialised to it), so a model is compiled
once per machine (about 2 s) and loaded in milliseconds after that.

Every compile is checked against LightGBM on a fixed probe set (with
missing values) before it is used: a disagreement fails loudly, naming the
setting that serves through LightGBM instead.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from recloop.errors import DataError

__all__ = ["CompiledForest", "compile_booster"]

_PROBE_ROWS = 512
_TOLERANCE = 1e-9  # summation order differs from LightGBM's: about 1e-15 seen


class CompiledForest:
    """A LightGBM model compiled by lleaves: ``predict`` float32/64 rows -> float64 scores."""

    def __init__(self, model: Any, key: str) -> None:
        self._model = model  # a compiled lleaves.Model
        self.key = key

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Scores float64 (n,), on the calling thread."""
        out: np.ndarray = self._model.predict(features, n_jobs=1)
        return out


def _versions() -> str:
    import llvmlite.binding as llvm

    return f"lleaves={version('lleaves')};llvmlite={version('llvmlite')};cpu={llvm.get_host_cpu_name()}"


def compile_booster(booster: lgb.Booster, num_iteration: int, cache_dir: Path) -> CompiledForest:
    """Compile ``booster``'s first ``num_iteration`` trees (or load the cached object).

    Raises DataError if lleaves is missing or its scores differ from LightGBM's.
    """
    try:
        import lleaves
    except ImportError as exc:  # pragma: no cover - a dependency of recloop
        raise DataError(
            f"the compiled ranker needs lleaves ({exc}); reinstall recloop (`bash scripts/install.sh`) "
            "or serve through LightGBM with RECLOOP_RANKER_RUNTIME=lightgbm"
        ) from None
    text = booster.model_to_string(num_iteration=num_iteration)
    key = hashlib.sha256((text + _versions()).encode()).hexdigest()[:24]
    cache_dir.mkdir(parents=True, exist_ok=True)
    model_file, binary = cache_dir / f"ranker-{key}.txt", cache_dir / f"ranker-{key}.so"
    if not model_file.exists():
        _atomic_write(model_file, text.encode())
    model = lleaves.Model(model_file=str(model_file))
    if binary.exists():
        model.compile(cache=str(binary))
    else:  # compile to a private name, then publish: concurrent workers never read half a file
        tmp = binary.with_name(f".{binary.name}.{uuid.uuid4().hex}")
        model.compile(cache=str(tmp))
        os.replace(tmp, binary)
    forest = CompiledForest(model, key)
    _check(forest, booster, num_iteration, binary)
    return forest


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _check(forest: CompiledForest, booster: lgb.Booster, num_iteration: int, binary: Path) -> None:
    """The compiled scores must equal LightGBM's on a probe set with missing values."""
    rng = np.random.default_rng(7)
    shape = (_PROBE_ROWS, booster.num_feature())
    x = np.where(rng.random(shape) < 0.5, rng.standard_normal(shape), rng.uniform(-10, 2000, shape))
    x = x.astype(np.float32)
    x[rng.random(x.shape) < 0.05] = np.nan
    x[rng.random(x.shape) < 0.2] = 0.0
    want = booster.predict(x, num_iteration=num_iteration, num_threads=1)
    got = forest.predict(x)
    gap = float(np.max(np.abs(got - want))) if len(x) else 0.0
    if not gap <= _TOLERANCE * (1.0 + float(np.max(np.abs(want)))):
        binary.unlink(missing_ok=True)
        raise DataError(
            f"the lleaves-compiled ranker disagrees with LightGBM (max gap {gap:.3g}); "
            "serve through LightGBM with RECLOOP_RANKER_RUNTIME=lightgbm and report this"
        )

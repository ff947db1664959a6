"""Salted-hash assignment: pinned values, weights, salt independence, validation."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable

import numpy as np
import pytest
from scipy import stats as sps

from recloop.errors import ValidationError
from recloop.experiments.assignment import assign, assign_many, bucket
from recloop.experiments.stats import srm_check

N_USERS = 100_000


def test_bucket_recipe_is_the_documented_sha256() -> None:
    # top 53 bits of sha256(b"exp-1\x1falice") = 5569627108510383; / 2^53 = 0.6183528254444662
    digest = hashlib.sha256(b"exp-1\x1falice").digest()
    assert int.from_bytes(digest[:8], "big") >> 11 == 5569627108510383
    assert bucket("alice", "exp-1") == 5569627108510383 / 2.0**53 == 0.6183528254444662


@pytest.mark.parametrize(
    ("user_id", "salt", "expected_bucket", "two_way", "weighted"),
    [
        ("alice", "exp-1", 0.6183528254444662, "treatment", None),
        ("bob", "exp-1", 0.46838688450025867, "control", None),
        (42, "exp-1", 0.9900979453073274, "treatment", None),
        ("42", "exp-1", 0.9900979453073274, "treatment", None),  # ints hash as their str
        ("alice", "homepage-v2", 0.2248014228106202, None, "a"),
        (42, "homepage-v2", 0.5964948944048337, None, "b"),
        ("dave", "homepage-v2", 0.9462735142055493, None, "c"),
    ],
)
def test_pinned_assignments(
    user_id: str | int,
    salt: str,
    expected_bucket: float,
    two_way: str | None,
    weighted: str | None,
) -> None:
    assert bucket(user_id, salt) == expected_bucket
    if two_way is not None:
        assert assign(user_id, salt, ["control", "treatment"]) == two_way
        assert assign(user_id, salt, ["control", "treatment"], [1, 1]) == two_way
    if weighted is not None:
        # cumulative weights 0.5 | 0.75 | 1.0
        assert assign(user_id, salt, ["a", "b", "c"], [0.5, 0.25, 0.25]) == weighted
        assert assign(user_id, salt, ["a", "b", "c"], [2, 1, 1]) == weighted  # normalised


def test_stable_across_processes_with_random_hash_seed() -> None:
    code = (
        "from recloop.experiments.assignment import assign;"
        "print(assign('alice', 'exp-1', ['control', 'treatment']), assign(42, 'homepage-v2',"
        " ['a', 'b', 'c'], [0.5, 0.25, 0.25]))"
    )
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.path.abspath(src)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["treatment", "b"]


def test_weights_respected_over_100k_users() -> None:
    weights = [0.5, 0.3, 0.2]
    counts = Counter(assign_many(range(N_USERS), "exp-weights", ["a", "b", "c"], weights))
    observed = [counts["a"], counts["b"], counts["c"]]
    # sd of a share is at most sqrt(0.25 / 1e5) = 0.0016; allow ~4 sd.
    assert np.allclose(np.array(observed) / N_USERS, weights, atol=0.006)
    assert not srm_check(observed, weights).mismatch


def test_zero_weight_variant_never_chosen() -> None:
    got = set(assign_many(range(20_000), "exp-zero", ["a", "off", "b", "tail"], [1, 0, 1, 0]))
    assert got == {"a", "b"}


def test_different_salts_are_independent() -> None:
    first = np.array(assign_many(range(N_USERS), "exp-A", ["c", "t"])) == "t"
    second = np.array(assign_many(range(N_USERS), "exp-B", ["c", "t"])) == "t"
    table = np.array(
        [[np.sum(~first & ~second), np.sum(~first & second)],
         [np.sum(first & ~second), np.sum(first & second)]]
    )  # fmt: skip
    # Independent 50/50 splits: each cell ~25k, agreement ~50%.
    assert np.mean(first == second) == pytest.approx(0.5, abs=0.006)
    assert sps.chi2_contingency(table).pvalue > 0.001


def test_assign_many_matches_assign() -> None:
    ids: list[str | int] = ["u1", "u2", 3, 4]
    assert assign_many(ids, "s", ["x", "y", "z"]) == [assign(u, "s", ["x", "y", "z"]) for u in ids]


@pytest.mark.parametrize(
    "call",
    [
        lambda: assign("u", "s", []),
        lambda: assign("u", "s", "ab"),
        lambda: assign("u", "s", ["a", "a"]),
        lambda: assign("u", "s", ["a", "b"], [1.0]),
        lambda: assign("u", "s", ["a", "b"], [1.0, -0.5]),
        lambda: assign("u", "s", ["a", "b"], [0.0, 0.0]),
        lambda: assign("u", "s", ["a", "b"], [float("nan"), 1.0]),
        lambda: assign("u", "", ["a", "b"]),
        lambda: assign("u", "bad\x1fsalt", ["a", "b"]),
        lambda: assign(True, "s", ["a", "b"]),
        lambda: assign(1.5, "s", ["a", "b"]),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()

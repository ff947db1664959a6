"""A schema-driven fuzzer (schemathesis) over /openapi.json against a real `recloop serve`: every
operation, admin routes with the key, response-schema, status-code and content-type conformance
and no 5xx. benchmarks/fuzz_api.py runs the same with more examples."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.test_restart import Server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz_api import fuzz

KEY = "fuzz-admin-key"


@pytest.fixture()
def server(trained_home: Path, tmp_path: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env.update(RECLOOP_HOME=str(trained_home), RECLOOP_STATE__TYPE="memory",
               RECLOOP_STATE__PATH=str(tmp_path / "state.db"), RECLOOP_ADMIN_API_KEY=KEY)  # fmt: skip
    s = Server(env, tmp_path / "serve.log")
    try:
        s.wait_ready()
        yield s
    finally:
        s.sigkill()


def test_the_fuzzer_finds_no_schema_violation_and_no_server_error(server: Server) -> None:
    got = fuzz(server.url, KEY, max_examples=12)
    assert got["test_cases"] > 100 and got["operations_tested"] >= 18, got["output_tail"]
    assert got["failures"] == {} and got["exit_code"] == 0, got["output_tail"]

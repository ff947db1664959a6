"""A schema-driven fuzzer (schemathesis) over /openapi.json against a real `recloop serve`: every
operation, admin routes with the key, response-schema, status-code and content-type conformance
and no 5xx. benchmarks/fuzz_api.py runs the same with more examples."""

from __future__ import annotations

import sys
from pathlib import Path

from api.live_server import LIVE_ADMIN_KEY, Server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from fuzz_api import fuzz


def test_the_fuzzer_finds_no_schema_violation_and_no_server_error(live_server: Server) -> None:
    got = fuzz(live_server.url, LIVE_ADMIN_KEY, max_examples=12)
    assert got["test_cases"] > 100 and got["operations_tested"] >= 18, got["output_tail"]
    assert got["failures"] == {} and got["exit_code"] == 0, got["output_tail"]

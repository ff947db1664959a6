"""Schema-driven fuzzing of a running recloop server with schemathesis (response-schema conformance).

    .venv/bin/python benchmarks/fuzz_api.py --url http://127.0.0.1:8000 --admin-key KEY \
        [--max-examples 100] [--json benchmarks/results/fuzz_api.json]

Runs ``st run`` over ``/openapi.json`` with the checks not_a_server_error,
response_schema_conformance, status_code_conformance and content_type_conformance, on every
operation (admin routes with the key), prints the summary and writes the counts as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

CHECKS = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
DEFAULT_JSON = Path(__file__).parent / "results" / "fuzz_api.json"


def fuzz(url: str, admin_key: str, max_examples: int, seed: int = 0) -> dict[str, object]:
    """Run schemathesis once; the counts it reports and every failure code it names."""
    st = Path(sys.executable).with_name("st")
    cmd = [str(st), "run", f"{url}/openapi.json", "-H", f"X-Admin-Key: {admin_key}", "--checks", CHECKS,
           "--max-examples", str(max_examples), "--phases", "examples,fuzzing", "--seed", str(seed),
           "--no-color"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    out = proc.stdout + proc.stderr
    cases = re.search(r"(\d+) generated", out)
    failures = re.findall(r"❌ (ST\d+ [^:]+): (\d+)", out)
    return {
        "url": url, "max_examples": max_examples, "seed": seed, "exit_code": proc.returncode,
        "test_cases": int(cases.group(1)) if cases else 0,
        "failures": {name: int(n) for name, n in failures},
        "server_errors": sum(int(n) for name, n in failures if "Server error" in name),
        "operations_tested": int(m.group(1)) if (m := re.search(r"Tested: (\d+)", out)) else 0,
        "wall_s": round(time.perf_counter() - t0, 1), "output_tail": out[-4000:],
    }  # fmt: skip


def main() -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--admin-key", required=True)
    ap.add_argument("--max-examples", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=DEFAULT_JSON)
    a = ap.parse_args()
    result = fuzz(a.url, a.admin_key, a.max_examples, a.seed)
    print(str(result["output_tail"])[-2500:])
    print(f"test cases {result['test_cases']}, operations {result['operations_tested']}, "
          f"failures {result['failures'] or 0}, exit {result['exit_code']}")  # fmt: skip
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps({k: v for k, v in result.items() if k != "output_tail"}, indent=1))
    print(f"wrote {a.json}")


if __name__ == "__main__":
    main()

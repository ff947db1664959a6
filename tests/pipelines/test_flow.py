"""The retrain pipeline as a Prefect flow (ephemeral mode, its own venv: scripts/flow_env.sh) decides
what `recloop retrain` decides on the same data: same decision, same window metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from homes import HomeCopier

ROOT = Path(__file__).resolve().parents[2]
FLOW_PY = ROOT / ".venv-flow" / "bin" / "recloop"


def test_the_prefect_flow_decides_like_recloop_retrain(copy_trained_home: HomeCopier, tmp_path: Path) -> None:
    assert FLOW_PY.exists(), "the flow environment is missing: run `bash scripts/flow_env.sh`"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("RECLOOP_", "PREFECT_"))}
    plain, flowed = copy_trained_home("retrain_plain"), copy_trained_home("retrain_flow")
    args = ["--max-queries", "300"]
    runs = [
        subprocess.Popen([str(Path(sys.executable).with_name("recloop")), "retrain", *args, "--json",
                          str(tmp_path / "plain.json")], env=base | {"RECLOOP_HOME": str(plain)},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
        subprocess.Popen([str(FLOW_PY), "flow", "retrain", *args, "--json", str(tmp_path / "flow.json")],
                         env=base | {"RECLOOP_HOME": str(flowed), "PREFECT_HOME": str(tmp_path / "prefect"),
                                     "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "240"},
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
    ]  # fmt: skip
    for p in runs:
        out, _ = p.communicate(timeout=1500)
        assert p.returncode == 0, out[-3000:]
    a = json.loads((tmp_path / "plain.json").read_text())
    b = json.loads((tmp_path / "flow.json").read_text())
    assert a["decision"] == b["decision"] and a["reason"].split(":")[0] == b["reason"].split(":")[0]
    for role in ("champion", "challenger"):
        quality = {k: v for k, v in a[role]["metrics"].items() if not k.startswith("latency")}
        assert quality == {k: b[role]["metrics"][k] for k in quality}, role

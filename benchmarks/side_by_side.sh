#!/usr/bin/env bash
# P1 + P2 of a freshly trained champion on two commits, one after the other on this machine, same
# seeds: usage `bash benchmarks/side_by_side.sh [OLD_REF]` (default HEAD~1). Writes
# benchmarks/results/side_by_side.json and prints the metrics side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:-HEAD~1}
PY=$PWD/.venv/bin/python
WHEEL=$(ls "${RECLOOP_HOME:-$HOME/.recloop}"/data/recbole-*.whl 2>/dev/null | head -1 || true)
TMP=$(mktemp -d)
git worktree add -q "$TMP/old" "$OLD"
trap 'git worktree remove --force "$TMP/old"; rm -rf "$TMP"' EXIT
for side in old new; do
  src=$PWD/src; [ "$side" = old ] && src=$TMP/old/src
  home=$TMP/home-$side; mkdir -p "$home/data"; [ -n "$WHEEL" ] && cp "$WHEEL" "$home/data/"
  echo "== $side ($src)"
  RECLOOP_HOME=$home PYTHONPATH=$src "$PY" -c 'import sys; from recloop.cli import app; sys.argv[0]="recloop"; app()' \
    train --json "$TMP/$side-p1.json" >/dev/null
  RECLOOP_HOME=$home PYTHONPATH=$src "$PY" -c 'import sys; from recloop.cli import app; sys.argv[0]="recloop"; app()' \
    evaluate --protocol p2 --models champion,popular,itemknn --json "$TMP/$side-p2.json" >/dev/null
done
"$PY" - "$TMP" "$OLD" <<'PYEOF'
import json, subprocess, sys
from pathlib import Path
tmp, old = Path(sys.argv[1]), sys.argv[2]
out = {"old_ref": subprocess.check_output(["git", "rev-parse", old], text=True).strip(),
       "new_ref": subprocess.check_output(["git", "rev-parse", "HEAD"], text=True).strip(), "sides": {}}
for side in ("old", "new"):
    p1 = json.loads((tmp / f"{side}-p1.json").read_text())["models"]["champion"]["metrics"]
    p2 = {k: v["metrics"] for k, v in json.loads((tmp / f"{side}-p2.json").read_text())["models"].items()}
    out["sides"][side] = {"p1_champion": p1, "p2": p2}
o, n = out["sides"]["old"], out["sides"]["new"]
print(f"{'metric':28} {'old':>10} {'new':>10} {'change':>8}")
rows = [("P1 " + k, o["p1_champion"][k], n["p1_champion"][k]) for k in o["p1_champion"]]
rows += [(f"P2 {m} {k}", o["p2"][m][k], n["p2"][m][k]) for m in o["p2"] for k in ("NDCG@10", "HR@10", "events_per_s")]
for name, a, b in rows:
    print(f"{name:28} {a:10.4f} {b:10.4f} {100 * (b - a) / a if a else 0.0:+7.2f}%")
Path("benchmarks/results/side_by_side.json").write_text(json.dumps(out, indent=1))
print("wrote benchmarks/results/side_by_side.json")
PYEOF

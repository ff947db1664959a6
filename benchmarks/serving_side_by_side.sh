#!/usr/bin/env bash
# The serving benchmark (benchmarks/serving.py, wrk over 127.0.0.1) on two commits in one run:
# each side trains its own champion (bundle formats differ between commits), then the two servers
# are measured in alternation, ROUNDS times each, so slow drift of the machine hits both sides.
# Usage: `bash benchmarks/serving_side_by_side.sh [OLD_REF] [ROUNDS]` (defaults c2035f2, 3).
# Writes benchmarks/results/serving_side_by_side.json (every round, and the median per figure).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=${1:-c2035f2}
ROUNDS=${2:-3}
PY=$PWD/.venv/bin/python
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }
WHEEL=$(ls "${RECLOOP_HOME:-$HOME/.recloop}"/data/recbole-*.whl 2>/dev/null | head -1 || true)
TMP=$(mktemp -d)
git worktree add -q "$TMP/old" "$OLD"
trap 'git worktree remove --force "$TMP/old"; rm -rf "$TMP"' EXIT
src_of() { if [ "$1" = old ]; then echo "$TMP/old/src"; else echo "$PWD/src"; fi; }
for side in old new; do
  home=$TMP/home-$side; mkdir -p "$home/data"; [ -n "$WHEEL" ] && cp "$WHEEL" "$home/data/"
  echo "== training $side ($(src_of $side))"
  RECLOOP_HOME=$home PYTHONPATH=$(src_of $side) "$PY" -c \
    'import sys; from recloop.cli import app; sys.argv[0]="recloop"; app()' train >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  for side in old new; do
    echo "== round $round: $side"
    PYTHONPATH=$(src_of $side) "$PY" benchmarks/serving.py --home "$TMP/home-$side" --no-variants \
      --duration 10 --fresh 200 --json "$TMP/$side-$round.json" >/dev/null
  done
done
"$PY" - "$TMP" "$OLD" "$ROUNDS" <<'PYEOF'
import json, statistics, subprocess, sys
from pathlib import Path
tmp, old, rounds = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rev = lambda r: subprocess.check_output(["git", "rev-parse", r], text=True).strip()
out = {"old_ref": rev(old), "new_ref": rev("HEAD"), "rounds": rounds, "runs": {}, "median": {}}
figures = ("requests_per_s", "p50_ms", "p99_ms")
for side in ("old", "new"):
    runs = [json.loads((tmp / f"{side}-{i}.json").read_text())["results"] for i in range(1, rounds + 1)]
    out["runs"][side] = runs
    out["median"][side] = {name: {f: statistics.median(r[name][f] for r in runs if r[name].get(f) is not None)
                                  for f in figures if any(r[name].get(f) is not None for r in runs)}
                           for name in runs[0]}
o, n = out["median"]["old"], out["median"]["new"]
print(f"{'benchmark':18} {'figure':15} {'old':>10} {'new':>10} {'change':>8}   (median of {rounds} rounds)")
for name in o:
    for f in o[name]:
        a, b = o[name][f], n.get(name, {}).get(f)
        if b is not None:
            print(f"{name:18} {f:15} {a:10.2f} {b:10.2f} {100 * (b - a) / a if a else 0.0:+7.1f}%")
Path("benchmarks/results/serving_side_by_side.json").write_text(json.dumps(out, indent=1))
print("wrote benchmarks/results/serving_side_by_side.json")
PYEOF

"""ALS fitted by implicit vs by Spark ML, same hyperparameters (rank, alpha, iterations, seed), on P1.

Usage: ``python benchmarks/spark_als.py --home HOME [--json benchmarks/results/spark_als.json]``
(HOME holds the MovieLens data; no trained model is needed). Runs ``recloop evaluate --protocol
p1 --models als`` once per engine in a subprocess and records NDCG@10 (and the rest of P1) and
the wall time of each, then once more with Spark reading the events from a Delta table's
parquet files (``--source delta:PATH``, MovieLens exported into a temporary table); Spark's
regularisation is count-weighted (``spark_reg_param``), so that
one parameter is on its own scale. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECLOOP = Path(sys.executable).with_name("recloop")


def run(home: Path, engine: str, out: Path, source: str | None = None) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECLOOP_")}
    env |= {"RECLOOP_HOME": str(home), "RECLOOP_MODELS__ALS__ENGINE": engine}
    cmd = [str(RECLOOP), "evaluate", "--protocol", "p1", "--models", "als", "--json", str(out)]
    t0 = time.perf_counter()
    subprocess.run([*cmd, *(["--source", source] if source else [])], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    wall = time.perf_counter() - t0
    metrics = json.loads(out.read_text())["models"]["als"]["metrics"]
    name = engine if source is None else f"{engine}+delta"
    return {"engine": name, "source": source or "movielens", "metrics": metrics, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path.home() / ".recloop")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "spark_als.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(args.home, e, Path(tmp) / f"{e}.json") for e in ("implicit", "spark")]
        # Spark reading the events from a Delta table's parquet files (MovieLens exported into one)
        table = Path(tmp) / "events"
        env = {**os.environ, "RECLOOP_HOME": str(args.home)}
        subprocess.run([str(RECLOOP), "data", "export", "--delta", str(table)], check=True, env=env,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        rows.append(run(args.home, "spark", Path(tmp) / "delta.json", f"delta:{table}"))
    a, b, c = (r["metrics"]["NDCG@10"] for r in rows)  # type: ignore[index]
    result = {"runs": rows, "ndcg_ratio_spark_over_implicit": b / a,
              "ndcg_ratio_spark_delta_over_implicit": c / a}
    for r in rows:
        m = r["metrics"]
        print(f"{r['engine']:9} NDCG@10 {m['NDCG@10']:.4f}  Recall@20 {m['Recall@20']:.4f}  "  # type: ignore[index]
              f"wall {r['wall_s']:.1f} s")
    print(f"Spark / implicit NDCG@10: {b / a:.3f}; Spark reading the Delta table / implicit: {c / a:.3f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

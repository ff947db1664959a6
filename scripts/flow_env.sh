#!/usr/bin/env bash
# The orchestration environment: .venv-flow with Prefect 3.9 and recloop (docs/ORCHESTRATION.md).
# Prefect 3.9 pins fastapi < 0.151, the API runs on a newer FastAPI, so the flow gets its own venv
# (recloop's pipelines do not import FastAPI). A recipe with the SASRec source also needs '.[sequence]'.
# Then: .venv-flow/bin/recloop flow retrain
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-flow/bin/python ]; then
  "$PY" -m venv .venv-flow
fi
.venv-flow/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv-flow/bin/python -m pip install --quiet "prefect==3.9.1" -e ".[stream]" 2>&1 | grep -v "^WARNING: Location" || true
.venv-flow/bin/python -c "import prefect, recloop; print('prefect', prefect.__version__, 'in .venv-flow')"

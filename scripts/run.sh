#!/usr/bin/env bash
# Install everything into .venv, fetch the data, train a model if there is no champion yet,
# build the dashboard (if npm is available), then serve API + UI on http://127.0.0.1:8000
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if command -v npm >/dev/null && [ -f web/package.json ] && [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
.venv/bin/recloop data fetch
if ! .venv/bin/python -c "
from recloop.config import get_settings
from recloop.registry import registry_from_settings
import sys
sys.exit(0 if registry_from_settings(get_settings()).alias_version('champion') else 1)
" 2>/dev/null; then
  .venv/bin/recloop train
fi
exec .venv/bin/recloop serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"

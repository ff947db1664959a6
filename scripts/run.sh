#!/usr/bin/env bash
# Install everything into .venv, fetch the data, train a model if there is no champion yet,
# build the dashboard (if npm is available), then serve API + UI on http://127.0.0.1:8000
#
# Admin key: unless RECLOOP_ADMIN_API_KEY (or RECLOOP_ADMIN_API_KEY_FILE) is already set, a random
# key is created once in $RECLOOP_HOME/admin_api_key (mode 600) and used from there; the server
# prints where it is. Paste it into the dashboard's settings to promote, roll back or run experiments.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if command -v npm >/dev/null && [ -f web/package.json ] && [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund && npm run build)
fi
if [ -z "${RECLOOP_ADMIN_API_KEY:-}" ] && [ -z "${RECLOOP_ADMIN_API_KEY_FILE:-}" ]; then
  home="${RECLOOP_HOME:-$HOME/.recloop}"
  key_file="$home/admin_api_key"
  if [ ! -s "$key_file" ]; then
    mkdir -p "$home"
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(32))' > "$key_file")
    echo "created a random admin key in $key_file (mode 600)"
  fi
  chmod 600 "$key_file"
  export RECLOOP_ADMIN_API_KEY_FILE="$key_file"
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

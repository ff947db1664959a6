#!/usr/bin/env bash
# Install everything into .venv and run every check: ruff, mypy --strict, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export RECLOOP_TEST_REDIS_URL=${RECLOOP_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
if ! .venv/bin/python -c "import redis,sys; redis.Redis.from_url('redis://127.0.0.1:6379', socket_connect_timeout=1).ping()" 2>/dev/null; then
  if command -v redis-server >/dev/null; then
    echo "Redis is not running on 127.0.0.1:6379; starting it (tests use the real server)."
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    sleep 1
  fi
fi
# the dashboard: install, type-check, unit tests (vitest), build (served by recloop serve)
if ! command -v chromium >/dev/null; then
  echo "Installing Debian chromium for the browser end-to-end test."
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "could not install chromium"
fi
missing=""
command -v prometheus >/dev/null || missing="$missing prometheus"
command -v dockerd >/dev/null || missing="$missing docker.io"
command -v debootstrap >/dev/null || missing="$missing debootstrap"
if [ -n "$missing" ]; then
  echo "Installing Debian$missing for the deploy tests (tests/deploy: Prometheus, the image)."
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null) \
    || echo "could not install$missing"
fi
(cd web && npm ci --no-audit --no-fund --loglevel=error && npm run typecheck && npm test && npm run build)
bash scripts/flow_env.sh  # Prefect in its own venv (tests/pipelines/test_flow.py)
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy --strict src
.venv/bin/pytest -p no:cacheprovider --durations=25 "$@"

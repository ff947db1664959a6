#!/usr/bin/env bash
# Build the recloop image on a machine without an image registry (docs/DEPLOY.md, "offline"):
# a Debian base made with debootstrap and `docker import`, the Python dependencies as a local
# wheelhouse, the dashboard built on the host. Starts a private dockerd if none answers.
# Usage: bash scripts/docker_build_offline.sh [TAG]   (default recloop:local). Prints the tag.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-recloop:local}
BASE=recloop-base:bookworm
STATE=${RECLOOP_DOCKER_STATE:-/var/lib/recloop-docker}
export DOCKER_HOST=${DOCKER_HOST:-unix:///run/recloop-docker.sock}
if ! docker info >/dev/null 2>&1; then
  echo "starting a private dockerd on $DOCKER_HOST (host networking only)" >&2
  mkdir -p "$STATE/data" "$STATE/exec"
  nohup dockerd --data-root "$STATE/data" --exec-root "$STATE/exec" -H "$DOCKER_HOST" \
    --bridge=none --iptables=false --ip-masq=false >"$STATE/dockerd.log" 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $STATE/dockerd.log" >&2; exit 1; }
fi
if ! docker image inspect "$BASE" >/dev/null 2>&1; then
  echo "making the base image $BASE with debootstrap" >&2
  root=$(mktemp -d)
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,libgomp1 \
    bookworm "$root" http://deb.debian.org/debian >"$STATE/debootstrap.log" 2>&1 \
    || { echo "debootstrap failed; see $STATE/debootstrap.log" >&2; exit 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import - "$BASE" >/dev/null
  rm -rf "$root"
fi
if [ ! -f web/dist/index.html ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build)
fi
PY=${PYTHON:-.venv/bin/python}
echo "collecting the wheelhouse" >&2
# async-timeout: redis needs it below Python 3.11.3 (Debian bookworm has 3.11.2)
"$PY" -m pip wheel --quiet -w wheelhouse . setuptools wheel async-timeout 2>&1 | grep -v "^WARNING: Location" >&2 || true
rm -f wheelhouse/recloop-*.whl  # the image builds its own, with the dashboard inside
DOCKER_BUILDKIT=0 docker build --network host -q -t "$TAG" \
  --build-arg NODE_IMAGE="$BASE" --build-arg PYTHON_IMAGE="$BASE" \
  --build-arg PIP_OPTIONS="--no-index --find-links /wheelhouse" . >&2
echo "$TAG"

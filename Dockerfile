# recloop: one image for `serve`, `worker`, `consume` and `train` (docs/DEPLOY.md).
#   docker build -t recloop .
# Base images are build arguments so an offline machine can use locally made ones
# (scripts/docker_build_offline.sh); PIP_OPTIONS points pip at a local wheelhouse there.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. the dashboard (skipped when the context already holds a built web/dist)
FROM ${NODE_IMAGE} AS web
WORKDIR /src/web
COPY web/ ./
RUN if [ -f dist/index.html ]; then echo "using the prebuilt web/dist"; \
    else npm ci --no-audit --no-fund && npm run build; fi

# 2. the wheel (the dashboard inside it) and every dependency as wheels
FROM ${PYTHON_IMAGE} AS wheels
ARG PIP_OPTIONS=""
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src/ src/
COPY --from=web /src/web/dist/ src/recloop/web_dist/
# a local wheelhouse/ if the context has one (the glob lets the build go on without it)
COPY README.md wheelhous[e] /wheelhouse/
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --quiet --no-cache-dir ${PIP_OPTIONS} --wheel-dir /wheels .

# 3. the runtime: a slim Python with a venv of wheels, a non-root user, data on a volume
FROM ${PYTHON_IMAGE}
COPY --from=wheels /wheels /wheels
RUN python3 -m venv /opt/recloop \
    && /opt/recloop/bin/pip install --quiet --no-cache-dir --no-index --find-links /wheels recloop \
    && rm -rf /wheels /root/.cache \
    && groupadd --gid 10001 recloop \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin recloop \
    && mkdir -p /data && chown recloop:recloop /data
ENV PATH=/opt/recloop/bin:$PATH \
    RECLOOP_HOME=/data \
    PYTHONUNBUFFERED=1 \
    OMP_NUM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    MKL_NUM_THREADS=1
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/ready\", timeout=2)"]
ENTRYPOINT ["recloop"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]

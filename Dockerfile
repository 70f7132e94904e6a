# syntax=docker/dockerfile:1.7
# One image for all four services; the command picks the service, e.g.
#   docker run recruiting python -m scheduler serve
#   docker run recruiting python -m scheduler migrate
# Build: docker build -t recruiting .   (BuildKit is needed for the cache mounts)

# Both stages must use the same interpreter: the virtual environment built in the first is
# bound to /usr/local/bin/python3.11 of the second. Pin a digest here for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim
# The uv the team develops with (`uv --version`); the lock's format follows it, so bump together.
ARG UV_VERSION=0.13.9

FROM ghcr.io/astral-sh/uv:${UV_VERSION} AS uv

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

COPY --from=uv /uv /usr/local/bin/uv

# Compile bytecode now: the runtime's root filesystem is read-only and it must not write .pyc.
# Copy (not hard-link) out of the cache mount, which is gone once the RUN step ends.
# Use the image's interpreter; never download one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Third-party dependencies first: this layer is rebuilt only when the lock or a pyproject changes.
COPY uv.lock pyproject.toml ./
COPY services/pipeline/pyproject.toml services/pipeline/
COPY services/scheduler/pyproject.toml services/scheduler/
COPY services/notifier/pyproject.toml services/notifier/
COPY services/talentpool/pyproject.toml services/talentpool/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-install-workspace

# Then our own code, installed as ordinary (non-editable) wheels, so the virtual environment
# holds everything the runtime needs, Alembic scripts and migrations included.
# LICENSE* rather than LICENSE: a wildcard may match nothing, so the build does not depend on it.
COPY README.md LICENSE* ./
COPY shared shared
COPY services services
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --all-packages --no-editable

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="recruiting" \
      org.opencontainers.image.description="Recruiting suite: pipeline, scheduler, notifier and talentpool services" \
      org.opencontainers.image.licenses="Apache-2.0"

# A fixed UID/GID so Kubernetes' runAsUser and file ownership agree with the image.
RUN groupadd --system --gid 10001 recruiting \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin recruiting

# Inside a container every service listens on 0.0.0.0:8000 (each container has its own network
# namespace, so one port for all keeps probes, healthchecks and manifests identical);
# <SERVICE>_PORT or --port still override it, and then PORT tells the healthcheck.
# Containers take their configuration from the environment only: no .env file is read.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RECRUITING_ENV_FILE= \
    RECRUITING_HOST=0.0.0.0 \
    RECRUITING_PORT=8000

WORKDIR /app
# Owned by root and not writable by the service user.
COPY --from=builder /app/.venv /app/.venv

USER 10001:10001
EXPOSE 8000

# slim has no curl; the standard library is enough. urlopen raises on any non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('PORT') or os.environ.get('RECRUITING_PORT') or '8000'; urllib.request.urlopen(f'http://127.0.0.1:{port}/livez', timeout=4)"]

# Compose and Kubernetes always name the service; this default only makes `docker run` useful.
CMD ["python", "-m", "pipeline", "serve"]

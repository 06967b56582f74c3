# syntax=docker/dockerfile:1
# The service's image: dependencies from uv.lock (as CI tests them), no build tool in the final
# stage, a non-root user, and the server as PID 1 in exec form so that SIGTERM reaches it and
# SERVER_GRACEFUL_SHUTDOWN_SECONDS applies. Checked by hadolint and checkov (`make lint`).
#   docker build -t example-service:0.1.0 .
# The same image runs every role: `example-service serve` (the default command), and every
# other command (`db upgrade`, ...: compose.yaml, deploy/k8s/).

# uv's own image, only to copy its binary from: it never reaches the final stage.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# The same Python image in both stages: the venv's python is a link to this interpreter.
FROM python:3.12-slim-trixie AS build
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled here: the final image may run on a read-only root filesystem, and a worker
# that compiles its imports starts ~3x slower (README, Serving). The venv lives where it runs.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The locked dependencies first, without the project: this layer is reused until uv.lock
# changes. No dependency group (neither dev nor deploy-lint); the otel extra so that
# TELEMETRY_OTEL=true needs no other image (add `--extra gunicorn` to serve under gunicorn).
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --extra otel --no-install-project --no-editable
# Then the project, installed as a wheel (migrations included), not as a link to /src.
COPY README.md ./
COPY src ./src
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-default-groups --extra otel --no-editable

FROM python:3.12-slim-trixie AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# A numeric user: Kubernetes' runAsNonRoot can only verify a numeric one.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
COPY --from=build /app/.venv /app/.venv
WORKDIR /app
# ./var: where the default DATABASE_URL (SQLite) writes, so that `docker run` alone works; with
# PostgreSQL (compose, Kubernetes) nothing is written there.
RUN mkdir var && chown app:app var
USER 10001:10001
EXPOSE 8000
# The live probe (health/router.py): the process answers. urllib raises on a refused
# connection, a timeout or a non-2xx answer, and python exits 1: unhealthy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health/live', timeout=2)"]
# Under gunicorn instead: the gunicorn extra (see above), deploy/gunicorn.conf.py copied in
# (and let through .dockerignore), then
# CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
CMD ["example-service", "serve", "--host", "0.0.0.0", "--port", "8000"]

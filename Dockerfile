# The web service: `docker compose up` (see docker-compose.yml) or
#   docker build -t grader . && docker run -e DATABASE_URL=postgresql://... -p 8000:8000 grader
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    WORKERS=4

WORKDIR /app

# bubblewrap builds the sandbox students' code runs in (sandbox/, docs/sandbox.md); util-linux's
# setpriv, which it also uses, is part of the base image. A container that grades code needs the
# seccomp profile docker/seccomp-code-worker.json (see the code-worker service in docker-compose.yml).
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# The dependencies first (read from pyproject.toml, test extras left out): a layer that survives
# code changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# A regular install: the migrations are a package of their own and ship inside it. It lands in the
# interpreter's site-packages, problem sets and their solutions included; the sandbox hides that
# directory from students' code and binds only the runtime's own distributions (docs/sandbox.md).
COPY alembic.ini ./
COPY migrations ./migrations
COPY problems ./problems
COPY grader ./grader
COPY api ./api
COPY cli ./cli
COPY sandbox ./sandbox
COPY docker/entrypoint.sh ./docker/entrypoint.sh
RUN pip install --no-deps . \
    && chmod 0755 docker/entrypoint.sh \
    && useradd --system --uid 10001 --home-dir /app --no-create-home grader

USER grader
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/health', timeout=4)"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]

#!/bin/sh
# The container's entrypoint: wait for the database, migrate it, then serve.
#
# `grader db upgrade` is the readiness probe: it fails (exit 1) until the database accepts
# connections, and once it succeeds the schema is current, so the two steps are one. Exit 2 means
# the configuration itself is wrong, which waiting cannot fix. Replicas starting together all run
# it: it migrates under a PostgreSQL advisory lock, so one migrates and the others wait for it,
# then find the schema current.
#
#   DATABASE_URL       the database (required; postgresql://user:password@host/name)
#   PORT               port to listen on (default 8000)
#   WORKERS            worker processes (default 4)
#   DB_WAIT_ATTEMPTS   tries of `grader db upgrade`, 2 s apart, before giving up (default 30)
set -eu

: "${DATABASE_URL:?DATABASE_URL must name the database, e.g. postgresql://grader:secret@postgres/grader}"
PORT="${PORT:-8000}"
WORKERS="${WORKERS:-4}"
DB_WAIT_ATTEMPTS="${DB_WAIT_ATTEMPTS:-30}"

attempt=1
while :; do
    status=0
    grader db upgrade || status=$?
    [ "$status" -eq 0 ] && break
    if [ "$status" -eq 2 ]; then
        echo "entrypoint: invalid configuration (see above); not retrying" >&2
        exit 2
    fi
    if [ "$attempt" -ge "$DB_WAIT_ATTEMPTS" ]; then
        echo "entrypoint: the database could not be reached or migrated after $attempt attempts; giving up" >&2
        exit 1
    fi
    echo "entrypoint: database not ready (attempt $attempt of $DB_WAIT_ATTEMPTS); retrying in 2 s" >&2
    attempt=$((attempt + 1))
    sleep 2
done

exec grader serve --host 0.0.0.0 --port "$PORT" --workers "$WORKERS"

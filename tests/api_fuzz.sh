#!/usr/bin/env bash
# Property-based check of the whole API with schemathesis, against a live server on a small
# demo database: every operation of /api/schema/ is called with generated parameters and
# bodies, authenticated as a steward, and must answer without a server error and with a
# response that matches the schema. Run by tests/api/test_schema_fuzz.py (so by `make test`); loopback only, bounded, stops itself.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
unset REQUIRE_SERVICES
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3" CELERY_BROKER_URL="" DEBUG=1 \
  SECRET_KEY="${SECRET_KEY:-fuzz-only-key-not-for-production}"
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py seed_demo --firms 60 --seed 3 >/dev/null
.venv/bin/python manage.py create_demo_users >/dev/null
.venv/bin/python manage.py recompute_progress >/dev/null
token=$(.venv/bin/python manage.py create_api_token steward)
.venv/bin/python manage.py runserver "127.0.0.1:$port" --noreload >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/api/schema/" && break
  sleep 0.2
done
timeout 900 .venv/bin/schemathesis run "http://127.0.0.1:$port/api/schema/" \
  --header "Authorization: Token $token" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "${FUZZ_EXAMPLES:-10}" --workers 1 --generation-deterministic

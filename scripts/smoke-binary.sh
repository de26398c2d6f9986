#!/usr/bin/env bash
# Smoke test of the built single binary (dist/shop), run by .ci/run after `npm run build`.
# The binary is what ships, and some faults exist only there (migrations not embedded, a dependency that
# cannot be bundled), so it is started for real against the local PostgreSQL and RabbitMQ, as it ships:
# NODE_ENV unset, which means production.
#   1. without AUTH_SECRET it refuses to start (exit 2, naming AUTH_SECRET): the built-in secret is development-only,
#      and a .env in its working directory saying otherwise is not read
#   2. `shop migrate` into a throwaway database (from here on with a secret of its own)
#   3. `shop token` prints a JWT
#   4. `shop serve` answers /health/live and /health/ready (200), GET /orders with that token (200),
#      and has not put the demo catalog into the empty database (GET /products is empty)
#      and `shop health` (the container health check) exits 0 beside it
#   5. SIGTERM stops it cleanly (exit 0)
# The database and the broker objects under the throwaway AMQP_PREFIX are removed afterwards.
#
# Usage: scripts/smoke-binary.sh [path/to/shop]
# Env:   PGHOST_URL (default postgres://postgres@127.0.0.1:5432), AMQP_URL (default amqp://guest:guest@127.0.0.1:5672)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=${1:-dist/shop}
[[ -x "$BIN" ]] || { echo "smoke: $BIN not found or not executable (run npm run build)" >&2; exit 1; }
BIN=$(realpath "$BIN")

ID="$(date +%s)_${RANDOM}"
PG_SERVER=${PGHOST_URL:-postgres://postgres@127.0.0.1:5432}
DB="shop_ci_smoke_${ID}"
export DATABASE_URL="${PG_SERVER}/${DB}"
export AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}
export AMQP_PREFIX="ci-smoke-${ID}."
export LOG_LEVEL=${LOG_LEVEL:-info}
unset NODE_ENV AUTH_SECRET SMTP_URL MODULES # the binary's own defaults
SMOKE_AUTH_SECRET="smoke-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"

WORK=$(mktemp -d)
SERVER_PID=""

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    # Nothing answering on it (the connect fails) → free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then echo "$port"; return 0; fi
  done
  echo "smoke: no free port found" >&2
  return 1
}

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  psql "${PG_SERVER}/postgres" -q -v ON_ERROR_STOP=1 \
    -c "drop database if exists \"${DB}\" with (force)" >/dev/null 2>&1 ||
    echo "smoke: could not drop database ${DB}" >&2
  delete_broker_objects || echo "smoke: could not delete broker objects under ${AMQP_PREFIX}" >&2
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

# Queues and exchanges the server declared under our prefix (rabbitmqctl lists them; amqp-client deletes them).
delete_broker_objects() {
  command -v rabbitmqctl >/dev/null || return 0
  local queues exchanges
  queues=$(rabbitmqctl -q list_queues name --no-table-headers 2>/dev/null | grep -F "$AMQP_PREFIX" || true)
  exchanges=$(rabbitmqctl -q list_exchanges name --no-table-headers 2>/dev/null | grep -F "$AMQP_PREFIX" || true)
  [[ -z "$queues$exchanges" ]] && return 0
  cd "$ROOT" # bun -e resolves @cloudamqp/amqp-client from the checkout
  QUEUES="$queues" EXCHANGES="$exchanges" timeout 30 ./node_modules/.bin/bun -e '
    import { AMQPClient } from "@cloudamqp/amqp-client";
    const client = new AMQPClient(process.env.AMQP_URL!);
    await client.connect();
    const names = (v?: string) => (v ?? "").split("\n").map((s) => s.trim()).filter(Boolean);
    for (const q of names(process.env.QUEUES)) { const ch = await client.channel(); await ch.queueDelete(q).catch(() => {}); }
    for (const e of names(process.env.EXCHANGES)) { const ch = await client.channel(); await ch.exchangeDelete(e).catch(() => {}); }
    await client.close();
  ' >/dev/null
}

fail() {
  echo "smoke: FAILED — $*" >&2
  if [[ -f "$WORK/serve.log" ]]; then
    echo "---- last lines of shop serve output ----" >&2
    tail -n 60 "$WORK/serve.log" >&2
  fi
  exit 1
}

echo "smoke: binary $BIN ($(du -h "$BIN" | cut -f1)), database ${DB}, prefix ${AMQP_PREFIX}"

# Run from an empty directory: the binary must not need the checkout (drizzle/, node_modules, bunfig.toml).
# Empty but for a .env the binary must ignore (it would make the built-in secret acceptable).
cd "$WORK"
echo "NODE_ENV=development" >"$WORK/.env"

echo "smoke: shop serve without NODE_ENV and AUTH_SECRET (must refuse)"
refused=0
PORT=0 timeout 30 "$BIN" serve >"$WORK/refused.log" 2>&1 || refused=$? # PORT=0: should it start after all, it takes no one's port
[[ "$refused" == "2" ]] || fail "shop serve without AUTH_SECRET exited with ${refused}, expected 2: $(head -c 500 "$WORK/refused.log")"
grep -q "AUTH_SECRET: .*NODE_ENV is unset" "$WORK/refused.log" ||
  fail "shop serve without AUTH_SECRET did not say why: $(head -c 500 "$WORK/refused.log")"
echo "smoke: refused (exit 2, AUTH_SECRET named)"
export AUTH_SECRET=$SMOKE_AUTH_SECRET

echo "smoke: shop migrate"
timeout 60 "$BIN" migrate || fail "shop migrate exited with $?"
echo "smoke: shop migrate (again: nothing to do)"
timeout 60 "$BIN" migrate || fail "second shop migrate exited with $?"

echo "smoke: shop token"
TOKEN_OUT=$(timeout 30 "$BIN" token --sub ci --email ci@example.com) || fail "shop token exited with $?"
TOKEN=$(grep -Eo '[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+' <<<"$TOKEN_OUT" | head -n 1 || true)
[[ -n "$TOKEN" ]] || fail "shop token printed no JWT: ${TOKEN_OUT}"

PORT=$(free_port)
export PORT
echo "smoke: shop serve on port ${PORT}"
"$BIN" serve >"$WORK/serve.log" 2>&1 &
SERVER_PID=$!

BASE="http://127.0.0.1:${PORT}"
ready=""
for _ in $(seq 1 120); do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "shop serve exited before it was ready"
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${BASE}/health/ready" || true)
  if [[ "$code" == "200" ]]; then ready=yes; break; fi
  sleep 0.5
done
[[ -n "$ready" ]] || fail "GET /health/ready did not answer 200 within 60 s (last: ${code:-none})"
echo "smoke: GET /health/ready → 200"
timeout 10 "$BIN" health >"$WORK/health.json" || fail "shop health exited with $? beside a ready shop: $(head -c 500 "$WORK/health.json")"
echo "smoke: shop health → 0"

expect() { # expect <status> <path> [curl args...]
  local want=$1 path=$2 got
  shift 2
  got=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$@" "${BASE}${path}" || true)
  [[ "$got" == "$want" ]] || fail "GET ${path} answered ${got}, expected ${want}: $(head -c 500 "$WORK/body" 2>/dev/null)"
  echo "smoke: GET ${path} → ${got}"
}
expect 200 /health/live
expect 200 /orders -H "Authorization: Bearer ${TOKEN}"
expect 401 /orders
expect 200 /products
grep -q '"items":\[\]' "$WORK/body" || fail "GET /products is not empty: the demo catalog was seeded without NODE_ENV=development: $(head -c 300 "$WORK/body")"
echo "smoke: no demo catalog"

echo "smoke: SIGTERM"
kill -TERM "$SERVER_PID"
if ! timeout 30 tail --pid="$SERVER_PID" -f /dev/null; then
  fail "shop serve still running 30 s after SIGTERM"
fi
status=0
wait "$SERVER_PID" || status=$?
SERVER_PID=""
[[ "$status" == "0" ]] || fail "shop serve exited with ${status} after SIGTERM (expected 0)"
echo "smoke: shop serve stopped cleanly (exit 0)"
echo "smoke: OK"

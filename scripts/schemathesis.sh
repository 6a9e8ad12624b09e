#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against /openapi.yaml of a live `hashcart serve`, once per kind of
# caller (operator, merchant, cardholder, sandbox account, anonymous), with every check and phase, and fails on
# anything schemathesis finds. Bounded: 20 examples per operation, 300 s per run. The server sends no
# webhooks (schemathesis invents endpoint URLs; nothing may leave this machine).
#
#   scripts/schemathesis.sh [path/to/hashcart]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/debug/hashcart}
python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check schemathesis
# schemathesis' CLI, without relying on its `st` script being on PATH (pyenv shims may be stale).
ST=(python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = "st"; sys.exit(schemathesis())')
PORT=$((20000 + RANDOM % 20000))
DATA=$(mktemp -d /tmp/hashcart-schemathesis-XXXXXX)
ADMIN_TOKEN="schemathesis-admin-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
HASHCART_ADMIN_TOKEN=$ADMIN_TOKEN "$BIN" serve --data "$DATA" --port "$PORT" --min-link-age 0 --rate-limit 100000 --auth-failures 100000 --no-webhook-delivery > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT
H=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$H/healthz" >/dev/null && break; sleep 0.1; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
ADMIN="Authorization: Bearer $ADMIN_TOKEN"
MERCHANT=$(curl -sf -X POST "$H/v1/merchants" -H "$ADMIN" -d '{"name":"Schemathesis"}' | json id)
KEY=$(curl -sf -X POST "$H/v1/merchants/$MERCHANT/api_keys" -H "$ADMIN" | json secret)
CARD=$(curl -sf -X POST "$H/v1/cardholders" -H "$ADMIN" -d '{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}' | json id)
TOKEN=$(curl -sf -X POST "$H/v1/cardholders/$CARD/tokens" -H "$ADMIN" | json secret)
SANDBOX=$(curl -sf -X POST "$H/sandbox/accounts" -H "$ADMIN" -d '{"handle":"schemathesis"}' | json token)
# Every check, every phase (examples, coverage, fuzzing, stateful). The hooks give each generated
# request an Idempotency-Key of its own (scripts/schemathesis_hooks.py says why).
CHECKS=all
export PYTHONPATH="$PWD/scripts${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
status=0
# Credentials go through schemathesis' OpenAPI-aware auth (one security scheme per run), so its
# checks know which header is the credential (and can leave it out on purpose).
for who in "operator:admin:$ADMIN_TOKEN" "merchant:merchant:$KEY" "cardholder:cardholder:$TOKEN" "sandbox:sandbox:$SANDBOX" "anonymous::"; do
  name=${who%%:*}; rest=${who#*:}; scheme=${rest%%:*}; secret=${rest#*:}
  echo "schemathesis: as $name"
  config="$DATA/st-$name.toml"
  cp scripts/schemathesis.toml "$config"
  [ -n "$scheme" ] && printf '\n[auth.openapi.%s]\nbearer = "%s"\n' "$scheme" "$secret" >> "$config"
  args=(--config-file "$config" run "$H/openapi.yaml" --checks "$CHECKS" --max-examples 20 --seed 2013)
  if ! timeout 300 "${ST[@]}" "${args[@]}" > "$DATA/st-$name.log" 2>&1; then
    status=1
    sed -n '/FAILURES/,/SUMMARY/p' "$DATA/st-$name.log" | head -150
  else
    grep -E "^Test cases:|generated" "$DATA/st-$name.log" | tail -1
  fi
done
if ! kill -0 $SERVER 2>/dev/null; then echo "schemathesis: hashcart serve died"; tail -20 "$DATA/serve.log"; status=1; fi
exit $status

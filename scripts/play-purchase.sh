#!/usr/bin/env bash
# Plays one purchase against a running `hashcart serve` with curl, as the README describes:
# operator creates a merchant (and its API key) and a cardholder (and a token); the merchant
# creates an offer; the cardholder links a sandbox account by posting a code, posts the hashtag,
# and reposts the confirmation reply. Needs curl and python3 (to read JSON).
#
#   HASHCART_ADMIN_TOKEN=... swift run hashcart serve --min-link-age 0   # in one terminal
#   HASHCART_ADMIN_TOKEN=... scripts/play-purchase.sh                    # in another
set -euo pipefail
H=${HASHCART_URL:-http://127.0.0.1:8080}
: "${HASHCART_ADMIN_TOKEN:?set HASHCART_ADMIN_TOKEN to the token hashcart serve uses}"
ADMIN="Authorization: Bearer $HASHCART_ADMIN_TOKEN"
MERCHANT=$(curl -s -X POST $H/v1/merchants -H "$ADMIN" -d '{"name":"Gadgets Inc"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
KEY=$(curl -s -X POST $H/v1/merchants/$MERCHANT/api_keys -H "$ADMIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
curl -s -X POST $H/v1/offers -H "Authorization: Bearer $KEY" -d '{"title":"Kindle Fire HD","sku":"KFHD-7","price":14999,"hashtag":"#BuyKindleFireHD","quantity":500}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["announcement"])'
CARD=$(curl -s -X POST $H/v1/cardholders -H "$ADMIN" -d '{"credit_limit":500000,"billing_name":"Ada Lovelace","address":{"line1":"65 Broadway","city":"New York","state":"NY","postal_code":"10006"},"card_last4":"4242"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
TOKEN=$(curl -s -X POST $H/v1/cardholders/$CARD/tokens -H "$ADMIN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
CODE=$(curl -s -X POST $H/v1/links -H "Authorization: Bearer $TOKEN" -d '{"network":"sandbox"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
# The operator (test mode) makes alice's sandbox account; its token, shown once, is how alice acts.
read -r ALICE ALICE_TOKEN < <(curl -s -X POST $H/sandbox/accounts -H "$ADMIN" -d '{"handle":"alice"}' | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["id"], a["token"])')
AS_ALICE="Authorization: Bearer $ALICE_TOKEN"
curl -s -X POST $H/sandbox/posts -H "$AS_ALICE" -d "{\"author_id\":\"$ALICE\",\"text\":\"Linking my card $CODE\"}" > /dev/null
sleep 1  # the engine polls the sandbox every 50 ms
curl -s $H/v1/links -H "Authorization: Bearer $TOKEN"; echo
POST=$(curl -s -X POST $H/sandbox/posts -H "$AS_ALICE" -d "{\"author_id\":\"$ALICE\",\"text\":\"I want it #BuyKindleFireHD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
sleep 1
REPLY=$(curl -s "$H/sandbox/posts?in_reply_to=$POST" -H "$AS_ALICE" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(d["text"], file=sys.stderr); print(d["id"])')
curl -s -X POST $H/sandbox/posts/$REPLY/reposts -H "$AS_ALICE" -d "{\"author_id\":\"$ALICE\"}" > /dev/null
sleep 1
curl -s "$H/sandbox/posts?in_reply_to=$POST" -H "$AS_ALICE" | python3 -c 'import json,sys; [print(p["text"]) for p in json.load(sys.stdin)["data"]]'
curl -s $H/v1/purchases -H "Authorization: Bearer $TOKEN"; echo
curl -s $H/v1/ledger/check -H "$ADMIN"; echo

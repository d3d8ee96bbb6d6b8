#!/usr/bin/env bash
# libmicrohttpd's per-connection pool (server/http.c, HTTP_CONN_MEMORY) against
# what clients send: headers of a few KB pass, larger ones get 431, a body up
# to the 64 KiB limit reaches the handler, and connections stay alive (GET and
# a write with a body) so that a client is not reconnecting for each request.
source "$(dirname "$0")/lib.sh"
start_daemon --dns-server 127.0.0.1:9

curl -s -D "$T_DIR/login.h" -o "$T_DIR/login.json" -H 'Content-Type: application/json' \
  --data "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}" "$BASE/api/v1/session"
COOKIE=$(grep -i '^set-cookie:' "$T_DIR/login.h" | head -1 | sed 's/^[^:]*: *//; s/;.*//; s/\r//')
CSRF=$(jq -r .csrf_token "$T_DIR/login.json")
pad() { head -c "$1" /dev/zero | tr '\0' a; }

P4=$(pad 4000)
api GET /lines/1 -H "X-Pad: $P4"
check_status "4 KB of extra headers, digest" 200
check "4 KB of extra headers, session" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" -H "X-Pad: $P4" "$BASE/api/v1/lines/1")"
check "4 KB of extra headers, the page" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Pad: $P4" "$BASE/")"
check "12 KB of headers: 431" 431 \
  "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" -H "X-Pad: $(pad 12000)" "$BASE/api/v1/lines/1")"

# A body just under 64 KiB reaches the handler (422: the label is too long), over it 413.
python3 -c "import json; print(json.dumps({'label': 'x' * 65000}))" >"$T_DIR/big.json"
api PATCH '/lines/1?dns=skip' -H 'Content-Type: application/merge-patch+json' --data-binary @"$T_DIR/big.json"
check_status "a 65,000-byte body is read whole" 422
check_json "and judged by the handler" '.errors[0].field' label
head -c 70000 /dev/zero | tr '\0' ' ' >"$T_DIR/huge.json"
api PATCH '/lines/1?dns=skip' -H 'Content-Type: application/merge-patch+json' --data-binary @"$T_DIR/huge.json"
check_status "a 70,000-byte body: 413" 413

# Keep-alive: the second request of one curl reuses the first's connection.
out=$(curl -s -o /dev/null -o /dev/null -D "$T_DIR/ka.h" -w '%{http_code} %{num_connects}\n' \
  -H "Cookie: $COOKIE" "$BASE/api/v1/lines/1" "$BASE/api/v1/lines/2" | tr '\n' ' ')
check "two GETs on one connection" "200 1 200 0 " "$out"
check "no Connection: close on a GET" 0 "$(grep -ci '^connection: *close' "$T_DIR/ka.h")"
# The second answer reuses the first's libmicrohttpd response (server/http.c,
# "answers kept whole"): the same headers, security headers included.
curl -s -o /dev/null -D "$T_DIR/g1.h" -H "Cookie: $COOKIE" "$BASE/api/v1/lines/1"
curl -s -o /dev/null -D "$T_DIR/g2.h" -H "Cookie: $COOKIE" "$BASE/api/v1/lines/1"
check "a repeated GET: the same headers" "" "$(diff <(grep -vi '^date:' "$T_DIR/g1.h") <(grep -vi '^date:' "$T_DIR/g2.h"))"
check "a repeated GET: CSP, nosniff, no-store" 3 \
  "$(grep -ciE '^(content-security-policy|x-content-type-options: nosniff|cache-control: no-store)' "$T_DIR/g2.h")"
api PATCH '/lines/1?dns=skip' -H 'Content-Type: application/merge-patch+json' --data '{"label":"changed"}'
check "a repeated GET after a change: the new label" changed \
  "$(curl -s -H "Cookie: $COOKIE" "$BASE/api/v1/lines/1" | jq -r .label)"
out=$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\n' -X PATCH \
  -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/merge-patch+json' \
  --data '{"label":"ka"}' "$BASE/api/v1/lines/3?dns=skip" "$BASE/api/v1/lines/4?dns=skip" | tr '\n' ' ')
check "two PATCHes on one connection" "200 1 200 0 " "$out"

t_done

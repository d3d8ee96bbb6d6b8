#!/usr/bin/env bash
# The attacks of issue 7, replayed against a real sipcfgd on loopback from
# many source addresses (127.x.y.z): digest replay, query parameters the
# server does not understand, the login rate limit with many addresses,
# slowloris, log flooding, 128 busy keep-alive clients at once. The requests
# are made by tests/integration/lib_attack.py; each scenario is bounded in time. docs/SECURITY.md names these checks.
. "$(dirname "$0")/lib.sh"

# attack SCENARIO: runs one scenario of lib_attack.py, counts its ok/not ok lines.
attack() {
  local out
  out=$(timeout -k 5 120 python3 "$(dirname "$0")/lib_attack.py" "$1" 127.0.0.1 "$PORT" "$ADMIN_PASS" 2>&1)
  printf '%s\n' "$out"
  T_PASS=$((T_PASS + $(grep -c '^ok - ' <<<"$out")))
  T_FAIL=$((T_FAIL + $(grep -c '^not ok - ' <<<"$out")))
  grep -q '^ok - \|^not ok - ' <<<"$out" || fail "scenario $1 ran" "$out"
}

start_daemon || { fail "daemon starts"; t_done; exit 1; }

# ---- 128 busy keep-alive clients, a full batch of libmicrohttpd's epoll: all served ----
attack busy

# ---- 1. a captured digest header can never be used twice ----
attack digest

# ---- 1b. a replayed header is a stale nonce: never served, never a lockout ----
attack replay

# ---- 2. no number of addresses buys more password checks; a right digest clears failures ----
attack ratelimit

# ---- 3. slowloris from four addresses: the admin is served, slow requests meet a deadline ----
attack slowloris

# ---- the guard's 408 never follows bytes libmicrohttpd sent (100 Continue) ----
attack guardwrite

# ---- slow readers: bounded kernel memory, and the admin is still served ----
attack slowread

# ---- 4. a query parameter the route does not define, or one given twice: 400, nothing written ----
json_api PUT '/lines/1?dns=skip' '{"label":"Keep me","user":"1001","proxy":"192.0.2.10"}'
check_status "line 1 is set up" 200
api GET /status; gen0=$(jq -r .store.generation <<<"$BODY")
api GET /config; cfg0=$BODY
wipe='{"format":1,"lines":[]}'
for q in 'dryrun=true' 'dry-run=true' 'DRY_RUN=true' 'dry_run=true&dryrun=true' 'dns=skip&dns=require'          'dry_run=true&dry_run=false' 'dns=skip&x' 'dry%5frun=true' 'dry_run=true%00' 'dns=skip%zz'; do
  json_api PUT "/config?$q" "$wipe"
  check "PUT /config?$q -> 400" 400 "$STATUS"
  check "... problem+json" "application/problem+json" "$(header Content-Type)"
done
json_api PUT '/config?dryrun=true' "$wipe"
check_json "the 400 names the unknown parameter" '.parameter' dryrun
json_api PUT '/config?dns=skip&dns=require' "$wipe"
check_json "the 400 names the repeated parameter" '.parameter' dns
api GET /status
check "none of them wrote to flash" "$gen0" "$(jq -r .store.generation <<<"$BODY")"
api GET /config
check "the configuration is unchanged" "$cfg0" "$BODY"
for r in "PATCH /lines/1?dsn=skip" "PUT /lines/1?dns=skip&dry_run=true" "DELETE /lines/1?force=1"          "DELETE /lines/1?dns=skip&dns=skip" "POST /resolve?dns=skip" "PUT /admin/password?x=1"; do
  json_api "${r%% *}" "${r#* }" '{"label":"Changed"}'
  check "${r} -> 400" 400 "$STATUS"
done
for r in "GET /lines?foo=1" "GET /status?x" "GET /lines/1?dns=skip" "GET /config?dry_run=true"; do
  api "${r%% *}" "${r#* }"
  check "${r} -> 400" 400 "$STATUS"
done
api GET /lines/1
check_json "line 1 was never changed" '.label' "Keep me"
json_api PUT '/config?dry_run&dns=skip' "$wipe"
check "?dry_run without a value is a dry run" "200 true" "$STATUS $(jq -r .dry_run <<<"$BODY")"
json_api PATCH '/lines/1?dns=sk%69p' '{"label":"Escaped"}'
check "a percent-encoded value is decoded (dns=sk%69p)" 200 "$STATUS"
api DELETE '/lines/6?dns=skip'
check "DELETE takes dns (a write with a DNS policy)" 200 "$STATUS"
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/api/v1/session?next=/" -H 'Content-Type: application/json'      --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"admin",password:$p}')")
check "POST /session?next=/ -> 400" 400 "$st"

# ---- request framing: NUL bytes, repeated headers, transfer codings, a long chunked body ----
attack framing

api GET /status; active=$(jq -r .store.active_bank <<<"$BODY"); gen=$(jq -r .store.generation <<<"$BODY")

# ---- 5. anyone can make libmicrohttpd log: it is rate-limited and summarised ----
before=$(wc -l <"$T_DIR/sipcfgd.log")
attack logflood
stop_daemon
added=$(( $(wc -l <"$T_DIR/sipcfgd.log") - before ))
[ "$added" -le 60 ] && ok "the flood added $added log lines (at most 60)" \
  || fail "the flood added at most 60 log lines" "$added: $(tail -3 "$T_DIR/sipcfgd.log")"
sup=$(sed -n 's/^sipcfgd: libmicrohttpd: \([0-9]*\) similar messages suppressed.*/\1/p' "$T_DIR/sipcfgd.log" |
      awk '{s += $1} END {print s + 0}')
[ "$sup" -ge 100 ] && ok "the log says how many were suppressed ($sup)" \
  || fail "the log says how many similar messages were suppressed" "$sup"

# ---- a bit flip in the active bank: the store falls back a generation, and says so ----
python3 - "$FLASH" "$active" <<'PY'
import sys
p, bank = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
b[bank * 64 * 4096 // 2 + 40] ^= 0x04          # one bit of the active bank's payload
open(p, 'wb').write(b)
PY
mv "$T_DIR/sipcfgd.log" "$T_DIR/sipcfgd.1.log"
start_daemon || fail "restart after the bit flip"
api GET /status
check_json "after a bit flip /status names the damaged bank" '.store.damaged_bank' "$active"
check_json "... says it rolled back" '.store.rolled_back' true
check_json "... to the previous generation" '.store.generation' "$((gen - 1))"
grep -q "WARNING: .*bank $active .*damaged.*ROLLED BACK" "$T_DIR/sipcfgd.log" \
  && ok "the daemon logs the rollback" || fail "the daemon logs the rollback" "$(cat "$T_DIR/sipcfgd.log")"
"$SIPCFG" --flash "$FLASH" info >"$T_DIR/info" 2>&1
grep -q "ROLLED BACK" "$T_DIR/info" && ok "sipcfg info says so" || fail "sipcfg info says so" "$(cat "$T_DIR/info")"
stop_daemon
cat "$T_DIR/sipcfgd.1.log" >>"$T_DIR/sipcfgd.log"

if grep -q 'Sanitizer\|runtime error' "$T_DIR/sipcfgd.log"; then
  fail "no sanitizer report" "$(grep -m3 'Sanitizer\|runtime error' "$T_DIR/sipcfgd.log")"
else ok "no sanitizer report"; fi
t_done

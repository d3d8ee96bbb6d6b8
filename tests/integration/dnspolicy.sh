#!/usr/bin/env bash
# DNS policy of writes against DNS servers that answer and one that never does:
# a hanging check must not hold up other requests, the last good resolution
# survives a failed check, concurrent writes get 409, and a flash failure is
# 507 with flash and RAM unchanged.
. "$(dirname "$0")/lib.sh"

start_dnsmasq --host-record=pbx.example.test,127.0.0.20 --host-record=pbx2.example.test,127.0.0.21 \
  || { fail "dnsmasq starts"; t_done; exit 1; }
T_CALL_LOG="$T_DIR/calls"
: >"$T_CALL_LOG"
T_RESP_LOG="$T_DIR/responses"
: >"$T_RESP_LOG"
cli() { "$SIPCFG" --flash "$FLASH" "$@"; }
now_ms() { date +%s%3N; }

# ---- a resolution stored while DNS works
start_daemon --dns-server "$DNS_SERVER" || { fail "sipcfgd starts"; t_done; exit 1; }
json_api PUT /lines/1 '{"enabled": true, "user": "1001", "proxy": "pbx.example.test"}'
check_status "PUT with working DNS" 200
case "$(cli get line1.proxy.resolved)" in
  *127.0.0.20*) ok "the resolution is in flash" ;;
  *) fail "the resolution is in flash" "$(cli get line1.proxy.resolved)" ;;
esac
stop_daemon

# ---- a DNS server that never answers: a UDP socket nobody reads
silent_dns SILENT || { fail "a silent DNS server starts"; t_done; exit 1; }
TIMEOUT_MS=3000
start_daemon --dns-server "$SILENT" --dns-timeout-ms "$TIMEOUT_MS" \
  || { fail "sipcfgd starts with a silent DNS server"; t_done; exit 1; }

# A PUT waits for DNS; a GET sent meanwhile is answered while the PUT still waits.
t0=$(now_ms)
( json_api PUT /lines/2 '{"proxy": "pbx.silent.test"}'
  now_ms >"$T_DIR/put.end"; printf '%s' "$STATUS" >"$T_DIR/put.status"
  printf '%s' "$BODY" >"$T_DIR/put.body" ) &
put_pid=$!
sleep 0.5
api GET /lines
get_end=$(now_ms)
check_status "GET /lines while a PUT waits for DNS" 200
wait "$put_pid"
put_end=$(cat "$T_DIR/put.end")
if [ "$get_end" -lt "$put_end" ]; then ok "the GET finished while the PUT was still waiting"
else fail "the GET finished while the PUT was still waiting" "GET at $get_end, PUT at $put_end"; fi
check "require: a silent DNS server refuses the write" 422 "$(cat "$T_DIR/put.status")"
BODY=$(cat "$T_DIR/put.body")
check_json "require: dns_timeout" '.errors[0].code' dns_timeout
check_json "require: the check says timeout" '.checks[0].status' timeout
# generous bound: the timeout arrives, not after c-ares' own minutes
if [ $((put_end - t0)) -lt $((TIMEOUT_MS * 4)) ]; then ok "the timeout arrives within a bound"
else fail "the timeout arrives within a bound" "$((put_end - t0)) ms"; fi

# ten checks at once against the silent server (THREATS H4): each times out,
# and a request sent meanwhile is answered before any of them
# (a session cookie, not digest: MHD 0.9.75 gives parallel digest clients of
# one URI the same nonce, which is the auth tests' business, not this one's)
login=$(curl -s -c "$T_DIR/cookies" -H 'Content-Type: application/json' \
  --data-binary "{\"username\": \"admin\", \"password\": \"$ADMIN_PASS\"}" "$BASE/api/v1/session")
csrf=$(printf '%s' "$login" | jq -r .csrf_token)
pids=()
t2=$(now_ms)
for i in $(seq 10); do
  ( out=$(curl -s -b "$T_DIR/cookies" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
          --data-binary "{\"server\": \"h$i.silent.test\"}" -w '\n%{http_code}' "$BASE/api/v1/resolve")
    printf '%s %s' "${out##*$'\n'}" "$(printf '%s' "${out%$'\n'*}" | jq -r .status)" >"$T_DIR/par.$i"
    now_ms >"$T_DIR/par.$i.end" ) &
  pids+=($!)
done
sleep 0.5
api GET /status
status_end=$(now_ms)
check_status "GET /status while ten checks wait" 200
wait "${pids[@]}"
first_end=$(cat "$T_DIR"/par.*.end | sort -n | head -1)
if [ "$status_end" -lt "$first_end" ]; then ok "GET /status answered before any waiting check"
else fail "GET /status answered before any waiting check" "status at $status_end, first check at $first_end"; fi
n_timeout=$(cat "$T_DIR"/par.? "$T_DIR"/par.10 | grep -o '200 timeout' | wc -l)
check "ten parallel checks each answer 200 timeout" 10 "$n_timeout"
last_end=$(cat "$T_DIR"/par.*.end | sort -n | tail -1)
if [ $((last_end - t2)) -lt $((TIMEOUT_MS * 4)) ]; then ok "parallel checks time out together, not one after another"
else fail "parallel checks time out together, not one after another" "$((last_end - t2)) ms"; fi

# warn with a timeout and the same server: stored, and the last good resolution stays
json_api PUT '/lines/1?dns=warn' '{"enabled": true, "user": "1001", "label": "renamed", "proxy": "pbx.example.test"}'
check_status "warn: stored while DNS is down" 200
check_json "warn: dns_timeout warning" '[.warnings[].code] | index("dns_timeout") != null' true
check "warn: the label is stored" "renamed" "$(cli get line1.label)"
case "$(cli get line1.proxy.resolved)" in
  *127.0.0.20*) ok "the last good resolution stays when the check fails" ;;
  *) fail "the last good resolution stays when the check fails" "$(cli get line1.proxy.resolved 2>&1)" ;;
esac

# skip answers at once, without lookups
t1=$(now_ms)
json_api PUT '/lines/3?dns=skip' '{"proxy": "pbx.silent.test"}'
check_status "skip: stored without waiting for DNS" 200
check_json "skip: the check says skipped" '[.checks[].status] | join(",")' skipped
if [ $(( $(now_ms) - t1 )) -lt "$TIMEOUT_MS" ]; then ok "skip does not wait for the DNS timeout"
else fail "skip does not wait for the DNS timeout"; fi

# 409: the line changes while a write waits for its checks
( json_api PUT '/lines/1?dns=warn' '{"user": "1001", "label": "slow", "proxy": "pbx.example.test"}'
  printf '%s' "$STATUS" >"$T_DIR/slow.status" ) &
slow_pid=$!
sleep 0.5
json_api PUT '/lines/1?dns=skip' '{"user": "1001", "label": "fast", "proxy": "pbx.example.test"}'
check_status "a write that needs no DNS goes through meanwhile" 200
wait "$slow_pid"
check "the write that waited finds the line changed: 409" 409 "$(cat "$T_DIR/slow.status")"
check "the first committed write stays" "fast" "$(cli get line1.label)"

# 409: the CLI commits while PUT /config waits for its checks
api GET /config
printf '%s' "$BODY" | jq '.lines[5].label = "from-cli"' >"$T_DIR/cli.json"
cfg=$(printf '%s' "$BODY" | jq -c '.lines[4].label = "from-api"')
( json_api PUT '/config?dns=warn' "$cfg"
  printf '%s' "$STATUS" >"$T_DIR/cfg.status" ) &
cfg_pid=$!
sleep 0.5
cli import "$T_DIR/cli.json" >/dev/null 2>&1 && ok "the CLI imports meanwhile" || fail "the CLI imports meanwhile"
wait "$cfg_pid"
check "PUT /config after a CLI commit is 409" 409 "$(cat "$T_DIR/cfg.status")"
api GET /lines/6
check_json "after 409 the daemon shows what the CLI stored" '.label' from-cli
api GET /lines/5
check_json "the refused config was not stored" '.label' ""

# warn, server changed, check failed: no stale resolution for the new server
json_api PUT '/lines/1?dns=warn' '{"user": "1001", "proxy": "pbx2.example.test"}'
check_status "warn: a new server while DNS is down" 200
if cli get line1.proxy.resolved >/dev/null 2>&1; then
  fail "the old server's resolution is not kept for a new server" "$(cli get line1.proxy.resolved)"
else ok "the old server's resolution is not kept for a new server"; fi
stop_daemon

# ---- 507: the flash fails during the commit
cp "$FLASH" "$T_DIR/cut.img"
touch "$T_DIR/cut.img.passwd-set"
FLASH="$T_DIR/cut.img"
gen_before=$(cli info | sed -n 's/^generation: \([0-9]*\).*/\1/p')
label_before=$(cli get line1.label 2>/dev/null)
SIPCFG_FLASH_CUT_AFTER=64 start_daemon --dns-server "$DNS_SERVER" \
  || { fail "sipcfgd starts on a flash that will fail"; t_done; exit 1; }
json_api PUT '/lines/1?dns=skip' '{"user": "1001", "label": "never-stored"}'
check_status "a flash failure is 507" 507
check "507 is problem+json" "application/problem+json" "$(header Content-Type | cut -d';' -f1)"
api GET /lines/1
check_json "507: RAM unchanged" '.label' "$label_before"
stop_daemon
check "507: flash generation unchanged" "$gen_before" "$(cli info | sed -n 's/^generation: \([0-9]*\).*/\1/p')"
check "507: flash still has the old line" "$label_before" "$(cli get line1.label 2>/dev/null)"
start_daemon --dns-server "$DNS_SERVER" || fail "sipcfgd restarts after the failure"
api GET /lines/1
check_json "after restart the old configuration is there" '.label' "$label_before"

api GET /openapi.json
printf '%s' "$BODY" >"$T_DIR/openapi.json"
check "every status seen (409, 412, 507, ...) is documented in openapi.yaml" "" \
  "$(openapi_undocumented "$T_DIR/openapi.json" "$T_CALL_LOG")"
check "every response (409, 412, 507, ...) conforms to openapi.yaml" "" \
  "$(openapi_invalid "$T_DIR/openapi.json" "$T_RESP_LOG")"

t_done

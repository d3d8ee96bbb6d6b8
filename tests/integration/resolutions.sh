#!/usr/bin/env bash
# GET /lines/{n}/resolutions: what the saves stored of each server's DNS
# (lineN.F.resolved), as curl sees it, against a real dnsmasq: the SRV
# targets of a server that resolved, "resolved": false for one stored with
# ?dns=warn or skip while it did not resolve, the last good targets kept when
# DNS is down at a later save, the query-parameter rule, auth, 404, and every
# answer held against openapi.yaml.
. "$(dirname "$0")/lib.sh"

start_dnsmasq --srv-host=_sip._udp.srv.example.test,sip1.example.test,5060,10,60 \
  --srv-host=_sip._udp.srv.example.test,sip2.example.test,5062,20,0 \
  --host-record=sip1.example.test,192.0.2.11 --host-record=sip2.example.test,192.0.2.12 \
  --host-record=pbx.example.test,192.0.2.20 \
  || { fail "dnsmasq starts"; t_done; exit 1; }
T_CALL_LOG="$T_DIR/calls"
: >"$T_CALL_LOG"
T_RESP_LOG="$T_DIR/responses"
: >"$T_RESP_LOG"
start_daemon --dns-server "$DNS_SERVER" --dns-timeout-ms 500 || { fail "sipcfgd starts"; t_done; exit 1; }

api GET /lines/1/resolutions
check_status "a line without servers" 200
check_json "a line without servers: nothing stored" '[.line, (.resolutions | length)] | @csv' '1,0'

json_api PUT /lines/1 '{"user": "1001", "proxy": "srv.example.test", "outbound_proxy": "pbx.example.test:5070;transport=tcp"}'
check_status "a save while DNS answers" 200
api GET /lines/1/resolutions
check_status "GET /lines/1/resolutions" 200
check_json "one item per set server, in field order" '[.resolutions[].field] | join(",")' 'proxy,outbound_proxy'
check_json "the proxy resolved when saved" '.resolutions[0].resolved' 'true'
check_json "its SRV targets as stored" \
  '[.resolutions[0].targets[] | "\(.priority) \(.weight) \(.host):\(.port)/\(.transport) \(.addresses | join(","))"] | join("; ")' \
  '10 60 sip1.example.test:5060/udp 192.0.2.11; 20 0 sip2.example.test:5062/udp 192.0.2.12'
check_json "the server as saved" '.resolutions[1].server | "\(.host) \(.port) \(.transport)"' 'pbx.example.test 5070 tcp'
check_json "the outbound proxy's address as stored" '.resolutions[1].targets[0].addresses[0]' '192.0.2.20'
stored=$("$SIPCFG" --flash "$FLASH" get line1.proxy.resolved)
case "$stored" in
  *sip1.example.test*192.0.2.11*sip2.example.test*192.0.2.12*) ok "the same targets are what flash holds" ;;
  *) fail "the same targets are what flash holds" "$stored" ;;
esac

# A server that does not resolve, stored anyway (?dns=warn), and one with no lookup at all (?dns=skip).
json_api PUT '/lines/2?dns=warn' '{"proxy": "nowhere.example.test", "backup_proxy": "192.0.2.99"}'
check_status "a save with a DNS warning" 200
api GET /lines/2/resolutions
check_json "the proxy did not resolve when saved" '.resolutions[0] | "\(.field) \(.resolved) \(.targets | length)"' 'proxy false 0'
check_json "an IP address needs no lookup: resolved" '.resolutions[1] | "\(.field) \(.resolved) \(.targets[0].addresses[0])"' \
  'backup_proxy true 192.0.2.99'
json_api PUT '/lines/3?dns=skip' '{"proxy": "pbx.example.test"}'
check_status "a save with ?dns=skip" 200
api GET /lines/3/resolutions
check_json "?dns=skip stores no resolution" '.resolutions[0].resolved' 'false'

# The rules every route follows.
api GET '/lines/1/resolutions?verbose=1'
check_status "an unknown query parameter is a 400" 400
check_json "the 400 names it" '.detail | test("verbose")' 'true'
api GET '/lines/7/resolutions'
check_status "no line 7 (6 lines)" 404
api GET '/lines/0/resolutions'
check_status "no line 0" 404
req GET /api/v1/lines/1/resolutions
check "no credentials: 401" 401 "$STATUS"
api POST /lines/1/resolutions -H 'Content-Type: application/json' --data-binary '{}'
check_status "read-only: POST is a 405" 405
check "the 405 says what is allowed" "GET, HEAD" "$(header Allow)"

# DNS down at a later save of the same servers: the last good targets stay.
kill "${T_PIDS[0]}"
wait "${T_PIDS[0]}" 2>/dev/null
json_api PATCH '/lines/1?dns=warn' '{"label": "Office"}'
check_status "a save while DNS is down (warn)" 200
check_json "it warns" '.warnings | length > 0' 'true'
api GET /lines/1/resolutions
check_json "the last good targets stay" '[.resolutions[] | .resolved] | join(",")' 'true,true'
check_json "... the same ones" '.resolutions[0].targets[0].addresses[0]' '192.0.2.11'

api GET /openapi.json
printf '%s' "$BODY" >"$T_DIR/openapi.json"
check "every status seen is documented in openapi.yaml" "" \
  "$(openapi_undocumented "$T_DIR/openapi.json" "$T_CALL_LOG")"
check "every response conforms to openapi.yaml" "" "$(openapi_invalid "$T_DIR/openapi.json" "$T_RESP_LOG")"
t_done

#!/usr/bin/env bash
# The REST API against the real daemon and a real dnsmasq: every endpoint of
# API.md section 3, its status codes and error bodies, and what lands in flash
# (read back with the sipcfg CLI, as the SIP core would).
. "$(dirname "$0")/lib.sh"

T_BODY_LOG="$T_DIR/bodies"
: >"$T_BODY_LOG"
T_CALL_LOG="$T_DIR/calls"
: >"$T_CALL_LOG"
T_RESP_LOG="$T_DIR/responses"
: >"$T_RESP_LOG"
SIP_PASS='Sip-Secret-4711'
SIP_PASS2='Other-Secret-0815'

start_dnsmasq \
  --srv-host=_sip._udp.example.test,sip1.example.test,5060,10,60 \
  --srv-host=_sip._udp.example.test,sip1b.example.test,5060,20,10 \
  --host-record=sip1.example.test,127.0.0.10 \
  --host-record=sip1b.example.test,127.0.0.11 \
  --host-record=pbx.example.test,127.0.0.20 \
  --host-record=backup.example.test,127.0.0.21 \
  --host-record=obp.example.test,127.0.0.22 \
  --host-record=reg.example.test,127.0.0.23 \
  --naptr-record=naptr.example.test,10,50,S,SIP+D2T,,_sip._tcp.naptr.example.test \
  --srv-host=_sip._tcp.naptr.example.test,sip2.example.test,5070,10,10 \
  --host-record=sip2.example.test,127.0.0.30 || { fail "dnsmasq starts"; t_done; exit 1; }

start_daemon --lines 6 --dns-server "$DNS_SERVER" --dns-timeout-ms 2000 \
  || { fail "sipcfgd starts"; t_done; exit 1; }

cli() { "$SIPCFG" --flash "$FLASH" "$@"; }
generation() { api GET /status; printf '%s' "$BODY" | jq -r '.store.generation'; }
erase_counts() { api GET /status; printf '%s' "$BODY" | jq -c '.store.erase_counts'; }

# ---------------------------------------------------------------- reads
api GET /lines
check_status "GET /lines" 200
check_json "GET /lines lists 6 lines" '.lines | length' 6
check_json "lines are numbered 1..6" '[.lines[].line] | join(",")' "1,2,3,4,5,6"
check_json "a factory line has no password" '.lines[0].password_set' false
check_json "a factory line has no proxy" '.lines[0].proxy' null
check "GET /lines is application/json" "application/json" "$(header Content-Type | cut -d';' -f1)"

api GET /lines/1
check_status "GET /lines/1" 200
check_json "GET /lines/1 is line 1" '.line' 1
etag1=$(header ETag)
case "$etag1" in \"*\") ok "GET /lines/1 has a strong ETag" ;; *) fail "GET /lines/1 has a strong ETag" "got '$etag1'" ;; esac
head_status=$(curl -s -I --digest -u "admin:$ADMIN_PASS" -o /dev/null -w '%{http_code}' "$BASE/api/v1/lines/1")
check "HEAD /lines/1 answers as GET" 200 "$head_status"

for p in /lines/0 /lines/7 /lines/abc /lines/01 /lines/ /nowhere /lines/1/nowhere; do
  api GET "$p"
  check_status "GET $p is 404" 404
done
api GET /lines/7
check "404 is problem+json" "application/problem+json" "$(header Content-Type | cut -d';' -f1)"
check_json "404 problem has status" '.status' 404
check_json "404 problem has type" '.type' "about:blank"

json_api POST /lines/1 '{}'
check_status "POST /lines/1 is 405" 405
allow=$(header Allow)
for m in GET HEAD PUT PATCH DELETE; do
  case ", $allow," in *", $m,"*) ok "Allow of /lines/1 lists $m" ;; *) fail "Allow of /lines/1 lists $m" "Allow: $allow" ;; esac
done
api DELETE /lines
check_status "DELETE /lines is 405" 405
check "Allow of /lines" "GET, HEAD" "$(header Allow)"
api GET /resolve
check_status "GET /resolve is 405" 405
check "Allow of /resolve" "POST" "$(header Allow)"

# ---------------------------------------------------------------- PUT with DNS (require)
gen0=$(generation)
json_api PUT /lines/1 "{\"enabled\": true, \"label\": \"Office\", \"user\": \"1001\",
  \"password\": \"$SIP_PASS\", \"proxy\": \"example.test\"}"
check_status "PUT /lines/1 with a resolving proxy" 200
check_json "PUT answers the line" '.line.proxy.host' "example.test"
check_json "PUT normalises the server string" '.line.proxy | "\(.port)/\(.transport)"' "null/auto"
check_json "PUT says changed" '.changed' true
check_json "PUT answers the check" '.checks[0].field + " " + .checks[0].status + " " + .checks[0].method' "proxy ok srv"
check_json "the check lists the SRV targets in order" '[.checks[0].targets[].host] | join(",")' "sip1.example.test,sip1b.example.test"
check_json "the check has the target's address" '.checks[0].targets[0].addresses[0]' "127.0.0.10"
check_json "password_set after PUT" '.line.password_set' true
check_json "warnings is a list" '.warnings | type' array
etag2=$(header ETag)
[ -n "$etag2" ] && [ "$etag2" != "$etag1" ] && ok "PUT answers a new ETag" || fail "PUT answers a new ETag" "$etag1 -> $etag2"
gen1=$(generation)
check "PUT committed one generation" "$((gen0 + 1))" "$gen1"
check "the CLI reads the proxy the API wrote" "example.test" "$(cli get line1.proxy.host)"
check "the CLI reads the user" "1001" "$(cli get line1.user)"
check "the CLI reads enabled as 1" "1" "$(cli get line1.enabled)"
resolved=$(cli get line1.proxy.resolved)
case "$resolved" in *127.0.0.10*) ok "the last good resolution is in flash" ;; *) fail "the last good resolution is in flash" "got '$resolved'" ;; esac

# identical PUT: no flash write
ec1=$(erase_counts)
json_api PUT /lines/1 "{\"enabled\": true, \"label\": \"Office\", \"user\": \"1001\",
  \"proxy\": {\"host\": \"example.test\"}}"
check_status "identical PUT (password absent = kept)" 200
etag_same=$(header ETag)
check_json "identical PUT says unchanged" '.changed' false
check_json "identical PUT keeps the password" '.line.password_set' true
check "identical PUT leaves the generation" "$gen1" "$(generation)"
check "identical PUT erases nothing" "$ec1" "$(erase_counts)"
check "identical PUT keeps the ETag" "$etag2" "$etag_same"

# many identical writes cost no erase (THREATS H5)
for _ in $(seq 20); do
  json_api PUT '/lines/1?dns=skip' '{"enabled": true, "label": "Office", "user": "1001", "proxy": "example.test"}'
done
check "20 identical PUTs erase nothing" "$ec1" "$(erase_counts)"
check "20 identical PUTs commit nothing" "$gen1" "$(generation)"

# ---------------------------------------------------------------- 400
json_api PUT /lines/1 '{"enabled": true,
  "label": tru}'
check_status "malformed JSON is 400" 400
check_json "400 says the line" '.line' 2
check_json "400 says the column" '.column | type' number
check_json "400 detail names line and column" '.detail | test("line 2, column [0-9]+")' true
json_api PUT /lines/1 '{"label": "a", "label": "b"}'
check_status "duplicate keys are 400" 400
check_json "duplicate keys detail" '.detail | test("duplicate")' true
json_api PUT /lines/1 '[1, 2]'
check_status "a top-level array is 400" 400
json_api PUT '/lines/1?dns=maybe' '{}'
check_status "an unknown DNS policy is 400" 400
check_json "400 names the parameter" '.parameter' dns
check "a refused request leaves the generation" "$gen1" "$(generation)"

# ---------------------------------------------------------------- 415, 413
api PUT /lines/1 -H 'Content-Type: text/plain' --data-binary '{"label": "x"}'
check_status "text/plain body is 415" 415
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
json_api PUT /lines/1 "{\"label\": \"$big\"}"
check_status "a body over 64 KiB is 413" 413

# ---------------------------------------------------------------- 422
json_api PUT /lines/1 '{"proxyy": "pbx.example.test"}'
check_status "an unknown key is 422" 422
check "422 is problem+json" "application/problem+json" "$(header Content-Type | cut -d';' -f1)"
check_json "422 title" '.title' "Validation failed"
check_json "unknown_field code" '.errors[0].code' unknown_field
check_json "unknown_field path" '.errors[0].field' proxyy
check_json "422 always has checks" '.checks' '[]'
json_api PUT /lines/1 '{"proxy": "pbx example.test"}'
check_status "a host with a space is 422" 422
check_json "invalid_host code" '.errors[0].code' invalid_host
check_json "invalid_host path" '.errors[0].field' proxy.host
check_json "invalid_host message says why" '.errors[0].message | test("space")' true
json_api PUT /lines/1 '{"register_expires": 5}'
check_status "register_expires 5 is 422" 422
check_json "register_expires path" '.errors[0].field' register_expires
json_api PUT /lines/1 '{"line": 2}'
check_status "a line member other than the line addressed is 422" 422
json_api PUT /lines/1 '{"proxy": "pbx.nowhere.test"}'
check_status "require: a proxy that does not exist is 422" 422
check_json "require: dns_nxdomain" '.errors[0].code' dns_nxdomain
check_json "require: at field proxy" '.errors[0].field' proxy
check_json "require: message names the host" '.errors[0].message' "'pbx.nowhere.test' does not exist in DNS (NXDOMAIN)"
check_json "require: checks carry the resolution" '.checks[0].status' nxdomain
check "require: nothing stored (generation)" "$gen1" "$(generation)"
check "require: nothing stored (CLI)" "example.test" "$(cli get line1.proxy.host)"
info_gen=$(cli info | sed -n 's/^generation: \([0-9]*\).*/\1/p')
check "require: flash generation unchanged (sipcfg info)" "$gen1" "$info_gen"

# ---------------------------------------------------------------- hostile input (THREATS A1-A3, B1, B5)
g_hostile=$(generation)
for v in 'sip.example.com;reboot' '$(id)' '`id`' 'a|b' 'a&&b' 'a\nb' 'a%0ab' '-oProxyCommand=x' \
         '--help' 'a b' 'a\tb' 'pbx.example.test\r\nline1.password=x' 'a=b' '\uff1bx' \
         ' pbx.example.test'; do
  json_api PUT '/lines/1?dns=skip' "{\"proxy\": \"$v\"}"
  check_status "proxy '$v' is refused" 422
done
json_api PUT '/lines/1?dns=skip' '{"label": "a\r\nline1.password=x"}'
check_status "a label with CR LF is refused" 422
json_api PUT '/lines/1?dns=skip' '{"label": "a\u0000b"}'
check_status "a NUL in a string is 400" 400
for p in 0 65536 -1 '"5060x"' 5060.0 99999999999999999999999; do
  json_api PUT '/lines/1?dns=skip' "{\"proxy\": {\"host\": \"pbx.example.test\", \"port\": $p}}"
  case "$STATUS" in 400|422) ok "port $p is refused ($STATUS)" ;; *) fail "port $p is refused" "HTTP $STATUS: $BODY" ;; esac
done
l64=$(printf 'x%.0s' $(seq 64)); l65=$(printf 'x%.0s' $(seq 65))
json_api PUT '/lines/1?dns=skip' "{\"label\": \"$l65\"}"
check_status "a 65-byte label is 422" 422
check_json "too_long code" '.errors[0].code' too_long
h254=$(printf 'a%.0s' $(seq 63)).$(printf 'b%.0s' $(seq 63)).$(printf 'c%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 62))
json_api PUT '/lines/1?dns=skip' "{\"proxy\": \"$h254\"}"
check_status "a 254-byte host is 422" 422
deep=$(printf '[%.0s' $(seq 5000))
json_api PUT /lines/1 "{\"label\": $deep"
check_status "JSON nested 5000 deep is 400" 400
json_api PUT /lines/1 '"just a string"'
check_status "a top-level string is 400" 400
json_api PUT /lines/1 '{"label": "a"} {"label": "b"}'
check_status "trailing garbage is 400" 400
api PUT /lines/1 -H 'Content-Type: application/json' --data-binary $'{"label": "\xff"}'
check_status "invalid UTF-8 is 400" 400
check "hostile input stored nothing" "$g_hostile" "$(generation)"
check "the label stays" "Office" "$(cli get line1.label)"
json_api PUT '/lines/1?dns=skip' "{\"enabled\": true, \"label\": \"$l64\", \"user\": \"1001\", \"proxy\": \"example.test\"}"
check_status "a 64-byte label is fine" 200
json_api PUT '/lines/1' '{"enabled": true, "label": "Office", "user": "1001", "proxy": "example.test"}'
check_status "back to the label Office" 200
etag2=$(header ETag)
gen1=$(generation)

# ---------------------------------------------------------------- If-Match
json_api PUT /lines/1 '{"label": "x"}' -H "If-Match: $etag1"
check_status "a stale If-Match is 412" 412
json_api PUT /lines/1 '{"label": "x"}' -H 'If-Match: garbage'
check_status "a malformed If-Match is 412" 412
json_api PUT /lines/1 '{"label": "x"}' -H "If-Match: W/$etag2"
check_status "a weak If-Match never matches" 412
check "412 stores nothing" "$gen1" "$(generation)"

# ---------------------------------------------------------------- PATCH
json_api PATCH /lines/1 '{"backup_proxy": "backup.example.test", "display_name": "Alice"}' \
  -H "If-Match: $etag2"
check_status "PATCH with the current If-Match" 200
check_json "PATCH keeps the proxy" '.line.proxy.host' example.test
check_json "PATCH adds the backup" '.line.backup_proxy.host' backup.example.test
check_json "PATCH sets display_name" '.line.display_name' Alice
check_json "PATCH keeps the label" '.line.label' Office
check_json "PATCH keeps the password" '.line.password_set' true
check_json "PATCH checks only set servers" '[.checks[].field] | sort | join(",")' "backup_proxy,proxy"
etag3=$(header ETag)
api PATCH '/lines/1?dns=warn' -H 'Content-Type: application/merge-patch+json' --data-binary '{"proxy": {"port": 5070}}'
check_status "PATCH as application/merge-patch+json" 200
check_json "PATCH merges into the server object" '.line.proxy | "\(.host):\(.port)"' "example.test:5070"
check_json "an explicit port skips SRV" '.checks[] | select(.field == "proxy") | .method' a
check_json "warn: a name without an address is a warning" '[.warnings[].code] | index("dns_no_records") != null' true
api PATCH /lines/1 -H 'Content-Type: application/merge-patch+json' --data-binary '{"backup_proxy": null, "proxy": {"port": null}}'
check_status "PATCH with null" 200
check_json "null removes a server" '.line.backup_proxy' null
check_json "null removes the port" '.line.proxy.port' null
check "the removed server is gone from flash" "" "$(cli get line1.backup_proxy.host 2>/dev/null)"
etag4=$(header ETag)
json_api PATCH /lines/1 "{\"password\": \"$SIP_PASS2\"}"
check_status "PATCH a password" 200
etag5=$(header ETag)
[ "$etag5" != "$etag4" ] && ok "a new password changes the ETag" || fail "a new password changes the ETag"
check_json "PATCH a password: changed" '.changed' true
json_api PATCH /lines/1 '{"nosuch": 1}'
check_status "PATCH with an unknown key is 422" 422
api PATCH /lines/1 -H 'Content-Type: text/plain' --data-binary '{}'
check_status "PATCH as text/plain is 415" 415

# ---------------------------------------------------------------- DNS policies
json_api PUT '/lines/2?dns=warn' '{"proxy": "pbx.nowhere.test", "user": "2002"}'
check_status "warn: stored despite NXDOMAIN" 200
check_json "warn: the DNS problem is a warning" '[.warnings[] | select(.code == "dns_nxdomain")] | .[0].field' proxy
check_json "warn: changed" '.changed' true
check "warn: the CLI reads it" "pbx.nowhere.test" "$(cli get line2.proxy.host)"
if cli get line2.proxy.resolved >/dev/null 2>&1; then fail "warn: no resolution stored for a failed check"; else ok "warn: no resolution stored for a failed check"; fi
api GET /status
q0=$(printf '%s' "$BODY" | jq -r '.dns.queries_sent')
json_api PUT '/lines/3?dns=skip' '{"proxy": "other.nowhere.test", "registrar": "sip:reg.nowhere.test;transport=tcp"}'
check_status "skip: stored without lookups" 200
check_json "skip: every server reported skipped" '[.checks[] | "\(.field) \(.status) \(.method)"] | join(",")' \
  "proxy skipped naptr,registrar skipped srv"
check_json "skip: registrar from a URI" '.line.registrar.transport' tcp
api GET /status
check "skip: no DNS query was sent" "$q0" "$(printf '%s' "$BODY" | jq -r '.dns.queries_sent')"
json_api PUT '/lines/3?dns=skip' '{"proxy": "bad host"}'
check_status "skip still checks syntax" 422

# ---------------------------------------------------------------- resolve
json_api POST /resolve '{"server": "example.test"}'
check_status "POST /resolve" 200
check_json "resolve: SRV" '.status + " " + .method' "ok srv"
check_json "resolve: no field" '.field // "none"' none
check_json "resolve: the server in object form" '.server.host' example.test
json_api POST /resolve '{"server": "naptr.example.test"}'
check_status "POST /resolve NAPTR" 200
check_json "resolve: NAPTR" '.method + " " + .targets[0].transport + " " + (.targets[0].port|tostring)' "naptr tcp 5070"
json_api POST /resolve '{"server": "pbx.example.test", "dns_srv": false}'
check_json "resolve: dns_srv false uses A" '.method + " " + .targets[0].addresses[0]' "a 127.0.0.20"
json_api POST /resolve '{"server": "192.0.2.7:5062"}'
check_json "resolve: an IP literal" '.method + " " + .status' "literal ok"
json_api POST /resolve '{"server": "pbx.nowhere.test"}'
check_status "resolve: NXDOMAIN is still 200" 200
check_json "resolve: nxdomain status" '.status' nxdomain
json_api POST /resolve '{"server": "pbx example.test"}'
check_status "resolve: a malformed server is 422" 422
check_json "resolve: at server.host" '.errors[0].field' server.host
json_api POST /resolve '{"server": "example.test", "srv": true}'
check_status "resolve: an unknown key is 422" 422
check_json "resolve: unknown_field" '.errors[0].code' unknown_field
json_api POST /resolve '{"dns_srv": true}'
check_status "resolve: no server is 422" 422

# ---------------------------------------------------------------- routing
json_api PUT /lines/4 '{"proxy": "pbx.example.test", "registrar": "reg.example.test",
  "outbound_proxy": "obp.example.test", "backup_proxy": "backup.example.test"}'
check_status "PUT line 4 with four servers" 200
api GET /lines/4/routing
check_status "GET /lines/4/routing" 200
check_json "REGISTER: outbound proxy, registrar, backup proxy" '[.register[] | .field + ":" + .role] | join(",")' \
  "outbound_proxy:primary,registrar:primary,backup_proxy:backup"
check_json "INVITE: outbound proxy, proxy, backup proxy" '[.invite[] | .field + ":" + .role] | join(",")' \
  "outbound_proxy:primary,proxy:primary,backup_proxy:backup"
check_json "hops carry resolutions" '.invite[1].resolution.targets[0].addresses[0]' 127.0.0.20
json_api POST /routing '{"proxy": "pbx.example.test"}'
check_status "POST /routing" 200
check_json "preview: REGISTER to the proxy when no registrar" '[.register[].field] | join(",")' proxy
check_json "preview: INVITE to the proxy" '[.invite[].field] | join(",")' proxy
json_api POST /routing '{"proxy": "pbx.example.test", "register": false}'
check_json "preview: no REGISTER when the line does not register" '.register' '[]'
json_api POST /routing '{"proxy": "pbx example"}'
check_status "preview of a malformed line is 422" 422
api GET /lines/9/routing
check_status "routing of line 9 is 404" 404

# ---------------------------------------------------------------- config
api GET /config
check_status "GET /config" 200
check_json "config format" '.format' 1
check_json "config lines" '.lines | length' 6
check_json "config has no password member" '[.. | objects | has("password")] | any' false
cfg=$(printf '%s' "$BODY" | jq -c '{format, lines}')
g=$(generation)
newcfg=$(printf '%s' "$cfg" | jq -c '.lines[4].label = "Provisioned" | .lines[4].proxy = "pbx.example.test"
  | .lines[1].proxy = null | .lines[2].proxy = null | .lines[2].registrar = null')
json_api PUT '/config?dry_run=true' "$newcfg"
check_status "PUT /config dry run" 200
check_json "dry run: would change" '.changed' true
check_json "dry run: checks every set server" '[.checks[].field] | index("lines[4].proxy") != null' true
check "dry run: nothing stored" "$g" "$(generation)"
api GET /lines/5
check_json "dry run: line 5 unchanged" '.label' ""
badcfg=$(printf '%s' "$newcfg" | jq -c '.lines[5].proxy = "pbx.nowhere.test"')
json_api PUT /config "$badcfg"
check_status "PUT /config with one unresolvable line is 422" 422
check_json "the error names the line" '.errors[0].field' "lines[5].proxy"
check "a refused config stores nothing" "$g" "$(generation)"
api GET /lines/5
check_json "atomic: line 5 not stored either" '.label' ""
json_api PUT /config "$newcfg"
check_status "PUT /config" 200
cfg_etag=$(header ETag)
check_json "PUT /config changed" '.changed' true
check "PUT /config is one commit" "$((g + 1))" "$(generation)"
check "PUT /config: the CLI reads line 5" "Provisioned" "$(cli get line5.label)"
check "PUT /config keeps passwords" "true" "$(api GET /lines/1; printf '%s' "$BODY" | jq -r .password_set)"
json_api PUT /config "$newcfg" -H 'If-Match: "0000000000000000"'
check_status "PUT /config with a stale If-Match is 412" 412
json_api PUT /config "$newcfg" -H "If-Match: $cfg_etag"
check_status "PUT /config with the current If-Match" 200
check_json "the same config again: unchanged" '.changed' false
json_api PUT '/config?dry_run=maybe' "$newcfg"
check_status "dry_run=maybe is 400" 400
json_api PUT /config '{"format": 1, "lines": [{"nosuch": 1}]}'
check_status "PUT /config with an unknown key is 422" 422
check_json "config error path" '[.errors[].field] | any(startswith("lines[0]"))' true

# ---------------------------------------------------------------- status, openapi
api GET /status
check_status "GET /status" 200
check_json "status version" '.version | type' string
check_json "status uptime" '.uptime_s | type' number
check_json "status generation" '.store.generation' "$(cli info | sed -n 's/^generation: \([0-9]*\).*/\1/p')"
check_json "status erase counts" '.store.erase_counts | length' 2
check_json "status active bank" '.store.active_bank | IN(0, 1)' true
check_json "status saved_at is ISO-8601 UTC" '.store.saved_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")' true

api GET /openapi.json
check_status "GET /openapi.json" 200
check_json "openapi parses" '.openapi | startswith("3.")' true
printf '%s' "$BODY" >"$T_DIR/openapi.json"
routes=$(sed -n 's/^ *{"\([A-Z]*\)", "\([^"]*\)",.*/\1 \2/p' "$SIPCFG_TOP/api/routes.c")
[ -n "$routes" ] && ok "the route table was read" || fail "the route table was read"
while read -r method path; do
  [ -n "$method" ] || continue
  m=$(printf '%s' "$method" | tr 'A-Z' 'a-z')
  has=$(jq --arg p "$path" --arg m "$m" '.paths[$p][$m] != null' "$T_DIR/openapi.json")
  check "openapi documents $method $path" true "$has"
done <<<"$routes"

# every status this script saw documented for its operation (the gate's
# 413/415 are documented once, in info.description)
undocumented=$(openapi_undocumented "$T_DIR/openapi.json" "$T_CALL_LOG")
check "every status seen is documented in openapi.yaml" "" "$undocumented"
# and every response conforms: status listed, content type, body schema
invalid=$(openapi_invalid "$T_DIR/openapi.json" "$T_RESP_LOG")
check "every response conforms to openapi.yaml" "" "$invalid"
n_calls=$(wc -l <"$T_CALL_LOG")
[ "$n_calls" -gt 100 ] && ok "the call log has the script's requests ($n_calls)" || fail "the call log has the script's requests" "$n_calls"

# ---------------------------------------------------------------- session (201, 204)
login=$(curl -s -c "$T_DIR/cookies" -H 'Content-Type: application/json' \
  --data-binary "{\"username\": \"admin\", \"password\": \"$ADMIN_PASS\"}" \
  -w '\n%{http_code}' "$BASE/api/v1/session")
check "POST /session is 201" 201 "${login##*$'\n'}"
csrf=$(printf '%s' "${login%$'\n'*}" | jq -r .csrf_token)
st=$(curl -s -b "$T_DIR/cookies" -X DELETE -H "X-CSRF-Token: $csrf" -o /dev/null -w '%{http_code}' \
  "$BASE/api/v1/session")
check "DELETE /session is 204" 204 "$st"

# ---------------------------------------------------------------- DELETE
json_api PUT '/lines/6?dns=skip' '{"label": "temp", "password": "x-temp-1"}'
check_status "PUT line 6" 200
etag6=$(header ETag)
api DELETE /lines/6 -H 'If-Match: "0000000000000000"'
check_status "DELETE with a stale If-Match is 412" 412
api DELETE /lines/6 -H "If-Match: \"0000000000000000\", $etag6"
check_status "DELETE with If-Match listing the current ETag" 200
check_json "DELETE resets the label" '.line.label' ""
check_json "DELETE clears the password" '.line.password_set' false
check_json "DELETE says changed" '.changed' true
check_json "DELETE has no checks" '.checks' '[]'
api DELETE /lines/6
check_status "DELETE /lines/6 again" 200
check_json "DELETE of a factory line: unchanged" '.changed' false
api DELETE /lines/5 -H 'If-Match: *'
check_status "DELETE /lines/5 with If-Match: *" 200
check_json "DELETE /lines/5 clears its proxy" '.line.proxy' null
api DELETE /lines/0
check_status "DELETE /lines/0 is 404" 404

# ---------------------------------------------------------------- restart keeps everything
api GET /config
before=$(printf '%s' "$BODY" | jq -S -c .)
api GET /lines/1
pw_before=$(printf '%s' "$BODY" | jq -r .password_set)
stop_daemon && ok "sipcfgd stops on SIGTERM" || fail "sipcfgd stops on SIGTERM"
if grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T_DIR/sipcfgd.log"; then
  fail "the daemon ran clean under ASan/UBSan" "$(head -30 "$T_DIR/sipcfgd.log")"
else ok "the daemon ran clean under ASan/UBSan"; fi
start_daemon --lines 6 --dns-server "$DNS_SERVER" || fail "sipcfgd restarts"
api GET /config
check "restart keeps the configuration" "$before" "$(printf '%s' "$BODY" | jq -S -c .)"
api GET /lines/1
check "restart keeps the password" "$pw_before" "$(printf '%s' "$BODY" | jq -r .password_set)"

# ---------------------------------------------------------------- password is write-only
for p in "$SIP_PASS" "$SIP_PASS2" "x-temp-1"; do
  if grep -qF -- "$p" "$T_BODY_LOG"; then fail "no response body contains a SIP password ($p)"
  else ok "no response body contains a SIP password"; fi
done
if cli export | grep -qF -- "$SIP_PASS2"; then fail "export has no password"; else ok "export has no password"; fi

t_done

#!/usr/bin/env bash
# Acceptance review of API.md sections 1, 2, 3 (/lines, /config) and 6, the way
# a client written from API.md alone would try them: the example objects sent
# verbatim, GET output sent back, every server string form, the text limits,
# ETag/If-Match, "changed", the DNS policy against a real dnsmasq, and the
# error statuses with their problem+json shapes.
. "$(dirname "$0")/lib.sh"

start_dnsmasq \
  --srv-host=_sip._udp.example.test,sip1.example.test,5060,10,60 \
  --host-record=sip1.example.test,127.0.0.10 \
  --host-record=pbx.example.test,127.0.0.20 \
  --host-record=example.com,127.0.0.40 \
  --local=/example.com/ || { fail "dnsmasq starts"; t_done; exit 1; }
start_daemon --lines 6 --dns-server "$DNS_SERVER" --dns-timeout-ms 1500 \
  || { fail "sipcfgd starts"; t_done; exit 1; }

cli() { "$SIPCFG" --flash "$FLASH" "$@"; }
generation() { cli info | sed -n 's/^generation: \([0-9]*\).*/\1/p'; }
ctype() { header Content-Type | cut -d';' -f1; }

# ---------------------------------------------------------------- section 2 example, verbatim
EXAMPLE='{
  "line": 1,
  "enabled": true,
  "label": "Office",
  "display_name": "Alice Example",
  "user": "1001",
  "auth_user": "1001",
  "password_set": true,
  "domain": "",
  "dns_srv": true,
  "register": true,
  "register_expires": 3600,
  "proxy": {"host": "example.com", "port": null, "transport": "auto"},
  "registrar": null,
  "outbound_proxy": null,
  "backup_proxy": null,
  "backup_registrar": null
}'
json_api PUT /lines/1 "$EXAMPLE"
check_status "API.md section 2 example as PUT /lines/1" 200
check_json "write answer has line, changed, checks, warnings" '[has("line"), has("changed"), has("checks"), has("warnings")] | all' true
check_json "password_set: true without a password is ignored" '.line.password_set' false
check_json "the example's proxy was checked" '[.checks[] | .field + ":" + .status] | join(",")' "proxy:ok"
check "the example stored its proxy" "example.com" "$(cli get line1.proxy.host)"
check "the proxy's resolution is stored" "0 0 5060 udp example.com 127.0.0.40" "$(cli get line1.proxy.resolved)"
put_etag=$(header ETag)
api GET /lines/1
check "PUT's ETag is GET's" "$put_etag" "$(header ETag)"
got=$BODY

# GET sent back as PUT: 200 changed false, no flash write
gen=$(generation)
json_api PUT /lines/1 "$got"
check_status "GET /lines/1 sent back as PUT" 200
check_json "GET sent back: changed false" '.changed' false
check "GET sent back: no flash write" "$gen" "$(generation)"
json_api PUT /lines/1 "$got" -H 'Content-Type: application/json; charset=utf-8'
check_status "application/json; charset=utf-8 is accepted" 200
json_api PUT /lines/1 '{"line": 2, "label": "x"}'
check_status "PUT with line 2 to /lines/1" 422
check_json "line mismatch is read_only at 'line'" '.errors[0].field + " " + .errors[0].code' "line read_only"
check "422 is problem+json" "application/problem+json" "$(ctype)"
check_json "422 carries checks" '.checks | type' array

# ---------------------------------------------------------------- defaults, password
json_api PUT '/lines/2?dns=skip' '{"label": "Two", "password": "Sip-Secret-1", "register_expires": 600}'
check_status "PUT with a password" 200
check_json "password_set after PUT" '.line.password_set' true
check_json "absent fields take defaults" '[.line.enabled, .line.dns_srv, .line.register, .line.proxy] | tostring' '[false,true,true,null]'
json_api PUT '/lines/2?dns=skip' '{"label": "Two"}'
check_json "PUT without password keeps it" '.line.password_set' true
check_json "PUT without register_expires takes 3600" '.line.register_expires' 3600
check "the password reaches flash" "Sip-Secret-1" "$(cli get line2.password)"
api GET /lines/2
case "$BODY" in *Sip-Secret-1*) fail "GET never returns the password" ;; *) ok "GET never returns the password" ;; esac
api GET /config
case "$BODY" in *Sip-Secret-1*) fail "GET /config never returns the password" ;; *) ok "GET /config never returns the password" ;; esac
json_api PATCH '/lines/2?dns=skip' '{"password": ""}'
check_json 'PATCH "password": "" clears it' '.line.password_set' false

# ---------------------------------------------------------------- numbers and types
json_api PUT '/lines/3?dns=skip' '{"register_expires": 29}'
check_json "register_expires 29" '.errors[0].code' out_of_range
json_api PUT '/lines/3?dns=skip' '{"register_expires": 30}'
check_status "register_expires 30" 200
json_api PUT '/lines/3?dns=skip' '{"register_expires": 86400}'
check_status "register_expires 86400" 200
json_api PUT '/lines/3?dns=skip' '{"register_expires": 86401}'
check_json "register_expires 86401" '.errors[0].code' out_of_range
json_api PUT '/lines/3?dns=skip' '{"register_expires": 3600.5}'
check_json "register_expires as a float" '.errors[0].code' invalid_type
json_api PUT '/lines/3?dns=skip' '{"register_expires": "3600"}'
check_json "register_expires as a string" '.errors[0].code' invalid_type
json_api PUT '/lines/3?dns=skip' '{"enabled": "true"}'
check_json "a boolean as a string" '.errors[0].field + " " + .errors[0].code' "enabled invalid_type"
# huge numbers are well-formed JSON: the value is out of range (422), not malformed (400)
json_api PUT '/lines/3?dns=skip' '{"register_expires": 99999999999999999999999999}'
check_status "register_expires beyond 64 bits is 422" 422
check_json "register_expires beyond 64 bits: out_of_range" '.errors[0].field + " " + .errors[0].code' "register_expires out_of_range"
json_api PUT '/lines/3?dns=skip' '{"register_expires": -99999999999999999999999999}'
check_json "a negative number beyond 64 bits: out_of_range" '.errors[0].code' out_of_range
json_api PUT '/lines/3?dns=skip' '{"register_expires": 1e400}'
check_json "a real beyond double: invalid_type" '.errors[0].code' invalid_type
json_api PUT '/lines/3?dns=skip' '{"proxy": {"host": "pbx.example.test", "port": 18446744073709551616}}'
check_json "a port beyond 64 bits: invalid_port" '.errors[0].field + " " + .errors[0].code' "proxy.port invalid_port"
json_api PUT '/lines/3?dns=skip' '{"line": 18446744073709551617}'
check_json "a line number beyond 64 bits: read_only" '.errors[0].code' read_only
json_api PUT '/lines/3?dns=skip' $'{"register_expires": 99999999999999999999,\n "label": }'
check_status "a huge number does not hide a later syntax error" 400
check_json "the later syntax error's line" '.line' 2

# ---------------------------------------------------------------- malformed bodies, content types
json_api PUT /lines/3 $'{\n  "label": "x",\n  "user": }'
check_status "malformed JSON" 400
check_json "400 has line and column" '"\(.line):\(.column)"' "3:11"
api PUT /lines/3 -H 'Content-Type: application/json' --data-binary ''
check_status "an empty body" 400
check_json "an empty body: line and column are 1-based" '"\(.line):\(.column)"' "1:1"
json_api PUT /lines/3 '[]'
check_status 'body "[]"' 400
json_api PUT /lines/3 'null'
check_status 'body "null"' 400
api PUT /lines/3 -H 'Content-Type:' --data-binary '{"label": "x"}'
check_status "PUT without Content-Type" 415
api PUT /lines/3 -H 'Content-Type: text/plain' --data-binary '{"label": "x"}'
check_status "PUT as text/plain" 415
api PATCH '/lines/3?dns=skip' -H 'Content-Type: application/merge-patch+json' --data-binary '{"label": "MP"}'
check_status "PATCH as application/merge-patch+json" 200
python3 -c 'import sys; sys.stdout.write("{\"label\": \"x\"" + " " * (65536 - 14) + "}")' >"$T_DIR/64k.json"
api PUT '/lines/3?dns=skip' -H 'Content-Type: application/json' --data-binary @"$T_DIR/64k.json"
check_status "a body of exactly 64 KiB" 200
printf ' ' >>"$T_DIR/64k.json"
api PUT '/lines/3?dns=skip' -H 'Content-Type: application/json' --data-binary @"$T_DIR/64k.json"
check_status "a body of 64 KiB + 1" 413
json_api PUT /lines/3 '{"lable": "x"}'
check_json "a typo is unknown_field" '.errors[0].code' unknown_field

# ---------------------------------------------------------------- text limits
e32=$(printf 'é%.0s' $(seq 32))
json_api PUT '/lines/3?dns=skip' "{\"label\": \"$e32\"}"
check_status "a label of 64 bytes of UTF-8" 200
check "the UTF-8 label reaches flash" "$e32" "$(cli get line3.label)"
json_api PUT '/lines/3?dns=skip' "{\"label\": \"${e32}a\"}"
check_json "a label of 65 bytes" '.errors[0].code' too_long
json_api PUT '/lines/3?dns=skip' '{"display_name": "a\nb"}'
check_json "a line break in display_name" '.errors[0].code' control_character
for u in 'a b' 'a@b' 'a:b' 'a<b'; do
  json_api PUT '/lines/3?dns=skip' "$(jq -cn --arg u "$u" '{user: $u}')"
  check_json "user '$u' is refused" '.errors[0].code' invalid_user
done
json_api PUT '/lines/3?dns=skip' "{\"user\": \"alice.smith+1\", \"auth_user\": \"a%20b!~*'()-_&=,/\"}"
check_status "user characters RFC 3261 allows" 200

# ---------------------------------------------------------------- server forms on input, object on output
forms=(
  '"pbx.example.com"|pbx.example.com null auto'
  '"pbx.example.com:5062"|pbx.example.com 5062 auto'
  '"[2001:db8::1]:5060"|2001:db8::1 5060 auto'
  '"192.0.2.7"|192.0.2.7 null auto'
  '"sip:pbx.example.com;transport=tcp"|pbx.example.com null tcp'
  '"sips:pbx.example.com"|pbx.example.com null tls'
  '{"host": "pbx.example.com"}|pbx.example.com null auto'
  '{"host": "pbx.example.com", "port": 5070, "transport": "udp"}|pbx.example.com 5070 udp'
)
for f in "${forms[@]}"; do
  in=${f%%|*} want=${f#*|}
  json_api PUT '/lines/4?dns=skip' "{\"backup_proxy\": $in}"
  check_json "server $in" '.line.backup_proxy | "\(.host) \(.port) \(.transport)"' "$want"
done
json_api PUT '/lines/4?dns=skip' '{"proxy": "pbx example.com"}'
check_json "a host with a space" '.errors[0] | .field + " " + .code' "proxy.host invalid_host"

# ---------------------------------------------------------------- PATCH
json_api PUT '/lines/4?dns=skip' '{"label": "P", "password": "pw-1", "proxy": "sip:pbx.example.test:5062;transport=tcp"}'
api GET /lines/4
etag=$(header ETag)
json_api PATCH '/lines/4?dns=skip' '{"proxy": {"port": 5070}}' -H "If-Match: $etag"
check_status "PATCH with the current ETag" 200
check_json "PATCH merges into the proxy object" '.line.proxy | "\(.host) \(.port) \(.transport)"' "pbx.example.test 5070 tcp"
check_json "PATCH keeps other fields" '"\(.line.label) \(.line.password_set)"' "P true"
json_api PATCH '/lines/4?dns=skip' '{"label": "Q"}' -H "If-Match: $etag"
check_status "PATCH with a stale ETag" 412
check "412 is problem+json" "application/problem+json" "$(ctype)"
json_api PATCH '/lines/4?dns=skip' '{"label": "Q"}' -H 'If-Match: *'
check_status "If-Match: *" 200
cur=$(header ETag)
json_api PATCH '/lines/4?dns=skip' '{"label": "R"}' -H "If-Match: W/$cur"
check_status "a weak ETag never matches If-Match" 412
json_api PATCH '/lines/4?dns=skip' '{"proxy": null}'
check_json "PATCH with a null server unsets it" '.line.proxy' null
json_api PATCH '/lines/4?dns=skip' '{"line": 2}'
check_status "PATCH with another line number" 422

# ---------------------------------------------------------------- DELETE
api DELETE /lines/4
check_status "DELETE /lines/4" 200
check_json "DELETE answers the factory line" '"\(.line.line) \(.line.label) \(.line.password_set) \(.changed)"' "4  false true"
check_json "DELETE: checks []" '.checks | length' 0
api DELETE /lines/7
check_status "DELETE /lines/7" 404
api POST /lines/4
check_status "POST /lines/4" 405
check "405 Allow" "GET, HEAD, PUT, PATCH, DELETE" "$(header Allow)"

# ---------------------------------------------------------------- DNS policy
gen=$(generation)
json_api PUT /lines/5 '{"label": "nx", "proxy": "nowhere.example.test"}'
check_status "dns=require with an NXDOMAIN proxy" 422
check_json "require: the error is dns_nxdomain at proxy" '.errors[0] | .field + " " + .code' "proxy dns_nxdomain"
check_json "require: checks say nxdomain" '.checks[0].status' nxdomain
check "require: nothing stored" "$gen" "$(generation)"
json_api PUT '/lines/5?dns=warn' '{"label": "nx", "proxy": "nowhere.example.test"}'
check_status "dns=warn stores it" 200
check_json "warn: the DNS problem is a warning" '[.warnings[].code] | index("dns_nxdomain") != null' true
json_api PUT '/lines/5?dns=skip' '{"label": "nx", "proxy": "nowhere2.example.test"}'
check_status "dns=skip" 200
check_json "skip: one skipped check, no lookups" '[.checks[] | "\(.status) \(.lookups | length)"] | join(",")' "skipped 0"
json_api PUT '/lines/5?dns=foo' '{}'
check_status "dns=foo" 400
json_api PUT /lines/5 '{"proxy": "example.test"}'
check_json "an SRV proxy resolves" '.checks[0].status + " " + .checks[0].method' "ok srv"
check "lineN.F.resolved holds the SRV target" "10 60 5060 udp sip1.example.test 127.0.0.10" "$(cli get line5.proxy.resolved)"

# ---------------------------------------------------------------- PUT /config
api GET /config
check_json "GET /config format 1" '.format' 1
cfg=$BODY
gen=$(generation)
json_api PUT /config "$cfg"
check_status "GET /config sent back" 200
check_json "GET /config sent back: changed false" '.changed' false
check "GET /config sent back: no flash write" "$gen" "$(generation)"
json_api PUT '/config?dry_run=true&dns=skip' '{"format": 1, "lines": [{"label": "DRY"}]}'
check_json "dry_run reports changed" '"\(.changed) \(.dry_run)"' "true true"
check "dry_run leaves flash untouched" "$gen" "$(generation)"
json_api PUT '/config?dry_run=TRUE&dns=skip' '{"lines": [{"label": "DRY"}]}'
check_json "dry_run=TRUE is a dry run" '.dry_run' true
json_api PUT '/config?dry_run=&dns=skip' '{"lines": [{"label": "DRY"}]}'
check_json "dry_run= is a dry run, never a commit" '.dry_run' true
json_api PUT '/config?dns=skip&dry_run' '{"lines": [{"label": "DRY"}]}'
check_json "a bare ?dry_run is a dry run, never a commit" '.dry_run' true
check "bare dry_run leaves flash untouched" "$gen" "$(generation)"
check "no dry run committed" "$gen" "$(generation)"
json_api PUT '/config?dry_run=maybe' '{"lines": []}'
check_status "dry_run=maybe" 400
json_api PUT '/config?dns=skip' '{"format": 2, "lines": []}'
check_json "format 2" '.errors[0].code' unsupported_format
json_api PUT '/config?dns=skip' '{"format": 1}'
check_json "no lines" '.errors[0] | .field + " " + .code' "lines missing_field"
json_api PUT '/config?dns=skip' '{"lines": [{}, {}, {}, {}, {}, {}, {}]}'
check_status "more lines than the phone has" 422
json_api PUT '/config?dns=skip' '{"lines": [{"proxy": "pbx example.com"}]}'
check_json "config error paths" '.errors[0].field' "lines[0].proxy.host"
json_api PUT '/config' '{"lines": [{"label": "A"}, {"proxy": "nowhere.example.test"}]}'
check_json "config DNS error path" '.errors[0] | .field + " " + .code' "lines[1].proxy dns_nxdomain"
check "a failed PUT /config leaves flash" "$gen" "$(generation)"
json_api PUT '/config?dns=skip' '{"lines": [{"label": "Only"}]}'
check_json "fewer lines: the rest take defaults" '[.lines[].label] | join(",")' "Only,,,,,"

t_done

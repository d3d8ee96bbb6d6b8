#!/usr/bin/env bash
# Edge cases of the contract (API.md sections 2, 3 and 6) found by a
# black-box audit of the daemon: each was wrong once. No DNS is needed
# (every write is ?dns=skip), so the daemon runs without a DNS server.
. "$(dirname "$0")/lib.sh"
start_daemon || { fail "sipcfgd starts"; t_done; exit 1; }
gen() { api GET /status; printf '%s' "$BODY" | jq -r '.store.generation'; }

# ---- PATCH: a misspelt key is caught even when its value is null --------
# (API.md section 2: "a typo in an automation script is caught, not silently
# ignored"; RFC 7396 drops a null member the line does not have.)
json_api PUT '/lines/1?dns=skip' '{"label": "Office", "proxy": {"host": "192.0.2.1", "port": 5070}}'
check_status "a line to patch" 200
g=$(gen)
json_api PATCH '/lines/1?dns=skip' '{"lable": null}'
check_status "PATCH {\"lable\": null} is 422" 422
check_json "  unknown_field at lable, with the hint" '.errors[0] | "\(.field) \(.code) \(.message)"' \
  "lable unknown_field 'lable' is not a field of a line: did you mean 'label'?"
json_api PATCH '/lines/1?dns=skip' '{"proxy": {"prot": null}}'
check_status "PATCH {\"proxy\": {\"prot\": null}} is 422" 422
check_json "  unknown_field at proxy.prot" '.errors[0] | "\(.field) \(.code)"' "proxy.prot unknown_field"
check "  nothing written" "$g" "$(gen)"
json_api PATCH '/lines/1?dns=skip' '{"proxy": {"port": null}, "label": null, "line": null, "locked": null}'
check_status "PATCH with null for members the line has is 200" 200
check_json "  port back to not given, label to its default" '"\(.line.proxy.port) \(.line.label)"' "null "

# ---- PATCH "password": null clears it (null = the default, no password) ---
json_api PATCH '/lines/1?dns=skip' '{"password": "Sip-1"}'
check_json "PATCH sets a password" '"\(.changed) \(.line.password_set)"' "true true"
json_api PATCH '/lines/1?dns=skip' '{"password": null}'
check_status "PATCH {\"password\": null}" 200
check_json "  clears the password" '"\(.changed) \(.line.password_set)"' "true false"
check "  in flash too" "" "$("$SIPCFG" --flash "$FLASH" get line1.password 2>/dev/null)"

# ---- If-Match given twice: libmicrohttpd saw only the first -------------
# RFC 9110 reads two If-Match lines as one list; the daemon read the first
# alone, so a current ETag in the second line got a 412. Now a 400, as for
# the other headers whose repeats would be ambiguous.
api GET /lines/2
etag=$(header ETag)
g=$(gen)
json_api PATCH '/lines/2?dns=skip' '{"label": "twice"}' -H 'If-Match: "0000000000000000"' -H "If-Match: $etag"
check_status "PATCH with two If-Match headers is 400" 400
check_json "  naming the header" '.detail' "The header If-Match is given more than once."
check "  nothing written" "$g" "$(gen)"
json_api PATCH '/lines/2?dns=skip' '{"label": "once"}' -H "If-Match: \"0000000000000000\", $etag"
check_status "the same two ETags as one list match" 200

# ---- DELETE /lines/{n} with a body: it was ignored and the line reset ----
json_api PUT '/lines/3?dns=skip' '{"label": "Keep me", "proxy": "192.0.2.3"}'
g=$(gen)
json_api DELETE /lines/3 '{"proxy": null}'
check_status "DELETE with {\"proxy\": null} is 400" 400
check_json "  says why" '.title' "Body not allowed"
check "  nothing written" "$g" "$(gen)"
api GET /lines/3
check_json "  the line is as it was" '"\(.label) \(.proxy.host)"' "Keep me 192.0.2.3"
json_api DELETE /lines/3 '{}'
check_json "DELETE with {} resets the line" '"\(.changed) \(.line.label)"' "true "

# ---- every operation documents the 400 a bad query parameter gets --------
T_RESP_LOG="$T_DIR/responses"
: >"$T_RESP_LOG"
for route in "GET /lines" "GET /lines/1" "GET /lines/1/routing" "GET /lines/1/resolutions" \
             "GET /config" "GET /status" "GET /openapi.json" "DELETE /session" \
             "PUT /lines/1" "PATCH /lines/1" "DELETE /lines/1" "PUT /config" \
             "POST /resolve" "POST /routing" "PUT /admin/password"; do
  set -- $route
  json_api "$1" "$2?bogus=1" '{}'
  check "$route?bogus=1 is 400 naming it" "400 bogus" "$STATUS $(printf '%s' "$BODY" | jq -r .parameter)"
done
T_RESP_LOG=
api GET /openapi.json
printf '%s' "$BODY" >"$T_DIR/openapi.json"
check "those 400s are as the OpenAPI document describes them" "" \
  "$(openapi_invalid "$T_DIR/openapi.json" "$T_DIR/responses")"

# ---- a domain's errors speak of the domain, not of a server's members ----
for d in 'example.com:5060' 'sips:example.com' '[2001:db8::1]:5060' 'alice@example.com'; do
  json_api PUT '/lines/5?dns=skip' "{\"domain\": \"$d\"}"
  check "domain '$d' is 422 invalid_host at domain" "422 domain invalid_host" \
    "$STATUS $(printf '%s' "$BODY" | jq -r '.errors[0] | "\(.field) \(.code)"')"
  case "$(printf '%s' "$BODY" | jq -r '.errors[0].message')" in
    *"is not a domain"*"e.g. example.com"*) ok "  its message says what a domain is" ;;
    *) fail "  its message says what a domain is" "$BODY" ;;
  esac
done
json_api PUT '/lines/5?dns=skip' '{"domain": "2001:db8::1"}'
check_json "an IPv6 address is still a domain" '.line.domain' "2001:db8::1"
json_api PUT '/lines/5?dns=skip' '{"domain": "Example.COM."}'
check_json "a domain is normalised like a host" '.line.domain' "example.com"

# ---- a misspelt member of a login or a password change gets the hint ----
json_api PUT /admin/password '{"current": "x", "neww": "Another-Pass-1"}'
check_json "PUT /admin/password with 'neww': unknown_field with a hint" \
  '[.errors[] | select(.code == "unknown_field") | .message][0]' \
  "'neww' is not a field of a password change: did you mean 'new'?"

t_done

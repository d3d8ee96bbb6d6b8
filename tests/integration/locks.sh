#!/usr/bin/env bash
# Provenance and locks (API.md section 2): provisioning locks the proxy; the
# page (session) and a script (digest) then get 409 "locked" and flash is
# untouched; provisioning may change and unlock it; every field says who set
# it and when, and that survives a restart.
. "$(dirname "$0")/lib.sh"
EX=$SIPCFG_TOP/examples
start_daemon || { fail "sipcfgd starts"; t_done; exit 1; }
sum() { sha256sum "$FLASH" | cut -c1-64; }
has() { case "$2" in *"$3"*) ok "$1" ;; *) fail "$1" "'$3' not in: $2" ;; esac; }
RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

# ---- provision a locked proxy (examples/template.json locks proxy and backup_proxy)
{ head -1 "$EX/phones.csv"; sed -n 2p "$EX/phones.csv" | sed "s|^[^,]*,[^,]*,|${BASE#http://},$ADMIN_PASS,|"; } >"$T_DIR/phones.csv"
"$SIPCFG" provision --template "$EX/template.json" --phones "$T_DIR/phones.csv" --dns skip >"$T_DIR/out" 2>&1
check "provisioned" 0 "$?"
api GET /lines/1
check_json "locked: what the template locks" '.locked | join(",")' "proxy,backup_proxy"
check_json "provenance: the proxy was set by provisioning" '.provenance.proxy.source' provisioning
check "provenance: at is RFC 3339 UTC" 1 "$(printf '%s' "$BODY" | jq -r '.provenance.proxy.at' | grep -cE "$RFC3339")"
check_json "provenance: the password too (as password_set)" '.provenance.password_set.source' provisioning
check_json "provenance: a field nobody set" '"\(.provenance.outbound_proxy.source) \(.provenance.outbound_proxy.at)"' "default null"
check_json "provenance: every field of the table" '.provenance | length' "$(printf '%s' "$BODY" | jq '[keys[] | select(. != "line" and . != "password_set" and . != "provenance" and . != "locked")] | length + 1')"
api GET /config
check_json "GET /config carries locked" '.lines[0].locked | join(",")' "proxy,backup_proxy"
check "flash: lineN.locked.proxy" 1 "$("$SIPCFG" --flash "$FLASH" get line1.locked.proxy | grep -cE '^provisioning [0-9T:Z-]+$')"
s0=$(sum)

# ---- the page (a session cookie) may not change it
login
check "page login" 201 "$STATUS"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/merge-patch+json' --data-binary '{"proxy": "192.0.2.99"}'
check "page PATCH of a locked proxy: 409" 409 "$STATUS"
check_json "409: errors[] code locked" '.errors[0] | "\(.field) \(.code) \(.locked_by)"' "proxy locked provisioning"
check "409: since when" 1 "$(printf '%s' "$BODY" | jq -r '.errors[0].locked_at' | grep -cE "$RFC3339")"
has "409: in words" "$(printf '%s' "$BODY" | jq -r '.errors[0].message')" "proxy is locked (by provisioning on "
check "page 409: flash unchanged" "$s0" "$(sum)"

# ---- nor a script (digest), by PATCH, PUT or DELETE
json_api PATCH "/lines/1?dns=skip" '{"proxy": "192.0.2.99", "backup_proxy": null}'
check_status "digest PATCH of locked fields: 409" 409
check_json "both fields named" '[.errors[] | .field] | join(",")' "proxy,backup_proxy"
api GET /lines/1
json_api PUT "/lines/1?dns=skip" "$(printf '%s' "$BODY" | jq -c '.proxy = "192.0.2.98"')"
check_status "digest PUT of a locked proxy: 409" 409
api DELETE /lines/1
check_status "DELETE of a line with locked fields: 409" 409
check "digest 409s: flash unchanged" "$s0" "$(sum)"

# ---- the rest of the line stays editable, and says who did it
api GET /lines/1
json_api PUT "/lines/1?dns=skip" "$BODY"
check_status "the GET sent back as a PUT (locked fields unchanged): 200" 200
check_json "...and it is no change" .changed false
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/merge-patch+json' --data-binary '{"label": "Desk 7"}'
check "page PATCH of an unlocked field" 200 "$STATUS"
check_json "provenance: page" '.line.provenance.label.source' page
json_api PATCH "/lines/1?dns=skip" '{"display_name": "Script Name"}'
check_status "digest PATCH of an unlocked field" 200
check_json "provenance: api" '.line.provenance.display_name.source' api
check_json "provenance: the proxy is still provisioning's" '.line.provenance.proxy.source' provisioning
json_api PATCH "/lines/1?dns=skip" '{"locked": []}'
check_status "unlocking through /lines: 422" 422
check_json "unlocking through /lines: read_only" '.errors[0] | "\(.field) \(.code)"' "locked read_only"

# ---- survives a restart
api GET /lines/1
before=$(printf '%s' "$BODY" | jq -c '{provenance, locked}')
stop_daemon
start_daemon || { fail "sipcfgd restarts"; t_done; exit 1; }
api GET /lines/1
check "provenance and locks survive a restart" "$before" "$(printf '%s' "$BODY" | jq -c '{provenance, locked}')"

# ---- provisioning may change it, and unlock it
api GET /config
cfg=$(printf '%s' "$BODY" | jq -c '.lines[0].proxy = "192.0.2.60" | del(.format)')
json_api PUT '/config?dns=skip' "$cfg"
check_status "PUT /config changes a locked proxy" 200
check_json "...it is a change" .changed true
check_json "...by provisioning" '.lines[0].provenance.proxy.source' provisioning
check_json "...still locked (the body said so)" '.lines[0].locked | join(",")' "proxy,backup_proxy"
json_api PUT '/config?dns=skip' "$(printf '%s' "$cfg" | jq -c '.lines[0] |= del(.locked)')"
check_json "a line without locked keeps its locks" '"\(.changed) \(.lines[0].locked | join(","))"' "false proxy,backup_proxy"
json_api PUT '/config?dns=skip' "$(printf '%s' "$cfg" | jq -c '.lines[0].locked = []')"
check_json "locked: [] unlocks: a change" '"\(.changed) \(.lines[0].locked | length)"' "true 0"
json_api PATCH "/lines/1?dns=skip" '{"proxy": "192.0.2.61"}'
check_status "unlocked: digest PATCH of the proxy" 200
check_json "...by the api" '.line.provenance.proxy.source' api
# A locked password is named as everywhere else in answers: password_set.
json_api PUT '/config?dns=skip' "$(printf '%s' "$cfg" | jq -c '.lines[0].locked = ["password_set"]')"
check_status "PUT /config locks the password" 200
json_api PATCH "/lines/1?dns=skip" '{"password": "another-secret"}'
check_status "digest PATCH of a locked password: 409" 409
check_json "...the error names it password_set, never password" '.errors[0] | "\(.field) \(.code)"' "password_set locked"
json_api PUT '/config?dns=skip' "$(printf '%s' "$cfg" | jq -c '.lines[0].locked = []')"
json_api PUT '/config?dns=skip' '{"lines": [{"locked": ["nosuch"]}]}'
check_status "locking an unknown field: 422" 422
check_json "...at the item" '.errors[0] | "\(.field) \(.code)"' "lines[0].locked[0] unknown_field"
t_done

#!/usr/bin/env bash
# "changed" is about the configuration (fields, password); storing fresher DNS
# results is "resolutions_updated", on its own; a write with neither leaves
# flash untouched, whatever the DNS policy (API.md section 3).
. "$(dirname "$0")/lib.sh"
start_dnsmasq --host-record=pbx.example.test,192.0.2.40 --host-record=pbx2.example.test,192.0.2.41 \
  || { fail "dnsmasq starts"; t_done; exit 1; }
start_daemon --dns-server "$DNS_SERVER" || { fail "sipcfgd starts"; t_done; exit 1; }
gen() { "$SIPCFG" --flash "$FLASH" info | sed -n 's/^generation: \([0-9]*\).*/\1/p'; }
flags() { printf '%s' "$BODY" | jq -r '"\(.changed) \(.resolutions_updated)"'; }
LINE='{"enabled": true, "user": "1001", "password": "pw-1", "proxy": "pbx.example.test"}'

json_api PUT '/lines/1?dns=skip' "$LINE"
check "skip: a new proxy is a change, nothing resolved" "true false" "$(flags)"
g=$(gen)
json_api PUT '/lines/1?dns=warn' "$LINE"
check "the same line with dns=warn: not a change, fresher resolutions" "false true" "$(flags)"
check "resolutions_updated: flash written once" $((g + 1)) "$(gen)"
check "the resolution is stored" "0 0 5060 udp pbx.example.test 192.0.2.40" "$("$SIPCFG" --flash "$FLASH" get line1.proxy.resolved)"
g=$(gen)
for policy in warn require skip; do
  json_api PUT "/lines/1?dns=$policy" "$LINE"
  check "the same line again, dns=$policy: changed false, resolutions_updated false" "false false" "$(flags)"
done
check "nothing written for the repeated pushes" "$g" "$(gen)"
json_api PATCH /lines/1 '{"password": "pw-2"}'
check "a new password is a change" "true false" "$(flags)"
json_api PATCH /lines/1 '{"password": "pw-2"}'
check "the same password again is not" "false false" "$(flags)"

# PUT /config, the provisioning path, the same way
CFG='{"lines": [{"enabled": true, "user": "1001", "password": "pw-2", "proxy": "pbx.example.test"},
                {"user": "1002", "proxy": "pbx2.example.test"}]}'
json_api PUT '/config?dns=skip' "$CFG"
check "PUT /config skip: line 2 is new" "true false" "$(flags)"
json_api PUT '/config?dns=warn&dry_run=true' "$CFG"
check "PUT /config dry run with dns=warn: would store fresher resolutions only" "false true" "$(flags)"
json_api PUT '/config?dns=warn' "$CFG"
check "PUT /config dns=warn: resolutions only" "false true" "$(flags)"
g=$(gen)
json_api PUT '/config' "$CFG"
check "PUT /config again (require): nothing" "false false" "$(flags)"
check "PUT /config again: flash untouched" "$g" "$(gen)"
t_done

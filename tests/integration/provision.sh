#!/usr/bin/env bash
# sipcfg provision against three real daemons on loopback at once, each with
# its own admin password (one of them over TLS), plus an address where nothing
# listens; the template and the rows are examples/'s. One row is bad (its
# proxy is not a host name): that phone must stay untouched, the others are
# provisioned, the receipts say what happened, and a second run is "unchanged".
. "$(dirname "$0")/lib.sh"
EX=$SIPCFG_TOP/examples

start_dnsmasq --local=/example.com/ --host-record=pbx.example.com,192.0.2.20 \
  || { fail "dnsmasq starts"; t_done; exit 1; }

# ---- three phones
declare -A P_BASE P_FLASH P_PASS P_PID
start_phone() {  # NAME PASSWORD [sipcfgd options...]
  local name=$1; FLASH=$T_DIR/$1.img; ADMIN_PASS=$2; shift 2
  start_daemon --dns-server "$DNS_SERVER" "$@" || return 1
  P_BASE[$name]=$BASE; P_FLASH[$name]=$FLASH; P_PASS[$name]=$ADMIN_PASS; P_PID[$name]=$DAEMON_PID
}
start_phone a 'Pass-A-1234' || { fail "phone a starts"; t_done; exit 1; }
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" -days 2 \
     -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1; then
  ok "a certificate for the TLS phone"
else
  fail "a certificate for the TLS phone"; t_done; exit 1
fi
# phone b speaks TLS only (start_daemon waits for plain HTTP, so it is started here)
P_FLASH[b]=$T_DIR/b.img; P_PASS[b]='Pass-B-5678'
printf '%s\n' "${P_PASS[b]}" | "$SIPCFG" --flash "${P_FLASH[b]}" passwd >/dev/null 2>&1
TPORT=$(free_port)
"$SIPCFGD" --listen "127.0.0.1:$TPORT" --flash "${P_FLASH[b]}" --dns-server "$DNS_SERVER" \
  --tls-cert "$T_DIR/cert.pem" --tls-key "$T_DIR/key.pem" 2>"$T_DIR/b.log" &
T_PIDS+=($!)
P_BASE[b]=https://127.0.0.1:$TPORT
for _ in $(seq 100); do curl -s --cacert "$T_DIR/cert.pem" -o /dev/null "${P_BASE[b]}/" && break; sleep 0.1; done
start_phone c 'Pass-C-9012' || { fail "phone c starts"; t_done; exit 1; }
DEAD=127.0.0.1:$(free_port)

# the example's rows, with the phones' addresses and passwords in the first two columns
row() { sed -n "${1}p" "$EX/phones.csv" | sed "s|^[^,]*,[^,]*,|$2,$3,|"; }
{
  sed -n 1p "$EX/phones.csv"
  row 2 "${P_BASE[a]#http://}" "${P_PASS[a]}"
  row 3 "${P_BASE[b]}" "${P_PASS[b]}"
  printf '%s\n' "${P_BASE[c]#http://},${P_PASS[c]},Bad,Bad Row,2009,x,3600,pbx example.com,"
  row 4 "$DEAD" "whatever-pass"
} >"$T_DIR/phones.csv"
sum_c=$(sha256sum "${P_FLASH[c]}" | cut -c1-64)

prov() {  # prov ARGS...: OUT, ERR, RC
  "$SIPCFG" provision --template "$EX/template.json" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
  RC=$?; OUT=$(cat "$T_DIR/out"); ERR=$(cat "$T_DIR/err")
}
has() {  # has NAME TEXT PATTERN
  case "$2" in *"$3"*) ok "$1" ;; *) fail "$1" "'$3' not in: $2" ;; esac
}
receipt() { jq -c --argjson l "$1" 'select(.csv_line == $l)' "$T_DIR/receipts"; }

# ---- a dry run first: everything checked, nothing written
sum_a=$(sha256sum "${P_FLASH[a]}" | cut -c1-64)
prov --phones "$T_DIR/phones.csv" --cacert "$T_DIR/cert.pem" --dry-run --receipts "$T_DIR/receipts"
check "dry run with a bad row exits 1" 1 "$RC"
has "dry run: phone a would change" "$OUT" "(phones.csv:2): would change (line 1)"
has "dry run summary" "$OUT" "dry run: 4 phones: 2 would change, 0 unchanged, 2 failed; nothing written"
check "dry run wrote nothing on phone a" "$sum_a" "$(sha256sum "${P_FLASH[a]}" | cut -c1-64)"
check "dry run: a receipt per phone" 4 "$(wc -l <"$T_DIR/receipts")"

# ---- the run
prov --phones "$T_DIR/phones.csv" --cacert "$T_DIR/cert.pem" --jobs 4 --receipts "$T_DIR/receipts"
check "a run with a bad row and a dead phone exits 1" 1 "$RC"
check "one progress line per phone, and the summary" 5 "$(printf '%s\n' "$OUT" | wc -l)"
has "phone a changed" "$OUT" "${P_BASE[a]#http://} (phones.csv:2): changed (line 1)"
has "phone b (TLS) changed" "$OUT" "${P_BASE[b]} (phones.csv:3): changed (line 1)"
has "the bad row says why" "$OUT" \
  "(phones.csv:4): FAILED: the dry run refused (422): lines[0].proxy.host: 'pbx example.com' is not a host name"
has "the dead phone: in words" "$OUT" "(phones.csv:5): FAILED: unreachable: nothing answers at http://$DEAD"
has "the summary names the failed phones" "$(printf '%s\n' "$OUT" | tail -1)" \
  "provisioned 4 phones: 2 changed, 0 unchanged, 2 failed: phones.csv:4 (${P_BASE[c]#http://}), phones.csv:5 ($DEAD)"

# the receipts
check "a receipt per phone" 4 "$(wc -l <"$T_DIR/receipts")"
r=$(receipt 2)
BASE=${P_BASE[a]} ADMIN_PASS=${P_PASS[a]} api GET /config
check "receipt a: result" changed "$(jq -r .result <<<"$r")"
check "receipt a: the ETag the phone now has" "$(header ETag)" "$(jq -r .etag <<<"$r")"
check "receipt a: changed lines" "[1]" "$(jq -c .changed_lines <<<"$r")"
check "receipt a: the proxy's check" "proxy ok" "$(jq -r '.checks[] | select(.field == "lines[0].proxy") | "proxy " + .status' <<<"$r")"
check "receipt a: warnings (none)" "[]" "$(jq -c '.warnings' <<<"$r")"
check "receipt a: no error" null "$(jq -r .error <<<"$r")"
# read, dry run, apply on one handle: one digest challenge (the first 401),
# then the handle's digest state authenticates the rest at once
check "receipt a: 4 HTTP requests (one 401, then read, dry run, apply)" 4 "$(jq -r .http_requests <<<"$r")"
check "receipt b (TLS): 4 HTTP requests" 4 "$(receipt 3 | jq -r .http_requests)"
r=$(receipt 4)
check "receipt c: failed" failed "$(jq -r .result <<<"$r")"
check "receipt c: at the dry run" dry_run "$(jq -r .step <<<"$r")"
check "receipt c: 422" 422 "$(jq -r .http_status <<<"$r")"
check "receipt c: the field" "lines[0].proxy.host" "$(jq -r '.errors[0].field' <<<"$r")"
has "receipt c: the error in words" "$(jq -r .error <<<"$r")" "is not a host name"
r=$(receipt 5)
check "receipt dead: failed at the first read" "failed read" "$(jq -r '.result + " " + .step' <<<"$r")"

# the phones
cli() { "$SIPCFG" --flash "${P_FLASH[$1]}" get "$2"; }
check "phone a: user" 2001 "$(cli a line1.user)"
check "phone a: SIP password" sip-secret-2001 "$(cli a line1.password)"
check "phone a: a quoted CSV value with a comma" "Reception, front desk" "$(cli a line1.display_name)"
check "phone a: a number column became a number" 3600 "$(cli a line1.register_expires)"
check "phone a: backup proxy" 192.0.2.7 "$(cli a line1.backup_proxy.host)"
has "phone a: the proxy's resolution is stored" "$(cli a line1.proxy.resolved)" 192.0.2.20
check "phone b: user" 2002 "$(cli b line1.user)"
check "phone b: transport from the URI" tcp "$(cli b line1.proxy.transport)"
check "phone b: empty column = no backup proxy" "" "$(cli b line1.backup_proxy.host 2>/dev/null)"
check "phone b: expires" 1800 "$(cli b line1.register_expires)"
check "phone c (bad row): flash untouched" "$sum_c" "$(sha256sum "${P_FLASH[c]}" | cut -c1-64)"

# ---- a second run changes nothing
sum_a=$(sha256sum "${P_FLASH[a]}" | cut -c1-64)
prov --phones "$T_DIR/phones.csv" --cacert "$T_DIR/cert.pem" --receipts "$T_DIR/receipts"
check "second run: still exit 1 (the same two phones fail)" 1 "$RC"
has "second run: phone a unchanged" "$OUT" "(phones.csv:2): unchanged"
has "second run: phone b unchanged" "$OUT" "(phones.csv:3): unchanged"
has "second run summary" "$OUT" "provisioned 4 phones: 0 changed, 2 unchanged, 2 failed"
check "second run: phone a's flash not written" "$sum_a" "$(sha256sum "${P_FLASH[a]}" | cut -c1-64)"
check "second run: receipt a unchanged" "unchanged false []" \
  "$(receipt 2 | jq -r '.result + " " + (.changed|tostring) + " " + (.changed_lines|tojson)')"
head -3 "$T_DIR/phones.csv" >"$T_DIR/good.csv"
prov --phones "$T_DIR/good.csv" --cacert "$T_DIR/cert.pem"
check "only good phones: exit 0" 0 "$RC"
has "only good phones: summary" "$OUT" "provisioned 2 phones: 0 changed, 2 unchanged, 0 failed"

# ---- TLS: an untrusted certificate is a failure in words; --insecure goes through
sed -n '1p;3p' "$T_DIR/phones.csv" >"$T_DIR/tls.csv"
prov --phones "$T_DIR/tls.csv"
check "TLS without --cacert fails" 1 "$RC"
has "TLS: says what to do" "$OUT" "not trusted (--cacert FILE, or --insecure)"
prov --phones "$T_DIR/tls.csv" --insecure
check "TLS with --insecure" 0 "$RC"

# ---- a wrong admin password
printf 'address,admin_password,label,display_name,user,sip_password,expires,proxy,backup_proxy\n%s,wrong-password,x,x,2001,x,3600,pbx.example.com,\n' \
  "${P_BASE[c]}" >"$T_DIR/wrong.csv"
prov --phones "$T_DIR/wrong.csv"
check "wrong password: exit 1" 1 "$RC"
has "wrong password: in words" "$OUT" "FAILED: wrong admin password (401)"
check "wrong password: phone c untouched" "$sum_c" "$(sha256sum "${P_FLASH[c]}" | cut -c1-64)"

# ---- bad input: one line each, and no phone is contacted
{ head -1 "$T_DIR/phones.csv" | sed 's/,backup_proxy$/,backup_proxi,mac/'; sed -n 2p "$T_DIR/phones.csv"; } >"$T_DIR/cols.csv"
prov --phones "$T_DIR/cols.csv"
check "bad columns: exit 1" 1 "$RC"
has "a placeholder without a column" "$ERR" "cols.csv:1: no column 'backup_proxy' for the template's placeholder {{backup_proxy}}"
has "an unknown column (a typo)" "$ERR" "cols.csv:1: unknown column 'backup_proxi': the template has no {{backup_proxi}}"
has "another unknown column" "$ERR" "cols.csv:1: unknown column 'mac'"
check "bad columns: one line each" 3 "$(printf '%s\n' "$ERR" | wc -l)"
check "bad columns: no phone contacted" "" "$OUT"
printf 'address,admin_password\n"127.0.0.1:1,x\n' >"$T_DIR/quote.csv"
"$SIPCFG" provision --template "$EX/config.json" --phones "$T_DIR/quote.csv" >"$T_DIR/out" 2>"$T_DIR/err"
check "an unclosed quote: exit 1" 1 "$?"
check "an unclosed quote: where" "sipcfg provision: $T_DIR/quote.csv:2: a quoted field is not closed" "$(cat "$T_DIR/err")"
printf '{"format": 1, "lines": [{"user": "{{user}"}]}' >"$T_DIR/t1.json"
"$SIPCFG" provision --template "$T_DIR/t1.json" --phones "$T_DIR/phones.csv" >"$T_DIR/out" 2>"$T_DIR/err"
check "a broken placeholder: exit 1" 1 "$?"
has "a broken placeholder: where" "$(cat "$T_DIR/err")" "lines[0].user: '{{' without its '}}'"
printf '{"format": 1, "lines": [{"user": "a"},]}' >"$T_DIR/t2.json"
"$SIPCFG" provision --template "$T_DIR/t2.json" --phones "$T_DIR/phones.csv" >"$T_DIR/out" 2>"$T_DIR/err"
has "a template that is not JSON: line and column" "$(cat "$T_DIR/err")" "t2.json:1:"
{ head -1 "$T_DIR/phones.csv"; printf '%s\n' "${P_BASE[c]#http://},${P_PASS[c]},L,D,2009,x,soon,pbx.example.com," "${P_BASE[c]#http://},${P_PASS[c]},L,D,2009,x"; } >"$T_DIR/rows.csv"
prov --phones "$T_DIR/rows.csv"
has "a number column that is not a number" "$OUT" "(rows.csv:2): FAILED: template lines[0].register_expires: column 'expires' is 'soon', not a number"
has "a short row" "$OUT" "(rows.csv:3): FAILED: the row has 6 fields, the header 9"
check "bad rows: phone c untouched" "$sum_c" "$(sha256sum "${P_FLASH[c]}" | cut -c1-64)"
# the README's curl example: examples/config.json is a valid PUT /config body
BASE=${P_BASE[a]} ADMIN_PASS=${P_PASS[a]} api PUT '/config?dry_run=true&dns=skip' \
  -H 'Content-Type: application/json' --data-binary @"$EX/config.json"
check_status "README: examples/config.json as a dry run" 200
"$SIPCFG" provision --phones "$T_DIR/phones.csv" >/dev/null 2>&1
check "no --template: usage error" 2 "$?"
"$SIPCFG" provision --template "$EX/template.json" --phones "$T_DIR/phones.csv" --jobs 0 >/dev/null 2>&1
check "--jobs 0: usage error" 2 "$?"

t_done

# sipcfg export --format baresip: the lines as baresip 1.0 accounts entries
# (docs/BARESIP.md). What baresip does with them is tests/e2e/baresip.sh's job;
# this one holds the text and the per-field notes on stderr.
source "$(dirname "$0")/../integration/lib.sh"

IMG=$T_DIR/phone.img
has()    { case "$2" in *"$3"*) ok "$1";; *) fail "$1" "no '$3' in: $2";; esac; }
hasnot() { case "$2" in *"$3"*) fail "$1" "'$3' in: $2";; *) ok "$1";; esac; }

cat >"$T_DIR/c.json" <<'EOF'
{"format": 1, "lines": [
  {"enabled": true, "label": "Office", "display_name": "Alice Example", "user": "1001",
   "auth_user": "a1001", "password": "sip secret 1", "proxy": "pbx.example.com",
   "register_expires": 600},
  {"enabled": true, "user": "1002", "domain": "example.org",
   "proxy": "sip:pbx.example.com:5062;transport=tcp", "registrar": "reg.example.org",
   "backup_proxy": "192.0.2.7", "backup_registrar": "192.0.2.8", "register": false},
  {"enabled": true, "user": "1003", "proxy": "pbx.example.com", "dns_srv": false,
   "outbound_proxy": "[2001:db8::1]:5060", "backup_proxy": "b.example.com",
   "password": "pw;regint=0"},
  {"enabled": false, "user": "1004", "proxy": "pbx.example.com"},
  {"enabled": true, "user": "1005", "display_name": "Say \"hi\"", "proxy": "pbx.example.com",
   "dns_srv": false, "password": "back\\slash ok"}
]}
EOF
run --flash "$IMG" import "$T_DIR/c.json"
check "import the lines" 0 "$RC"

run --flash "$IMG" export --format baresip
check "export --format baresip exits 0" 0 "$RC"
echo "# stdout:"; printf '%s\n' "$OUT" | sed 's/^/#   /'
echo "# stderr:"; printf '%s\n' "$ERR" | sed 's/^/#   /'
L1=$(printf '%s\n' "$OUT" | grep -A1 '^# sipcfg line 1: Office$' | tail -1)
check "line 1: display name, AOR on the proxy's host, auth_user, regint = expiry" \
  '"Alice Example" <sip:1001@pbx.example.com>;auth_user=a1001;regint=600' "$L1"
hasnot "no password without --with-secrets" "$OUT" "sip secret 1"
has "the left-out password is said on stderr" "$ERR" \
  "line1.password: left out (export --with-secrets writes it as auth_pass)"
L2=$(printf '%s\n' "$OUT" | grep -A1 '^# sipcfg line 2$' | tail -1)
check "line 2: domain AOR, proxy as outbound, backup as outbound2 with sipnat=outbound, register off = regint=0" \
  '<sip:1002@example.org>;regint=0;outbound="sip:pbx.example.com:5062;transport=tcp";outbound2="sip:192.0.2.7";sipnat=outbound' "$L2"
has "a separate registrar is reported" "$ERR" "line2.registrar: baresip registers with the AOR's domain example.org"
has "outbound2's parallel flows are reported" "$ERR" "line2.backup_proxy: written as outbound2 with sipnat=outbound"
has "a backup registrar is reported" "$ERR" "line2.backup_registrar: baresip has no backup registrar: 192.0.2.8 not used"
L3=$(printf '%s\n' "$OUT" | grep -A1 '^# sipcfg line 3$' | tail -1)
check "line 3: outbound proxy (IPv6 in brackets), no backup behind it" \
  '<sip:1003@pbx.example.com:5060>;regint=3600;outbound="sip:[2001:db8::1]:5060"' "$L3"
has "a backup behind an outbound proxy is reported" "$ERR" "line3.backup_proxy: baresip's second flow (outbound2) would bypass the outbound proxy"
hasnot "a disabled line is not exported" "$OUT" "1004"
has "and that is said" "$ERR" "line4.enabled: the line is disabled: not exported"
L5=$(printf '%s\n' "$OUT" | grep -A1 '^# sipcfg line 5$' | tail -1)
check "line 5: DNS SRV off puts the default port on the proxy; a quoted display name is left out" \
  '<sip:1005@pbx.example.com:5060>;regint=3600' "$L5"
has "the display name is reported" "$ERR" "line5.display_name: contains"

run --flash "$IMG" export --format baresip --with-secrets
check "--with-secrets exits 0" 0 "$RC"
check "--with-secrets makes the output file private" 600 "$(stat -c %a "$T_DIR/out")"
has "and warns on stderr" "$ERR" "this export carries the SIP passwords in clear"
has "--with-secrets writes auth_pass, quoted (it has spaces)" "$OUT" \
  '<sip:1001@pbx.example.com>;auth_user=a1001;auth_pass="sip secret 1";regint=600'
has "a backslash travels as it is" "$OUT" ';auth_pass="back\slash ok";regint=3600'
hasnot "a password with ';' is not written (it could set another parameter)" "$OUT" "regint=0\""
has "and that is said" "$ERR" "line3.password: it contains ';', which a baresip 1.0 auth_pass cannot carry: left out"

run --flash "$IMG" export --format baresip --line 2
check "--line 2 exits 0" 0 "$RC"
check "--line 2 prints that line only" "2" "$(printf '%s\n' "$OUT" | grep -c .)"
has "--line 2 is line 2" "$OUT" "<sip:1002@example.org>"
hasnot "--line 2 notes only line 2" "$ERR" "line1."
run --flash "$IMG" export --format baresip --line 4
check "--line of a disabled line exits 1" 1 "$RC"
run --flash "$IMG" export --format baresip --line 9
check "--line beyond the image's lines exits 1" 1 "$RC"
has "and names the range" "$ERR" "lines 1..6"

run --flash "$IMG" export --format xml;                 check "--format xml exits 2" 2 "$RC"
run --flash "$IMG" export --format baresip --line 0;    check "--line 0 exits 2" 2 "$RC"
run --flash "$IMG" export --format baresip --line 1x;   check "--line 1x exits 2" 2 "$RC"
run --flash "$IMG" export --line 1;                     check "--line without --format baresip exits 2" 2 "$RC"
run --flash "$IMG" export --format json
check "--format json is the JSON export" 1 "$(printf '%s' "$OUT" | jq -r '.format')"
run --flash "$T_DIR/missing.img" export --format baresip
check "a missing image exits 1" 1 "$RC"
has "and says so" "$ERR" "missing.img"

t_done

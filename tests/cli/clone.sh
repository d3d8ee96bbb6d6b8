#!/usr/bin/env bash
# Cloning a phone with the CLI: export --with-secrets, import onto a new image
# (same GET /config, same passwords), import's warnings for passwords a file
# claims but does not carry, --dry-run, --dns, and the targets of IP literals.
source "$(dirname "$0")/../integration/lib.sh"
EX=$SIPCFG_TOP/examples
has() { case "$2" in *"$3"*) ok "$1" ;; *) fail "$1" "'$3' not in: $2" ;; esac; }
sum() { sha256sum "$1" | cut -c1-64; }
A=$T_DIR/a.img B=$T_DIR/b.img C=$T_DIR/c.img

# ---- the phone to clone, written offline
run --flash "$A" import "$EX/config.json"
check "import examples/config.json" 0 "$RC"
run --flash "$A" get line1.backup_proxy.resolved
check "an IP literal gets its targets on import (--dns skip by default)" "0 0 5060 udp 192.0.2.7 192.0.2.7" "$OUT"
run --flash "$A" get line1.proxy.resolved
check "a name is not looked up under skip" 1 "$RC"

# ---- export: passwords only when asked, and then a private file
"$SIPCFG" --flash "$A" export >"$T_DIR/plain.json" 2>"$T_DIR/err"
check "export without secrets carries no password" 0 "$(grep -c '"password"' "$T_DIR/plain.json")"
umask 022
"$SIPCFG" --flash "$A" export --with-secrets >"$T_DIR/clone.json" 2>"$T_DIR/err"
check "export --with-secrets exits 0" 0 "$?"
check "export --with-secrets: the file is mode 0600" 600 "$(stat -c %a "$T_DIR/clone.json")"
has "export --with-secrets: a warning on stderr" "$(cat "$T_DIR/err")" "carries the SIP passwords in clear"
check "export --with-secrets: the password" sip-secret-1001 "$(jq -r '.lines[0].password' "$T_DIR/clone.json")"
check "export --with-secrets: no password member for a line without one" null "$(jq -r '.lines[1].password' "$T_DIR/clone.json")"

# ---- import onto a new image: the same configuration, the same passwords
run --flash "$B" import --strict "$T_DIR/clone.json"
check "import of the clone (--strict) exits 0" 0 "$RC"
check "import of the clone: no warning" "" "$(printf '%s' "$ERR" | grep warning)"
for img in A B; do
  FLASH=${!img}; ADMIN_PASS=Clone-Pass-123
  rm -f "$FLASH.passwd-set"
  start_daemon || { fail "sipcfgd starts on image $img"; t_done; exit 1; }
  api GET /config
  printf '%s' "$BODY" | jq -S . >"$T_DIR/$img.config"
  stop_daemon
done
if cmp -s "$T_DIR/A.config" "$T_DIR/B.config"; then ok "GET /config of the clone equals the original's"
else fail "GET /config of the clone equals the original's" "$(diff "$T_DIR/A.config" "$T_DIR/B.config" | head -5)"; fi
# the SIP core's view: export --format baresip reads the image through include/sipcfg.h
acc_a=$("$SIPCFG" --flash "$A" export --format baresip --with-secrets 2>/dev/null)
acc_b=$("$SIPCFG" --flash "$B" export --format baresip --with-secrets 2>/dev/null)
has "reader API: the original's password" "$acc_a" "sip-secret-1001"
check "reader API: the clone has the same accounts and passwords" "$acc_a" "$acc_b"
check "clone: the lock" '["proxy"]' "$(jq -c '.lines[0].locked' "$T_DIR/B.config")"
check "clone: the original's provenance" "$(jq -c '.lines[0].provenance' "$T_DIR/A.config")" \
  "$(jq -c '.lines[0].provenance' "$T_DIR/B.config")"
check "the original's provenance says image" image "$(jq -r '.lines[0].provenance.proxy.source' "$T_DIR/A.config")"
for key in line1.password line1.backup_proxy.resolved line2.proxy.port; do
  check "clone: $key" "$("$SIPCFG" --flash "$A" get $key)" "$("$SIPCFG" --flash "$B" get $key)"
done

case "$("$SIPCFG" --flash "$B" get line1.locked.proxy)" in
  "image "20*Z) ok "clone: locked by the image (when it was imported)" ;;
  *) fail "clone: locked by the image" "$("$SIPCFG" --flash "$B" get line1.locked.proxy)" ;;
esac

# ---- a file that claims a password it does not carry
run --flash "$C" import --strict "$T_DIR/plain.json"
check "--strict refuses an enabled line without its password" 1 "$RC"
has "--strict: says which line and why" "$ERR" \
  "error: lines[0].password: line 1 is enabled and had a password where it was exported (password_set: true), but the file carries none"
[ ! -e "$C" ] && ok "--strict refusal created no image" || fail "--strict refusal created no image"
run --flash "$C" import "$T_DIR/plain.json"
check "without --strict: imported" 0 "$RC"
has "without --strict: a warning" "$ERR" "warning: lines[0].password: line 1 is enabled"
has "without --strict: says the result" "$ERR" "it has no password now"

# ---- --dry-run: checked, nothing written
s=$(sum "$B")
run --flash "$B" import --dry-run "$EX/config.json"
check "dry run of the same file: exit 0" 0 "$RC"
has "dry run: unchanged" "$ERR" "dry run: the configuration is unchanged; nothing was written"
jq '.lines[0].label = "Changed"' "$EX/config.json" >"$T_DIR/changed.json"
run --flash "$B" import --dry-run "$T_DIR/changed.json"
has "dry run of a change: would change" "$ERR" "dry run: the configuration would change; nothing was written"
check "dry run: the image is untouched" "$s" "$(sum "$B")"
run --flash "$T_DIR/none.img" import --dry-run "$EX/config.json"
check "dry run on a missing image: exit 0" 0 "$RC"
[ ! -e "$T_DIR/none.img" ] && ok "dry run created no image" || fail "dry run created no image"
run --flash "$B" import "$EX/config.json"
has "importing the same file again: unchanged" "$ERR" "configuration unchanged"
check "unchanged import: the image is untouched" "$s" "$(sum "$B")"

# ---- --dns: a real lookup against dnsmasq
start_dnsmasq --local=/example.com/ --host-record=pbx.example.com,192.0.2.30 \
  || { fail "dnsmasq starts"; t_done; exit 1; }
D=$T_DIR/d.img
run --flash "$D" import --dns require --dns-server "$DNS_SERVER" "$EX/config.json"
check "--dns require with names that resolve: exit 0" 0 "$RC"
run --flash "$D" get line1.proxy.resolved
has "--dns require stores the name's targets" "$OUT" "192.0.2.30"
jq '.lines[0].proxy = "pbx.nowhere.example.com"' "$EX/config.json" >"$T_DIR/nx.json"
s=$(sum "$D")
run --flash "$D" import --dns require --dns-server "$DNS_SERVER" "$T_DIR/nx.json"
check "--dns require with a name that does not exist: exit 1" 1 "$RC"
has "--dns require: the field and the reason" "$ERR" \
  "error: lines[0].proxy: 'pbx.nowhere.example.com' does not exist in DNS (NXDOMAIN) (dns_nxdomain)"
check "--dns require refusal: the image is untouched" "$s" "$(sum "$D")"
run --flash "$D" import --dns warn --dns-server "$DNS_SERVER" "$T_DIR/nx.json"
check "--dns warn: imported" 0 "$RC"
has "--dns warn: the same as a warning" "$ERR" "warning: lines[0].proxy: 'pbx.nowhere.example.com' does not exist"
run --flash "$D" import --dns maybe "$EX/config.json"
check "--dns maybe: usage error" 2 "$RC"

t_done

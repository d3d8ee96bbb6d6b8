# The sipcfg CLI on real flash images, as the factory script and the SIP core use it.
source "$(dirname "$0")/../integration/lib.sh"

IMG=$T_DIR/phone.img
sum() { sha256sum "$1" | cut -c1-64; }

# --- a missing image: every reading command says so, exit 1, nothing created
for cmd in "get line1.user" dump export info; do
  run --flash "$IMG" $cmd
  check "$cmd on a missing image exits 1" 1 "$RC"
  case "$ERR" in *"$IMG"*"no such"*) ok "$cmd names the missing image";;
                 *) fail "$cmd names the missing image" "$ERR";; esac
done
[ ! -e "$IMG" ] && ok "no image created by reading commands" || fail "no image created by reading commands"

# --- usage errors exit 2
run --flash "$IMG" frobnicate;  check "unknown command exits 2" 2 "$RC"
run --flash "$IMG" get;         check "get without a key exits 2" 2 "$RC"

# --- a failed import of a new image creates nothing
cat >"$T_DIR/bad.json" <<'EOF'
{"format": 1, "lines": [{"proxy": "pbx example.com", "user": "1001"}]}
EOF
run --flash "$IMG" import "$T_DIR/bad.json"
check "import of a bad proxy exits 1" 1 "$RC"
case "$ERR" in *"lines[0].proxy.host"*"'pbx example.com' is not a host name"*) ok "import error names field and reason";;
               *) fail "import error names field and reason" "$ERR";; esac
[ ! -e "$IMG" ] && ok "failed import created no image" || fail "failed import created no image"

# --- passwd: only the digest hash is stored
printf 'S3cr3t-XYZ-pass\n' | "$SIPCFG" --flash "$IMG" passwd 2>"$T_DIR/err"
check "passwd exits 0" 0 "$?"
if grep -aq 'S3cr3t-XYZ-pass' "$IMG"; then fail "password not in the image in clear"; else ok "password not in the image in clear"; fi
HA1=$(printf 'admin:sipcfg:S3cr3t-XYZ-pass' | sha256sum | cut -c1-64)
run --flash "$IMG" get admin.ha1
check "admin.ha1 is SHA-256(admin:sipcfg:password)" "$HA1" "$OUT"
printf 'short\n' | "$SIPCFG" --flash "$IMG" passwd 2>"$T_DIR/err"
check "a too-short password is refused" 1 "$?"
run --flash "$IMG" get admin.ha1
check "refused passwd keeps the old hash" "$HA1" "$OUT"

# --- import a configuration: all or nothing
cat >"$T_DIR/good.json" <<'EOF'
{"format": 1, "lines": [
  {"enabled": true, "label": "Office", "display_name": "Alice Example", "user": "1001",
   "password": "sip-secret-1", "proxy": "sip:pbx.example.com;transport=tcp",
   "outbound_proxy": "[2001:db8::1]:5060", "backup_proxy": "192.0.2.7"},
  {"enabled": false, "user": "1002", "proxy": {"host": "pbx.example.com", "port": 5062, "transport": "udp"}}
]}
EOF
run --flash "$IMG" import "$T_DIR/good.json"
check "import of a good file exits 0" 0 "$RC"
run --flash "$IMG" get line1.proxy.host;        check "line1.proxy.host" "pbx.example.com" "$OUT"
run --flash "$IMG" get line1.proxy.transport;   check "line1.proxy.transport" "tcp" "$OUT"
run --flash "$IMG" get line1.outbound_proxy.host; check "IPv6 host stored without brackets" "2001:db8::1" "$OUT"
run --flash "$IMG" get line1.outbound_proxy.port; check "outbound port" "5060" "$OUT"
run --flash "$IMG" get line1.enabled;           check "booleans are 0/1" "1" "$OUT"
run --flash "$IMG" get line2.proxy.port;        check "line2 port" "5062" "$OUT"
run --flash "$IMG" get line1.registrar.host
check "an unset server has no keys (exit 1)" 1 "$RC"
run --flash "$IMG" get admin.ha1;               check "import keeps the admin password" "$HA1" "$OUT"

# dump: sorted, passwords as *
run --flash "$IMG" dump
check "dump exits 0" 0 "$RC"
check "dump is sorted" "$(printf '%s\n' "$OUT" | LC_ALL=C sort)" "$OUT"
case "$OUT" in *sip-secret-1*) fail "dump hides the SIP password";; *) ok "dump hides the SIP password";; esac
case "$OUT" in *"line1.password=*"*) ok "dump shows a set password as *";; *) fail "dump shows a set password as *" "$OUT";; esac
case "$OUT" in *"$HA1"*) fail "dump hides the admin hash";; *) ok "dump hides the admin hash";; esac

# export: GET /config's shape, no passwords, and it imports back unchanged
run --flash "$IMG" export
check "export exits 0" 0 "$RC"
check "export format" "1" "$(printf '%s' "$OUT" | jq -r .format)"
check "export proxy object" '{"host":"pbx.example.com","port":null,"transport":"tcp"}' \
      "$(printf '%s' "$OUT" | jq -c '.lines[0].proxy')"
check "export password_set" "true" "$(printf '%s' "$OUT" | jq -r '.lines[0].password_set')"
case "$OUT" in *sip-secret-1*) fail "export hides the SIP password";; *) ok "export hides the SIP password";; esac
printf '%s' "$OUT" >"$T_DIR/exported.json"
gen_before=$("$SIPCFG" --flash "$IMG" info | sed -n 's/^generation: \([0-9]*\).*/\1/p')
before=$(sum "$IMG")
run --flash "$IMG" import "$T_DIR/exported.json"
check "re-import of the export exits 0" 0 "$RC"
check "re-import of the export changes nothing on flash" "$before" "$(sum "$IMG")"
case "$ERR" in *unchanged*) ok "re-import says unchanged";; *) fail "re-import says unchanged" "$ERR";; esac
run --flash "$IMG" get line1.password;  check "re-import keeps the SIP password" "sip-secret-1" "$OUT"

# --- failed commands never change the image
before=$(sum "$IMG")
run --flash "$IMG" import "$T_DIR/bad.json";  check "bad import exits 1" 1 "$RC"
printf '{"format": 1, "lines": [}' >"$T_DIR/broken.json"
run --flash "$IMG" import "$T_DIR/broken.json"
check "malformed JSON exits 1" 1 "$RC"
case "$ERR" in *"line 1, column"*) ok "malformed JSON names line and column";; *) fail "malformed JSON names line and column" "$ERR";; esac
printf '{"format": 1, "lines": [{"user": "1", "user": "2"}]}' >"$T_DIR/dup.json"
run --flash "$IMG" import "$T_DIR/dup.json";  check "duplicate key exits 1" 1 "$RC"
printf '{"format": 1, "lines": [{"proxi": "pbx.example.com"}]}' >"$T_DIR/typo.json"
run --flash "$IMG" import "$T_DIR/typo.json"
check "unknown key exits 1" 1 "$RC"
case "$ERR" in *"lines[0].proxi"*unknown_field*) ok "unknown key named with its path";; *) fail "unknown key named with its path" "$ERR";; esac
run --flash "$IMG" get no.such.key;           check "absent key exits 1" 1 "$RC"
check "failed commands left the image byte for byte" "$before" "$(sum "$IMG")"

# --- info: banks, sequence numbers, CRC state, erase counts
run --flash "$IMG" info
check "info exits 0" 0 "$RC"
case "$OUT" in *"state: ok"*) ok "info says ok";; *) fail "info says ok" "$OUT";; esac
check "one bank is active" 1 "$(printf '%s\n' "$OUT" | grep -c '(active)')"
check "both banks valid after two commits" 2 "$(printf '%s\n' "$OUT" | grep -c '^bank [01]: valid')"

# --- the SIP core's view survives a power cut in the middle of a commit
cp "$IMG" "$T_DIR/pre-cut.img"
old_user=$("$SIPCFG" --flash "$IMG" get line2.user)
sed 's/"1002"/"2002"/' "$T_DIR/good.json" >"$T_DIR/next.json"
SIPCFG_FLASH_CUT_AFTER=700 "$SIPCFG" --flash "$IMG" import "$T_DIR/next.json" >/dev/null 2>"$T_DIR/err"
check "an import cut by power loss fails" 1 "$?"
run --flash "$IMG" get line2.user
check "after the cut the old configuration is read" "$old_user" "$OUT"
run --flash "$IMG" import "$T_DIR/next.json"
check "the next import works" 0 "$RC"
run --flash "$IMG" get line2.user;  check "and is read back" "2002" "$OUT"

# --- a corrupt image: a clear error, no crash
head -c 262144 /dev/urandom >"$T_DIR/junk.img"
cp "$T_DIR/phone.img" "$T_DIR/corrupt.img"
printf '\x00\x00\x00\x00\x00\x00\x00\x00' | dd of="$T_DIR/corrupt.img" bs=1 seek=0 conv=notrunc 2>/dev/null
run --flash "$T_DIR/corrupt.img" get line2.user
check "one bad bank: the other is read" 0 "$RC"
run --flash "$T_DIR/junk.img" get line1.user
check "a file that is no image exits 1" 1 "$RC"
[ -n "$ERR" ] && ok "and says why: $ERR" || fail "and says why"

t_done

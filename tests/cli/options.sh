#!/usr/bin/env bash
# The command lines as a factory script types them (API.md sections 7 and 8):
# a mistyped option or value is refused with its name and changes nothing;
# what import reads beside the fields (locks, provenance) is checked as
# strictly as the fields; the phone list of `provision` is text.
source "$(dirname "$0")/../integration/lib.sh"
has() { case "$2" in *"$3"*) ok "$1" ;; *) fail "$1" "'$3' not in: $2" ;; esac; }
sum() { sha256sum "$1" | cut -c1-64; }
gen() { "$SIPCFG" --flash "$1" info | sed -n 's/^generation: \([0-9]*\).*/\1/p'; }
IMG=$T_DIR/phone.img

cat >"$T_DIR/a.json" <<'EOF'
{"format": 1, "lines": [{"enabled": true, "user": "1001", "proxy": "192.0.2.10", "locked": ["proxy"]}]}
EOF
sed 's/1001/1002/' "$T_DIR/a.json" >"$T_DIR/b.json"

# ---- import --dns-server is checked whatever --dns says (default skip used
# to leave a mistyped server unread and import all the same)
run --flash "$IMG" import --dns-server nonsense "$T_DIR/a.json"
check "import --dns-server nonsense: usage error" 2 "$RC"
has "...names the option and the value" "$ERR" "--dns-server 'nonsense': expected HOST:PORT"
[ ! -e "$IMG" ] && ok "...no image created" || fail "...no image created"
run --flash "$IMG" import --dns-server 127.0.0.1:0 "$T_DIR/a.json"
check "import --dns-server port 0: usage error" 2 "$RC"
run --flash "$IMG" import --dns-server 127.0.0.1:53 "$T_DIR/a.json"
check "import --dns-server HOST:PORT (skip: no lookup needed)" 0 "$RC"
s=$(sum "$IMG")
run --flash "$IMG" import --dns require --dns-server '127.0.0.1:53,' "$T_DIR/b.json"
check "import --dns require --dns-server with an empty entry: usage error" 2 "$RC"
check "...the image is untouched" "$s" "$(sum "$IMG")"

# ---- misspelt or unknown options of each command: exit 2, the image as it was
for args in "import --dryrun $T_DIR/b.json" "import --dns=maybe $T_DIR/b.json" \
            "import $T_DIR/b.json $T_DIR/a.json" "export --format xml" "export --line 1" \
            "export --format baresip --line 0" "export --secrets" "dump extra" "info extra"; do
  run --flash "$IMG" $args
  check "sipcfg $args: usage error" 2 "$RC"
done
check "...none of them wrote" "$s" "$(sum "$IMG")"

# ---- import --dry-run on an existing image: nothing written, byte for byte
g=$(gen "$IMG")
run --flash "$IMG" import --dry-run "$T_DIR/b.json"
check "import --dry-run of a change: exit 0" 0 "$RC"
has "...says it would change" "$ERR" "would change"
check "...the image byte for byte" "$s" "$(sum "$IMG")"
check "...the generation" "$g" "$(gen "$IMG")"
run --flash "$IMG" get line1.user
check "...the old value is read" 1001 "$OUT"

# ---- locks through import (the CLI's channel of PUT /config)
run --flash "$IMG" get line1.locked.proxy
case "$OUT" in "image 20"*Z) ok "import locks the proxy (by image, since when)";; *) fail "import locks the proxy" "$OUT";; esac
run --flash "$IMG" import "$T_DIR/b.json"
check "import may change a locked field (it is the image's writer)" 0 "$RC"
run --flash "$IMG" get line1.user; check "...read back" 1002 "$OUT"
printf '{"format": 1, "lines": [{"enabled": true, "user": "1002", "proxy": "192.0.2.10"}]}' >"$T_DIR/nolocks.json"
run --flash "$IMG" import "$T_DIR/nolocks.json"
has "a line without \"locked\" keeps its locks: no change" "$ERR" "configuration unchanged"
check "...still locked" '["proxy"]' "$("$SIPCFG" --flash "$IMG" export | jq -c '.lines[0].locked')"
s=$(sum "$IMG")
for bad in '"locked": "proxy"|lines[0].locked|invalid_type' '"locked": ["proxi"]|lines[0].locked[0]|unknown_field' \
           '"locked": [7]|lines[0].locked[0]|invalid_type' '"locked": null|lines[0].locked|invalid_type'; do
  IFS='|' read -r member path code <<<"$bad"
  printf '{"format": 1, "lines": [{"user": "1002", "proxy": "192.0.2.10", %s}]}' "$member" >"$T_DIR/l.json"
  run --flash "$IMG" import "$T_DIR/l.json"
  check "import $member: exit 1" 1 "$RC"
  has "...names $path ($code)" "$ERR" "error: $path: "
  has "...with the code" "$ERR" "($code)"
done
check "...none of them wrote" "$s" "$(sum "$IMG")"
printf '{"format": 1, "lines": [{"user": "1002", "proxy": "192.0.2.10", "locked": []}]}' >"$T_DIR/unlock.json"
run --flash "$IMG" import "$T_DIR/unlock.json"
has "\"locked\": [] unlocks: a change" "$ERR" "configuration saved"
run --flash "$IMG" get line1.locked.proxy
check "...no lock key left" 1 "$RC"

# ---- provenance in an import file: kept when it is one, refused when it is
# not (it used to be skipped record by record, so a typo silently became
# "image, now" on flash)
s=$(sum "$IMG")
for bad in '"usr": {"source": "api", "at": null}|lines[0].provenance.usr|unknown_field' \
           '"user": {"source": "hacker", "at": null}|lines[0].provenance.user.source|invalid_provenance' \
           '"user": {"source": "api", "at": "yesterday"}|lines[0].provenance.user.at|invalid_provenance' \
           '"user": {"source": "api", "at": 5}|lines[0].provenance.user.at|invalid_type' \
           '"user": {"source": "api", "at": null, "by": "me"}|lines[0].provenance.user.by|unknown_field' \
           '"user": {"at": null}|lines[0].provenance.user.source|missing_field' \
           '"user": "api"|lines[0].provenance.user|invalid_type'; do
  IFS='|' read -r rec path code <<<"$bad"
  printf '{"format": 1, "lines": [{"user": "1003", "proxy": "192.0.2.10", "provenance": {%s}}]}' "$rec" >"$T_DIR/p.json"
  run --flash "$IMG" import "$T_DIR/p.json"
  check "import provenance {$rec}: exit 1" 1 "$RC"
  has "...names $path" "$ERR" "error: $path: "
  has "...with the code $code" "$ERR" "($code)"
done
check "...none of them wrote" "$s" "$(sum "$IMG")"
printf '{"format": 1, "lines": [{"user": "1003", "proxy": "192.0.2.10", "provenance": {"user": {"source": "api", "at": "2026-01-02T03:04:05Z"}, "password_set": {"source": "default", "at": null}}}]}' >"$T_DIR/p.json"
run --flash "$IMG" import "$T_DIR/p.json"
check "a well-formed provenance is taken: exit 0" 0 "$RC"
run --flash "$IMG" get line1.provenance.user
check "...and kept as the file says" "api 2026-01-02T03:04:05Z" "$OUT"
"$SIPCFG" --flash "$IMG" export >"$T_DIR/export.json"
run --flash "$IMG" import "$T_DIR/export.json"
has "an export imports back (its provenance is well-formed): unchanged" "$ERR" "configuration unchanged"

# ---- provision: the phone list is text; a NUL would cut a value short
# ("10<NUL>01" was provisioned as user "10"). Checked before any phone.
printf '{"format": 1, "lines": [{"user": "{{user}}"}]}' >"$T_DIR/t.json"
printf 'address,admin_password,user\n127.0.0.1:1,Factory-Pass-1,10\00001\n' >"$T_DIR/nul.csv"
run provision --template "$T_DIR/t.json" --phones "$T_DIR/nul.csv" --dry-run
check "provision: a NUL byte in the CSV: exit 1" 1 "$RC"
check "...said where, before any phone" "sipcfg provision: $T_DIR/nul.csv:2: a NUL byte: the phone list must be text" "$ERR"
check "...no phone contacted" "" "$OUT"
printf 'address,admin_password,user\n127.0.0.1:1,Factory-Pass-1,"10\00001"\n' >"$T_DIR/nulq.csv"
run provision --template "$T_DIR/t.json" --phones "$T_DIR/nulq.csv" --dry-run
check "provision: a NUL byte in a quoted field: exit 1" 1 "$RC"
check "...no phone contacted" "" "$OUT"

# ---- provision: two rows for one phone are found however the address is
# written (host case, leading zeros, the default port, a final '/'); each
# later row fails on its own, never contacted
printf 'address,admin_password,user\n127.0.0.1:1,P-1,a\nhttp://127.0.0.1:0001/,P-1,b\nLOCALHOST:1,P-1,c\nlocalhost:1,P-1,d\n127.0.0.2,P-1,e\nhttp://127.0.0.2:80,P-1,f\nhttps://127.0.0.2,P-1,g\n' >"$T_DIR/dup.csv"
run provision --template "$T_DIR/t.json" --phones "$T_DIR/dup.csv" --dry-run --jobs 1
check "provision with duplicate phones: exit 1" 1 "$RC"
for l in "3|2|http://127.0.0.1:1" "5|4|http://LOCALHOST:1" "7|6|http://127.0.0.2"; do
  IFS='|' read -r dup first url <<<"$l"
  has "dup.csv:$dup is the phone of line $first" "$OUT" "(dup.csv:$dup): FAILED: the same phone as line $first ($url)"
done
check "...the others are contacted (http and https of one host are two phones)" 4 "$(printf '%s\n' "$OUT" | grep -c 'unreachable')"

# ---- what a command prints is its result: a failed write of it is exit 1
# (get, dump, info and the baresip export said 0 with nothing written)
F=$T_DIR/full.img
"$SIPCFG" --flash "$F" import "$T_DIR/a.json" 2>/dev/null
if [ -w /dev/full ]; then
  for c in "get line1.user" dump info export "export --format baresip"; do
    "$SIPCFG" --flash "$F" $c >/dev/null 2>&1
    check "$c to a file: exit 0" 0 "$?"
    "$SIPCFG" --flash "$F" $c >/dev/full 2>"$T_DIR/err"
    check "$c to a full disk: exit 1" 1 "$?"
    has "...says so" "$(cat "$T_DIR/err")" "writing to standard output failed"
  done
else
  fail "/dev/full is there to write to"
fi

# ---- passwd reads one line; a NUL byte in it is refused (fgets used to stop
# there, so "Zq9-unique-1<NUL>tail" set the password "Zq9-unique-1" in silence)
P=$T_DIR/pw.img
printf 'Zq9-unique-1\000tail\n' | "$SIPCFG" --flash "$P" passwd 2>"$T_DIR/err"
check "passwd with a NUL byte: exit 1" 1 "$?"
has "...says why" "$(cat "$T_DIR/err")" "NUL byte"
[ ! -e "$P" ] && ok "...no image written" || fail "...no image written"
printf 'Valid-Pass-1\r\n' | "$SIPCFG" --flash "$P" passwd 2>"$T_DIR/err"
check "passwd: a CRLF line" 0 "$?"
check "...the hash is the line's, without CR" "$(printf 'admin:sipcfg:Valid-Pass-1' | sha256sum | cut -c1-64)" \
  "$("$SIPCFG" --flash "$P" get admin.ha1)"
printf 'Valid-Pass-2' | "$SIPCFG" --flash "$P" passwd 2>"$T_DIR/err"
check "passwd: no final newline" "$(printf 'admin:sipcfg:Valid-Pass-2' | sha256sum | cut -c1-64)" \
  "$("$SIPCFG" --flash "$P" get admin.ha1)"
s=$(sum "$P")
printf '' | "$SIPCFG" --flash "$P" passwd 2>"$T_DIR/err"
check "passwd: nothing on stdin: exit 1" 1 "$?"
python3 -c "print('Zq' * 65)" | "$SIPCFG" --flash "$P" passwd 2>"$T_DIR/err"
check "passwd: 130 bytes: exit 1" 1 "$?"
check "...the image as it was" "$s" "$(sum "$P")"

# ---- writing into a directory that does not exist: said as such (it used to
# be "no such flash image", though the image would have been created)
for how in import passwd; do
  if [ $how = import ]; then run --flash "$T_DIR/no/such/dir.img" import "$T_DIR/a.json"
  else printf 'Valid-Pass-9\n' | "$SIPCFG" --flash "$T_DIR/no/such/dir.img" passwd >"$T_DIR/out" 2>"$T_DIR/err"; RC=$?; ERR=$(cat "$T_DIR/err"); fi
  check "$how into a missing directory: exit 1" 1 "$RC"
  check "...says the directory is missing" "sipcfg: $T_DIR/no/such/dir.img: its directory does not exist" "$ERR"
done
timeout 10 "$SIPCFGD" --listen "127.0.0.1:0" --flash "$T_DIR/no/such/dir.img" 2>"$T_DIR/err"
check "sipcfgd --flash in a missing directory: exit 1" 1 "$?"
check "...says the directory is missing" "sipcfgd: --flash: $T_DIR/no/such/dir.img: its directory does not exist" "$(cat "$T_DIR/err")"

# ---- an empty file (as mktemp makes) where an image is to be made: it is
# formatted, as a missing one is created (it was refused as "not a sipcfg
# flash image", though 0 bytes hold nothing to keep)
E=$(mktemp "$T_DIR/empty.XXXXXX")
run --flash "$E" get line1.user
check "get on an empty file: exit 1" 1 "$RC"
run --flash "$E" import --dry-run "$T_DIR/a.json"
check "import --dry-run onto an empty file: exit 0" 0 "$RC"
check "...leaves it empty" 0 "$(stat -c %s "$E")"
run --flash "$E" import "$T_DIR/a.json"
check "import onto an empty file: exit 0" 0 "$RC"
run --flash "$E" get line1.user
check "...read back" 1001 "$OUT"
E2=$(mktemp "$T_DIR/empty.XXXXXX")
port=$(free_port)
"$SIPCFGD" --listen "127.0.0.1:$port" --flash "$E2" 2>"$T_DIR/d.log" &
dpid=$!; T_PIDS+=("$dpid")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
check "sipcfgd on an empty file (mktemp) serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
has "...and prints the first password" "$(cat "$T_DIR/d.log")" "generated one: user admin, password"
kill "$dpid"; wait "$dpid" 2>/dev/null
run --flash "$E2" get admin.ha1
check "...which it stored in the formatted image" 0 "$RC"
printf 'not an image\n' >"$T_DIR/text.img"
timeout 10 "$SIPCFGD" --listen "127.0.0.1:0" --flash "$T_DIR/text.img" 2>"$T_DIR/err"
check "a file that is not empty and no image is still refused" 1 "$?"
check "...and left as it was" "not an image" "$(cat "$T_DIR/text.img")"

# ---- sipcfgd: each bad option named, exit 2, no image made
D=$T_DIR/d.img
for args in "-x" "--bogus" "--lines" "--lines 0" "--listen ::1:8080" "--dns-server nonsense" "extra"; do
  timeout 10 "$SIPCFGD" --listen "127.0.0.1:$(free_port)" --flash "$D" $args 2>"$T_DIR/err" </dev/null
  check "sipcfgd $args: exit 2" 2 "$?"
done
timeout 10 "$SIPCFGD" --flash "$D" -x 2>"$T_DIR/err"
check "sipcfgd -x: an unknown option (it was said to need a value)" "sipcfgd: -x: unknown option" "$(head -1 "$T_DIR/err")"
timeout 10 "$SIPCFGD" --flash "$D" --lines 2>"$T_DIR/err"
check "sipcfgd --lines (last): needs a value" "sipcfgd: --lines: needs a value" "$(head -1 "$T_DIR/err")"
[ ! -e "$D" ] && ok "refused starts made no image" || fail "refused starts made no image"

t_done

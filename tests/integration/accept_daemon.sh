#!/usr/bin/env bash
# Acceptance of the daemon's and the CLI's outside (API.md sections 3, 5, 7, 8):
# command line, first start, Host check, sessions, status, the CLI commands,
# the daemon and the CLI on one image, restart, kill -9 and power cuts.
# Loopback only; every daemon started here is killed by PID (lib.sh).
source "$(dirname "$0")/lib.sh"

J='Content-Type: application/json'
# sipcfgd_fails NAME EXPECTED-EXIT ARGS...: a start that must fail at once.
sipcfgd_fails() {
  local name=$1 want=$2; shift 2
  timeout 10 "$SIPCFGD" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
  check "$name: exit $want" "$want" "$?"
  if [ -s "$T_DIR/err" ]; then ok "$name: says why"; else fail "$name: says why" "stderr empty"; fi
}
gen_of() { "$SIPCFG" --flash "$1" info | sed -n 's/^generation: \([0-9]*\).*/\1/p'; }

# ---- section 7: the command line ----
FRESH=$T_DIR/fresh.img
sipcfgd_fails "--lines 0" 2 --flash "$FRESH" --lines 0
sipcfgd_fails "--lines 17" 2 --flash "$FRESH" --lines 17
sipcfgd_fails "--lines abc" 2 --flash "$FRESH" --lines abc
sipcfgd_fails "--listen without port" 2 --flash "$FRESH" --listen 127.0.0.1
sipcfgd_fails "--listen port 65536" 2 --flash "$FRESH" --listen 127.0.0.1:65536
sipcfgd_fails "--dns-server not an address" 2 --flash "$FRESH" --dns-server bogus
sipcfgd_fails "--dns-timeout-ms 0" 2 --flash "$FRESH" --dns-timeout-ms 0
sipcfgd_fails "--tls-cert without --tls-key" 2 --flash "$FRESH" --tls-cert /dev/null
sipcfgd_fails "--www of a missing directory" 2 --flash "$FRESH" --www "$T_DIR/no-such-dir"
sipcfgd_fails "an unknown option" 2 --flash "$FRESH" --frobnicate
check "a refused start creates no image" "no" "$([ -e "$FRESH" ] && echo yes || echo no)"
"$SIPCFGD" --help >"$T_DIR/out" 2>&1
check "--help exits 0" "0" "$?"
grep -q -- '--allow-host' "$T_DIR/out" && ok "--help lists the options" || fail "--help lists the options"

# ---- first start on an image without password ----
FLASH=$T_DIR/first.img
start_fresh --lines 2 || { fail "first start"; t_done; exit 1; }
check "first start prints the password once" "1" "$(grep -c 'generated one' "$T_DIR/sipcfgd.log")"
api GET /status
check_status "the printed password logs in" 200
check_json "--lines 2: the status says 2 lines" '.lines' 2
api GET /lines
check_json "--lines 2: two lines" '.lines | length' 2
api GET /lines/3
check_status "--lines 2: line 3 is 404" 404
api GET /config
check "--lines 2: export is GET /config" "$(printf '%s' "$BODY" | jq -S -c .)" \
  "$("$SIPCFG" --flash "$FLASH" export | jq -S -c .)"
check "the password is not in the image" "0" "$(grep -c -F -- "$ADMIN_PASS" "$FLASH")"
FIRST_PASS=$ADMIN_PASS
FIRST_PORT=$PORT
# A second daemon on the same port fails: it must not print (or store) a password.
rm -f "$T_DIR/second.img"
timeout 10 "$SIPCFGD" --flash "$T_DIR/second.img" --listen "127.0.0.1:$FIRST_PORT" 2>"$T_DIR/err"
check "port in use: exit 1" "1" "$?"
check "port in use: no password printed" "0" "$(grep -c 'generated' "$T_DIR/err")"
check "port in use: no password stored" "1" \
  "$("$SIPCFG" --flash "$T_DIR/second.img" get admin.ha1 >/dev/null 2>&1; echo $?)"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "SIGTERM: exit 0" "0" "$?"
grep -q 'SIGTERM: stopping' "$T_DIR/sipcfgd.log" && ok "SIGTERM is logged" || fail "SIGTERM is logged"
ADMIN_PASS=$FIRST_PASS
NO_PASSWD=1 start_daemon --lines 16
check "a restart prints no password" "0" "$(grep -c 'generated' "$T_DIR/sipcfgd.log")"
api GET /lines
check_json "--lines 16: sixteen lines" '.lines | length' 16
api GET /lines/16
check_status "--lines 16: line 16" 200
api GET /lines/17
check_status "--lines 16: line 17 is 404" 404
# A background job of a script starts with SIGINT ignored: sipcfgd must still stop on it.
kill -INT "$DAEMON_PID"
timeout 10 tail --pid="$DAEMON_PID" -f /dev/null
wait "$DAEMON_PID"
check "SIGINT: exit 0" "0" "$?"
grep -q 'SIGINT: stopping' "$T_DIR/sipcfgd.log" && ok "SIGINT is logged" || fail "SIGINT is logged"

# ---- --www DIR serves the page's files from disk ----
mkdir -p "$T_DIR/www"
cp "$SIPCFG_TOP"/www/* "$T_DIR/www/"
printf '/* edited on disk */\n' >>"$T_DIR/www/app.css"
start_daemon --www "$T_DIR/www"
check "--www DIR: the file from disk" "/* edited on disk */" "$(curl -s "$BASE/app.css" | tail -1)"
check "--www DIR: the page" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/")"
check "--www DIR: the generated field table still served" "proxy" \
  "$(curl -s "$BASE/fields.json" | jq -r '.[] | select(.name == "proxy") | .name')"
stop_daemon

# ---- the main image for the rest ----
FLASH=$T_DIR/flash.img
ADMIN_PASS=Accept-Pass-123
start_daemon --allow-host phone.example || { fail "start"; t_done; exit 1; }

# ---- Host check (DNS rebinding) ----
host_code() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $1" "$BASE$2"; }
check "Host evil.example: 421" 421 "$(host_code evil.example /)"
check "Host evil.example:port on the API: 421" 421 "$(host_code "evil.example:$PORT" /api/v1/status)"
check "Host 1.2.3.4.nip.io: 421" 421 "$(host_code 1.2.3.4.nip.io /)"
check "Host localhost:port" 200 "$(host_code "localhost:$PORT" /)"
check "Host localhost" 200 "$(host_code localhost /)"
check "Host 127.0.0.1" 200 "$(host_code 127.0.0.1 /)"
check "Host 192.168.1.50:port" 200 "$(host_code "192.168.1.50:$PORT" /)"
check "Host [::1]" 200 "$(host_code '[::1]' /)"
check "Host [::1]:port" 200 "$(host_code "[::1]:$PORT" /)"
check "--allow-host phone.example" 200 "$(host_code phone.example /)"
check "--allow-host phone.example:port" 200 "$(host_code "phone.example:$PORT" /)"
check "--allow-host is not a suffix match" 421 "$(host_code evil.phone.example /)"

# ---- GET /status, GET /openapi.json ----
api GET /status
check_status "GET /status" 200
check_json "status: members" '[has("version"), has("uptime_s"), (.store | has("generation"), has("active_bank"), has("erase_counts"), has("saved_at"))] | all' true
check_json "status: types" '[(.version|type), (.uptime_s|type), (.store.generation|type), (.store.active_bank|type), (.store.erase_counts|type), (.store.saved_at|type)] | join(",")' \
  "string,number,number,number,array,string"
check "status: the generation is the image's" "$(gen_of "$FLASH")" "$(printf '%s' "$BODY" | jq -r .store.generation)"
api GET /openapi.json
check_status "GET /openapi.json" 200
check_json "openapi: a document" '.openapi | startswith("3")' true
check_json "openapi: lists /session" '.paths | has("/session")' true

# ---- sessions ----
LOGIN='{"username":"admin","password":"'"$ADMIN_PASS"'"}'
login
check_status "POST /session" 201
check_json "session: body" 'keys | join(",")' "csrf_token,expires_in"
check_json "session: expires_in" '.expires_in' 1800
SC=$(header Set-Cookie)
case "$SC" in *HttpOnly*) ok "cookie HttpOnly" ;; *) fail "cookie HttpOnly" "$SC" ;; esac
case "$SC" in *SameSite=Strict*) ok "cookie SameSite=Strict" ;; *) fail "cookie SameSite=Strict" "$SC" ;; esac
sreq GET /api/v1/lines/1
check_status "cookie reads" 200
req PATCH '/api/v1/lines/1?dns=skip' -H "Cookie: sid=$SID" -H "$J" --data-binary '{"label":"x"}'
check_status "cookie write without X-CSRF-Token: 403" 403
sreq PATCH '/api/v1/lines/1?dns=skip' -H "$J" --data-binary '{"label":"S"}'
check_status "cookie write with X-CSRF-Token" 200
req GET "/api/v1/lines?sid=$SID"
check_status "session id in the query string: 401" 401
sreq DELETE /api/v1/session
check_status "logout: 204" 204
sreq GET /api/v1/lines/1
check_status "after logout: 401" 401
req GET /api/v1/lines -H 'X-Requested-With: sipcfg'
if grep -qi '^WWW-Authenticate' "$T_DIR/headers"; then fail "the page's 401 has no challenge (no browser dialog)"
else ok "the page's 401 has no challenge (no browser dialog)"; fi

# ---- 415 / 413 / security headers ----
api PUT '/lines/1?dns=skip' -H 'Content-Type: text/plain' --data-binary '{"label":"x"}'
check_status "text/plain: 415" 415
api PUT '/lines/1?dns=skip' -H 'Content-Type: application/merge-patch+json' --data-binary '{"label":"x"}'
check_status "PUT as merge-patch: 415" 415
api PATCH '/lines/1?dns=skip' -H 'Content-Type: application/merge-patch+json' --data-binary '{"label":"M"}'
check_status "PATCH as merge-patch" 200
head -c 70000 /dev/zero | tr '\0' ' ' >"$T_DIR/big"
api PUT '/lines/1?dns=skip' -H "$J" --data-binary @"$T_DIR/big"
check_status "a 70000-byte body: 413" 413
for p in / /api/v1/status /api/v1/nope; do
  curl -s -o /dev/null -D "$T_DIR/h" --digest -u "admin:$ADMIN_PASS" "$BASE$p"
  n=$(awk '/^HTTP/{n=0} /^(X-Content-Type-Options: nosniff|X-Frame-Options: DENY|Cache-Control: no-store|Content-Security-Policy: .*script-src .self.)/{n++} END{print n}' \
      <(tr -d '\r' <"$T_DIR/h"))
  check "security headers on $p" 4 "$n"
done

# ---- section 8: the CLI ----
api PUT '/lines/2?dns=skip' -H "$J" --data-binary \
  '{"enabled":true,"label":"Two","user":"1002","password":"sip-secret-2","proxy":"192.0.2.7:5062"}'
check_status "PUT line 2" 200
check "CLI get reads the API's write" "192.0.2.7" "$("$SIPCFG" --flash "$FLASH" get line2.proxy.host)"
check "CLI get: boolean as 1" "1" "$("$SIPCFG" --flash "$FLASH" get line2.enabled)"
check "CLI get: a port" "5062" "$("$SIPCFG" --flash "$FLASH" get line2.proxy.port)"
"$SIPCFG" --flash "$FLASH" get line2.no.such.key >/dev/null 2>&1
check "CLI get of an absent key: exit 1" 1 "$?"
"$SIPCFG" --flash "$FLASH" get line2.registrar.host >/dev/null 2>&1
check "an unset server has no keys" 1 "$?"
"$SIPCFG" --flash "$FLASH" dump >"$T_DIR/dump"
LC_ALL=C sort -c "$T_DIR/dump" 2>/dev/null && ok "dump is sorted" || fail "dump is sorted"
check "dump hides the SIP password" "line2.password=*" "$(grep '^line2.password=' "$T_DIR/dump")"
check "dump hides the admin hash" "admin.ha1=*" "$(grep '^admin.ha1=' "$T_DIR/dump")"
check "dump shows no password" 0 "$(grep -c 'sip-secret-2' "$T_DIR/dump")"
api GET /config
printf '%s' "$BODY" | jq -S . >"$T_DIR/api.json"
"$SIPCFG" --flash "$FLASH" export | jq -S . >"$T_DIR/cli.json"
check "export is GET /config" "" "$(diff "$T_DIR/api.json" "$T_DIR/cli.json")"
check "export has no password" 0 "$(grep -c 'sip-secret-2' "$T_DIR/cli.json")"
"$SIPCFG" --flash "$FLASH" info >"$T_DIR/info"
grep -q '^bank 0: ' "$T_DIR/info" && grep -q '^bank 1: ' "$T_DIR/info" && grep -q 'erases' "$T_DIR/info" &&
  grep -q 'crc' "$T_DIR/info" && ok "info: banks, CRC, erase counts" || fail "info" "$(cat "$T_DIR/info")"

# import all or nothing (also from stdin)
G0=$(gen_of "$FLASH")
jq '.lines[0].label = "half" | .lines[1].register_expires = 5' "$T_DIR/cli.json" |
  "$SIPCFG" --flash "$FLASH" import - 2>/dev/null
check "import of a bad file: exit 1" 1 "$?"
check "import of a bad file commits nothing" "$G0" "$(gen_of "$FLASH")"
check "import of a bad file: old label kept" "M" "$("$SIPCFG" --flash "$FLASH" get line1.label)"

# ---- the CLI beside the running daemon ----
api GET /lines/1                # the daemon keeps this answer (api/lines.c): it must not outlive the import
etag_before=$(header ETag)
jq '.lines[0].label = "From CLI"' "$T_DIR/cli.json" >"$T_DIR/import.json"
"$SIPCFG" --flash "$FLASH" import "$T_DIR/import.json" 2>/dev/null
check "import FILE beside the daemon: exit 0" 0 "$?"
api GET /lines/1
check_json "the daemon serves the CLI's import at once" '.label' "From CLI"
[ -n "$etag_before" ] && [ "$(header ETag)" != "$etag_before" ] && ok "the line's ETag follows the import at once" ||
  fail "the line's ETag follows the import" "before $etag_before, after $(header ETag)"
api GET /status
check "status follows the CLI's generation" "$(gen_of "$FLASH")" "$(printf '%s' "$BODY" | jq -r .store.generation)"
api PATCH '/lines/1?dns=skip' -H "$J" --data-binary '{"display_name":"After CLI"}'
check_status "the daemon's next write after an import is no 409" 200
check_json "that write builds on the import" '.line.label' "From CLI"
check "the CLI reads the write" "After CLI" "$("$SIPCFG" --flash "$FLASH" get line1.display_name)"
check "the import kept line 2's password" "sip-secret-2" "$("$SIPCFG" --flash "$FLASH" get line2.password)"
login
OLD_SID=$SID
printf 'Changed-By-CLI-1\n' | "$SIPCFG" --flash "$FLASH" passwd 2>/dev/null
check "passwd beside the daemon: exit 0" 0 "$?"
check "passwd stores only the HA1" "$(printf 'admin:sipcfg:Changed-By-CLI-1' | sha256sum | cut -d' ' -f1)" \
  "$("$SIPCFG" --flash "$FLASH" get admin.ha1)"
check "passwd: the password is not in the image" 0 "$(grep -c 'Changed-By-CLI-1' "$FLASH")"
api GET /status
check_status "the old password no longer works" 401
ADMIN_PASS=Changed-By-CLI-1
api GET /status
check_status "the CLI's new password works at once" 200
SID=$OLD_SID
sreq GET /api/v1/lines/1
check_status "a password change by the CLI ends sessions" 401
json_api PUT /admin/password '{"current":"Changed-By-CLI-1","new":"Accept-Pass-123"}'
check_status "PUT /admin/password: 204" 204
ADMIN_PASS=Accept-Pass-123
api GET /status
check_status "the API's new password works" 200
check "the CLI sees the API's password" "$(printf 'admin:sipcfg:Accept-Pass-123' | sha256sum | cut -d' ' -f1)" \
  "$("$SIPCFG" --flash "$FLASH" get admin.ha1)"

# ---- restart keeps everything ----
api GET /config
BEFORE=$(printf '%s' "$BODY" | jq -S -c .)
stop_daemon
start_daemon --allow-host phone.example
api GET /config
check "a restart keeps the configuration" "$BEFORE" "$(printf '%s' "$BODY" | jq -S -c .)"
api GET /lines/2
check_json "a restart keeps the SIP password" '.password_set' true

# ---- kill -9 during writes never loses the last good configuration ----
stop_daemon
for round in 1 2 3 4 5 6; do
  start_daemon >/dev/null 2>&1 || { fail "kill -9 round $round: start"; break; }
  ( for i in $(seq 1 300); do
      curl -s -o /dev/null --max-time 5 --digest -u "admin:$ADMIN_PASS" -X PATCH -H "$J" \
        --data-binary "{\"label\":\"r$round-$i\",\"display_name\":\"$(head -c 40 /dev/urandom | base64 | tr -dc a-z | head -c 30)\"}" \
        "$BASE/api/v1/lines/3?dns=skip"
    done ) &
  WRITER=$!
  sleep "0.$((RANDOM % 6 + 2))"
  kill -9 "$DAEMON_PID" 2>/dev/null
  wait "$DAEMON_PID" 2>/dev/null
  kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
  label=$("$SIPCFG" --flash "$FLASH" get line3.label 2>/dev/null)
  state=$("$SIPCFG" --flash "$FLASH" info | sed -n 's/^state: //p')
  if [ "$state" = ok ] && "$SIPCFG" --flash "$FLASH" export >/dev/null 2>&1 &&
     [ "$("$SIPCFG" --flash "$FLASH" get line2.password)" = sip-secret-2 ] &&
     { [ -z "$label" ] || [[ $label == r[0-9]-* ]]; }; then
    ok "kill -9 round $round: a valid configuration (line3.label '$label')"
  else
    fail "kill -9 round $round" "state '$state', label '$label'"
  fi
done

# ---- SIGTERM in the middle of writes: a clean stop, a whole configuration ----
start_daemon
( for i in $(seq 1 300); do
    curl -s -o /dev/null --max-time 5 --digest -u "admin:$ADMIN_PASS" -X PATCH -H "$J" \
      --data-binary "{\"label\":\"t-$i\"}" "$BASE/api/v1/lines/3?dns=skip"
  done ) &
WRITER=$!
# Stop once a write has landed (bounded: 100 x 0.1 s), not after a fixed
# sleep: on a loaded machine no write may have landed within 0.4 s.
for _ in $(seq 1 100); do
  case "$("$SIPCFG" --flash "$FLASH" get line3.label 2>/dev/null)" in t-*) break ;; esac
  sleep 0.1
done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "SIGTERM during writes: exit 0" 0 "$?"
kill "$WRITER" 2>/dev/null; wait "$WRITER" 2>/dev/null
label=$("$SIPCFG" --flash "$FLASH" get line3.label 2>/dev/null)
case "$label" in t-*) ok "SIGTERM during writes: a whole configuration ($label)" ;;
  *) fail "SIGTERM during writes: a whole configuration" "line3.label '$label'" ;; esac
check "SIGTERM during writes: both banks readable or one good" ok \
  "$("$SIPCFG" --flash "$FLASH" info | sed -n 's/^state: //p')"

# ---- power cut inside the daemon's commit (the flash emulation's variable) ----
G0=$(gen_of "$FLASH")
L0=$("$SIPCFG" --flash "$FLASH" get line1.label)
SIPCFG_FLASH_CUT_AFTER=700 start_daemon
api PATCH '/lines/1?dns=skip' -H "$J" --data-binary '{"label":"cut short"}'
check_status "a write cut by a power loss: 507" 507
stop_daemon
check "after the cut: the old generation" "$G0" "$(gen_of "$FLASH")"
check "after the cut: the old label" "$L0" "$("$SIPCFG" --flash "$FLASH" get line1.label)"
start_daemon
api GET /lines/1
check_json "after the cut the daemon serves the old label" '.label' "$L0"
api PATCH '/lines/1?dns=skip' -H "$J" --data-binary '{"label":"after the cut"}'
check_status "after the cut the next write works" 200
stop_daemon
SIPCFG_FLASH_CUT_ERASE=0 SIPCFG_FLASH_TORN=garbage "$SIPCFG" --flash "$FLASH" import "$T_DIR/import.json" 2>/dev/null
check "CLI import cut in the erase: exit 1" 1 "$?"
check "CLI import cut: the previous label" "after the cut" "$("$SIPCFG" --flash "$FLASH" get line1.label)"

# ---- a corrupt image: the CLI can re-provision it, and a running daemon follows ----
cp "$FLASH" "$T_DIR/corrupt.img"
BANK1=$(( ($(stat -c %s "$FLASH") - 24) / 4100 / 2 * 4096 ))
printf '\0\0\0\0' | dd of="$T_DIR/corrupt.img" bs=1 seek=40 conv=notrunc 2>/dev/null
printf '\0\0\0\0' | dd of="$T_DIR/corrupt.img" bs=1 seek=$((BANK1 + 40)) conv=notrunc 2>/dev/null
"$SIPCFG" --flash "$T_DIR/corrupt.img" get line1.label >/dev/null 2>&1
check "a corrupt image: get exits 1" 1 "$?"
FLASH=$T_DIR/corrupt.img
NO_PASSWD=1 start_daemon
ADMIN_PASS=$(sed -n 's/.*generated one: user admin, password \(.*\)$/\1/p' "$T_DIR/sipcfgd.log")
api GET /status
check_json "a corrupt image: the daemon says so" '.store.state' corrupt
"$SIPCFG" --flash "$FLASH" import "$T_DIR/import.json" 2>/dev/null
check "import over a corrupt image" 0 "$?"
check "import over a corrupt image: read back" "From CLI" "$("$SIPCFG" --flash "$FLASH" get line1.label)"
api GET /lines/1
check_json "the daemon follows the import over a corrupt image" '.label' "From CLI"
check_status "its first-start password still works" 200
printf 'Corrupt-Fixed-12\n' | "$SIPCFG" --flash "$FLASH" passwd 2>/dev/null
check "passwd after that" 0 "$?"
ADMIN_PASS=Corrupt-Fixed-12
api GET /status
check_json "the daemon takes the CLI's password" '.store.state' ok
stop_daemon

# --- a daemon started with fewer --lines than the image holds keeps the others
FLASH=$T_DIR/eight.img
rm -f "$FLASH.passwd-set"
cat >"$T_DIR/eight.json" <<'EOF2'
{"format": 1, "lines": [{"user": "1001"}, {}, {}, {}, {}, {}, {}, {"user": "8008", "proxy": "192.0.2.8"}]}
EOF2
"$SIPCFG" --flash "$FLASH" import "$T_DIR/eight.json" 2>/dev/null
check "an 8-line image" "8008" "$("$SIPCFG" --flash "$FLASH" get line8.user)"
ADMIN_PASS=Eight-Lines-123
start_daemon --lines 2
json_api PUT '/lines/1?dns=skip' '{"user": "1111"}'
check_status "a write with --lines 2" 200
check "line 1 written" "1111" "$("$SIPCFG" --flash "$FLASH" get line1.user)"
check "line 8 kept in flash" "8008" "$("$SIPCFG" --flash "$FLASH" get line8.user)"
check "line 8's server kept in flash" "192.0.2.8" "$("$SIPCFG" --flash "$FLASH" get line8.proxy.host)"
stop_daemon

if grep -q 'ERROR: AddressSanitizer\|runtime error' "$T_DIR/sipcfgd.log"; then
  fail "no sanitizer report" "$(grep -m3 'ERROR\|runtime error' "$T_DIR/sipcfgd.log")"
else ok "no sanitizer report"; fi
t_done

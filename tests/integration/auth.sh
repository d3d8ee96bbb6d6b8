#!/usr/bin/env bash
# Authentication as users meet it (API.md section 5, THREATS.md C2-C5, D1-D5,
# E1): the first-start password, digest as curl does it, sessions with their
# cookie and CSRF token, logout, fixation, the login lockout, the password
# change, restart, TLS, and the daemon's command line. Real sipcfgd on free
# loopback ports.
. "$(dirname "$0")/lib.sh"

digest() {  # digest USER PASS PATH [curl args]: sets STATUS
  local u=$1 p=$2 path=$3; shift 3
  STATUS=$(curl -s -o /dev/null -w '%{http_code}' --digest -u "$u:$p" "$@" "$BASE/api/v1$path")
}
restart() { stop_daemon; NO_PASSWD=1 start_daemon "$@"; }
hex64() { [[ $1 =~ ^[0-9a-f]{64}$ ]] && echo yes || echo "no: '$1'"; }

# ---- C2: first start makes a random password, prints it once, stores its hash ----
start_fresh || { fail "daemon starts on a blank image"; t_done; exit 1; }
check "the first-start password is printed once" 1 "$(grep -c 'generated one: user admin, password' "$T_DIR/sipcfgd.log")"
check "it is 16 characters" 16 "${#ADMIN_PASS}"
check "the URL is printed" 1 "$(grep -c "^sipcfgd: listening on http://127.0.0.1:$PORT/\$" "$T_DIR/sipcfgd.log")"
if grep -aq -- "$ADMIN_PASS" "$FLASH"; then fail "the password is not in flash in clear"; else ok "the password is not in flash in clear"; fi
for p in admin "" user password 12345678; do
  digest admin "$p" /lines
  check "well-known password '$p' does not work" 401 "$STATUS"
done   # 5 failures: the address is locked now; a restart forgets (counters in RAM)
digest admin "$ADMIN_PASS" /lines
check "locked after 5 failed digest responses, even with the right password" 429 "$STATUS"
restart || { fail "restart"; t_done; exit 1; }
check "a restart prints no new password" 0 "$(grep -c 'generated one' "$T_DIR/sipcfgd.log")"

# ---- digest as curl does it ----
digest admin "$ADMIN_PASS" /lines
check "digest with the first-start password, after a restart" 200 "$STATUS"
api GET /lines
check_json "digest GET /lines" '.lines | length' 6
digest admin "wrong-password" /lines
check "digest with a wrong password" 401 "$STATUS"
digest root "$ADMIN_PASS" /lines
check "digest with a wrong user" 401 "$STATUS"
req GET /api/v1/lines
check "no credentials: 401" 401 "$STATUS"
check "... with a Digest SHA-256 challenge" yes \
  "$(header WWW-Authenticate | grep -q '^Digest realm="sipcfg",qop="auth",nonce="[0-9a-f]\{64,\}".*algorithm=sha-256' && echo yes)"
n1=$(header WWW-Authenticate | sed 's/.*nonce="\([^"]*\)".*/\1/')
req GET /api/v1/lines -H 'X-Requested-With: sipcfg'
check "the page's requests get 401 without a challenge (no browser dialog)" "401:" "$STATUS:$(header WWW-Authenticate)"
# Parallel digest clients of one URI get the same nonce from libmicrohttpd
# 0.9.75 and collide on nc=1: they get stale=true (curl retries), are not
# counted as failed logins, and all succeed (40: more than the old
# per-address connection limit of 16, which made such scripts fail).
pids=()
for i in $(seq 40); do
  curl -s -o "$T_DIR/par.$i" -w '%{http_code}' --max-time 20 --digest -u "admin:$ADMIN_PASS" \
    "$BASE/api/v1/lines" >"$T_DIR/par.$i.code" &
  pids+=($!)
done
wait "${pids[@]}"
check "40 parallel digest clients of one URI all succeed" 40 "$(cat "$T_DIR"/par.*.code | grep -o 200 | wc -l)"
digest admin "$ADMIN_PASS" /lines
check "... and did not lock the address" 200 "$STATUS"
# C5: replaying a captured Authorization header is refused.
authz=$(curl -s -o /dev/null -v --digest -u "admin:$ADMIN_PASS" "$BASE/api/v1/status" 2>&1 |
        sed -n 's/^> Authorization: \(Digest .*\)\r$/\1/p' | tail -1)
[ -n "$authz" ] && ok "captured a digest Authorization" || fail "captured a digest Authorization"
req GET /api/v1/status -H "Authorization: $authz"
check "a replayed digest response is refused" 401 "$STATUS"
restart || { fail "restart"; t_done; exit 1; }   # forget those failures
req GET /api/v1/lines
n2=$(header WWW-Authenticate | sed 's/.*nonce="\([^"]*\)".*/\1/')
[ -n "$n1" ] && [ "$n1" != "$n2" ] && ok "nonces differ across restarts (random nonce data)" || fail "nonces differ" "$n1"

# ---- sessions (D1-D5, E1) ----
login
check "login" 201 "$STATUS"
check "csrf_token is 256 random bits" yes "$(hex64 "$CSRF")"
check_json "expires_in" '.expires_in' 1800
check "session id is 256 random bits" yes "$(hex64 "$SID")"
cookie=$(header Set-Cookie)
check "cookie attributes over HTTP" "sid=$SID; Path=/; HttpOnly; SameSite=Strict" "$cookie"
check "login answer has no challenge" "" "$(header WWW-Authenticate)"
sid1=$SID; csrf1=$CSRF
login
[ "$SID" != "$sid1" ] && [ "$CSRF" != "$csrf1" ] && ok "every login has a fresh id and token" || fail "fresh id"
sid2=$SID; csrf2=$CSRF
sreq GET /api/v1/lines
check "GET with the session cookie" 200 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$SID"
check "GET needs no CSRF token" 200 "$STATUS"
req PATCH "/api/v1/lines/2?dns=skip" -H "Cookie: sid=$SID" -H 'Content-Type: application/json' --data-binary '{"label":"NoToken"}'
check "a write without X-CSRF-Token -> 403" 403 "$STATUS"
req PATCH "/api/v1/lines/2?dns=skip" -H "Cookie: sid=$SID" -H "X-CSRF-Token: $csrf1" -H 'Content-Type: application/json' \
  --data-binary '{"label":"OtherToken"}'
check "another session's token -> 403" 403 "$STATUS"
req PATCH "/api/v1/lines/2?dns=skip" -H "Cookie: sid=$SID" -H "X-CSRF-Token: ${CSRF:0:63}" -H 'Content-Type: application/json' \
  --data-binary '{"label":"ShortToken"}'
check "a truncated token -> 403" 403 "$STATUS"
req DELETE /api/v1/lines/2 -H "Cookie: sid=$SID"
check "DELETE without the token -> 403" 403 "$STATUS"
sreq PATCH "/api/v1/lines/2?dns=skip" -H 'Content-Type: application/json' --data-binary '{"label":"WithToken"}'
check "a write with the token" 200 "$STATUS"
api GET /lines/2
check_json "only the write with the token was stored" '.label' WithToken
req GET /api/v1/lines -H "Cookie: sid=$SID; sid=$SID"
check "two session cookies -> 401" 401 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$SID" -H "cookie: sid=$sid1"
check "two Cookie headers naming the session -> 401" 401 "$STATUS"
req GET "/api/v1/lines?sid=$SID"
check "a session id in the query string is ignored" 401 "$STATUS"
req GET "/api/v1/lines?sid=$SID&csrf_token=$CSRF" -H 'X-Requested-With: sipcfg'
check "... also with the token" 401 "$STATUS"
req GET /api/v1/lines -H "X-Session: $SID" -H "Authorization: Bearer $SID"
check "a session id in other headers is ignored" 401 "$STATUS"

# D1: fixation
attacker=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
req POST /api/v1/session -H "Cookie: sid=$attacker" -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"admin",password:$p}')"
check "login with a planted cookie" 201 "$STATUS"
new=$(header Set-Cookie | sed -n 's/^sid=\([^;]*\);.*/\1/p')
[ -n "$new" ] && [ "$new" != "$attacker" ] && ok "the planted id is not kept" || fail "planted id" "$new"
req GET /api/v1/lines -H "Cookie: sid=$attacker"
check "the planted id does not authenticate" 401 "$STATUS"
req POST /api/v1/session -H "Cookie: sid=$sid2" -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"admin",password:$p}')"
req GET /api/v1/lines -H "Cookie: sid=$sid2"
check "logging in again ends the session the client brought" 401 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$sid1"
check "other sessions live on" 200 "$STATUS"

# D3: logout
SID=$sid1; CSRF=$csrf1
req DELETE /api/v1/session -H "Cookie: sid=$SID"
check "logout without the token -> 403" 403 "$STATUS"
sreq DELETE /api/v1/session
check "logout" 204 "$STATUS"
case "$(header Set-Cookie)" in "sid=; Path=/; Max-Age=0"*) ok "logout clears the cookie" ;; *) fail "logout clears the cookie" "$(header Set-Cookie)" ;; esac
sreq GET /api/v1/lines
check "the old cookie after logout -> 401" 401 "$STATUS"
sreq DELETE /api/v1/session
check "logging out twice -> 401" 401 "$STATUS"

# Login answers: same for a wrong user and a wrong password; bad bodies.
login "wrong-password"
check "login with a wrong password" 401 "$STATUS"
body_pw=$BODY
check "no challenge on a failed login" "" "$(header WWW-Authenticate)"
check "no cookie on a failed login" "" "$(header Set-Cookie)"
req POST /api/v1/session -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"root",password:$p}')"
check "login with a wrong user" 401 "$STATUS"
check "the same answer whether the user or the password was wrong" "$body_pw" "$BODY"
req POST /api/v1/session -H 'Content-Type: application/json' --data-binary '{"username":"admin",'
check "malformed JSON -> 400" 400 "$STATUS"
check_json "... with line and column" '(.line|type)+","+(.column|type)' "number,number"
req POST /api/v1/session -H 'Content-Type: application/json' --data-binary '{"username":"admin","password":"x","remember":true}'
check "an unknown key -> 422" 422 "$STATUS"
check_json "... naming it" '.errors[0].field' remember
req POST /api/v1/session -H 'Content-Type: application/json' --data-binary '{"username":"admin"}'
check "no password -> 422" 422 "$STATUS"
req POST /api/v1/session -H 'Content-Type: application/json' --data-binary '{"username":"admin","password":1}'
check "a number as password -> 422" 422 "$STATUS"
req POST /api/v1/session -H 'Content-Type: application/json' --data-binary '{"username":"admin","username":"admin","password":"x"}'
check "duplicate keys -> 400" 400 "$STATUS"
req POST /api/v1/session -H 'Content-Type: text/plain' --data-binary '{"username":"admin","password":"x"}'
check "login as text/plain -> 415" 415 "$STATUS"
req POST /api/v1/session
check "login without a body -> 400" 400 "$STATUS"
req GET /api/v1/session
check "GET /session needs authentication" 401 "$STATUS"

# ---- password change (D3, D6) ----
restart || { fail "restart"; t_done; exit 1; }
login; sidA=$SID; csrfA=$CSRF
login; sidB=$SID; csrfB=$CSRF
NEWPASS='Sturdy-Horse-7391'
sreq PUT /api/v1/admin/password -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg n "$NEWPASS" '{current:"not-it",new:$n}')"
check "wrong current password -> 403" 403 "$STATUS"
sreq PUT /api/v1/admin/password -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c "$ADMIN_PASS" '{current:$c,new:"short"}')"
check "a too short new password -> 422" 422 "$STATUS"
check_json "... on field new" '.errors[0].field' new
sreq PUT /api/v1/admin/password -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c "$ADMIN_PASS" '{current:$c,new:"admin"}')"
check "a well-known new password -> 422" 422 "$STATUS"
sreq PUT /api/v1/admin/password -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c "$ADMIN_PASS" --arg n "$NEWPASS" '{current:$c,new:$n,extra:1}')"
check "an unknown key -> 422" 422 "$STATUS"
digest admin "$ADMIN_PASS" /lines
check "after refused changes the old password still works" 200 "$STATUS"
req PUT /api/v1/admin/password -H "Cookie: sid=$SID" -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c "$ADMIN_PASS" --arg n "$NEWPASS" '{current:$c,new:$n}')"
check "a password change needs the CSRF token" 403 "$STATUS"
sreq PUT /api/v1/admin/password -H 'Content-Type: application/json' \
  --data-binary "$(jq -cn --arg c "$ADMIN_PASS" --arg n "$NEWPASS" '{current:$c,new:$n}')"
check "password change" 204 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$sidA"
check "the change ends other sessions" 401 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$sidB"
check "the change ends this session too" 401 "$STATUS"
digest admin "$NEWPASS" /lines
check "the new password works with digest" 200 "$STATUS"
digest admin "$ADMIN_PASS" /lines
check "the old password does not" 401 "$STATUS"
OLDPASS=$ADMIN_PASS; ADMIN_PASS=$NEWPASS
login
check "login with the new password" 201 "$STATUS"
restart || { fail "restart"; t_done; exit 1; }
digest admin "$NEWPASS" /lines
check "the new password survives a restart" 200 "$STATUS"
if grep -aq -- "$NEWPASS" "$FLASH" || grep -q -- "$NEWPASS" "$T_DIR/sipcfgd.log"; then
  fail "the new password is neither in flash nor in the log"
else ok "the new password is neither in flash nor in the log"; fi

# ---- C3: lockout after 5 failures in 60 s (per address) ----
login; keep_sid=$SID
for i in 1 2 3 4 5; do
  login "wrong-$i"
  check "failed login $i -> 401" 401 "$STATUS"
done
login
check "6th attempt with the right password -> 429" 429 "$STATUS"
ra=$(header Retry-After)
[[ $ra =~ ^[0-9]+$ ]] && [ "$ra" -ge 1 ] && [ "$ra" -le 60 ] && ok "Retry-After $ra s" || fail "Retry-After 1..60" "'$ra'"
check_json "429 is problem+json" '.status' 429
digest admin "$ADMIN_PASS" /lines
check "digest with the right password while locked -> 429" 429 "$STATUS"
req PUT /api/v1/admin/password -H "Cookie: sid=$keep_sid" -H 'Content-Type: application/json' \
  --data-binary '{"current":"guess","new":"Another-Pass-123"}'
check "password change while locked: 403 (CSRF) or 429, never a guess" yes "$([ "$STATUS" = 403 ] || [ "$STATUS" = 429 ] && echo yes)"
req GET /api/v1/lines -H "Cookie: sid=$keep_sid"
check "a session from before the lock still works (it is no login attempt)" 200 "$STATUS"
# Another loopback address is another client (the lock is per address).
st=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 -H 'Content-Type: application/json' \
     --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"admin",password:$p}')" "$BASE/api/v1/session")
check "another address may still log in" 201 "$st"

# ---- corrupt image: both banks bad -> defaults, a warning, still serving ----
stop_daemon
python3 - "$FLASH" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
bank = 64 * 4096 // 2            # two banks of 128 KiB (FLASH_DEFAULT_BLOCKS)
for base in (0, bank):           # payload bytes of both banks: CRCs fail, magics stay
    for i in range(base + 200, base + 300):
        b[i] ^= 0x5a
open(p, 'wb').write(b)
PY
if start_fresh; then
  check "a corrupt image gives a clear warning" 1 "$(grep -c 'WARNING: .*corrupt' "$T_DIR/sipcfgd.log")"
  digest admin "$ADMIN_PASS" /lines
  check "and the daemon serves with a new password" 200 "$STATUS"
  api GET /status
  check_json "GET /status reports the corrupt store" '.store.state' corrupt
  api GET /lines/2
  check_json "the lines are factory defaults" '.label' ""
  json_api PATCH '/lines/2?dns=skip' '{"label":"after-corruption"}'
  check_status "a save on a corrupt image" 200
  api GET /status
  check_json "after the save the store is ok" '.store.state' ok
  restart || fail "restart after the save"
  digest admin "$ADMIN_PASS" /lines/2
  check "the generated password was saved with the first save" 200 "$STATUS"
else
  fail "the daemon starts on a corrupt image" "$(cat "$T_DIR/sipcfgd.log")"
fi
stop_daemon

# ---- the command line ----
"$SIPCFGD" --help >"$T_DIR/help" 2>&1
check "--help exits 0" 0 "$?"
grep -q -- '--allow-host' "$T_DIR/help" && ok "--help lists the options" || fail "--help lists the options"
"$SIPCFGD" --version >"$T_DIR/ver" 2>&1
check "--version exits 0" "0:sipcfgd" "$?:$(cut -d' ' -f1 "$T_DIR/ver")"
for bad in "--lines 0" "--lines 17" "--lines x" "--listen 127.0.0.1" "--listen nohost:80" "--listen 127.0.0.1:99999" \
           "--dns-timeout-ms 0" "--tls-cert /nonexistent" "--allow-host bad_name!" "--bogus" "--dns-server not-an-ip:53"; do
  # shellcheck disable=SC2086
  timeout 10 "$SIPCFGD" --flash "$T_DIR/cl.img" $bad >"$T_DIR/err" 2>&1
  rc=$?
  opt=${bad%% *}
  if [ "$rc" = 2 ] && grep -q -- "$opt" "$T_DIR/err"; then ok "'$bad' -> exit 2 naming $opt"
  else fail "'$bad' -> exit 2 naming $opt" "rc=$rc: $(head -2 "$T_DIR/err")"; fi
done

# ---- TLS (self-signed, made here) ----
if openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" -days 2 \
     -subj /CN=localhost >/dev/null 2>&1; then
  FLASH=$T_DIR/tls.img
  TPORT=$(free_port)
  "$SIPCFGD" --listen "127.0.0.1:$TPORT" --flash "$FLASH" --tls-cert "$T_DIR/cert.pem" \
    --tls-key "$T_DIR/key.pem" 2>"$T_DIR/tls.log" &
  DAEMON_PID=$!; T_PIDS+=("$DAEMON_PID")
  for _ in $(seq 100); do curl -sk -o /dev/null "https://127.0.0.1:$TPORT/" && break; sleep 0.1; done
  BASE="https://127.0.0.1:$TPORT"
  ADMIN_PASS=$(sed -n 's/.*generated one: user admin, password \(.*\)$/\1/p' "$T_DIR/tls.log")
  check "the TLS daemon prints an https URL" 1 "$(grep -c "listening on https://127.0.0.1:$TPORT/" "$T_DIR/tls.log")"
  req GET / -k
  check "the page over TLS" 200 "$STATUS"
  check "HSTS over TLS" "max-age=31536000" "$(header Strict-Transport-Security)"
  digest admin "$ADMIN_PASS" /lines -k
  check "digest over TLS" 200 "$STATUS"
  req POST /api/v1/session -k -H 'Content-Type: application/json' \
    --data-binary "$(jq -cn --arg p "$ADMIN_PASS" '{username:"admin",password:$p}')"
  check "login over TLS" 201 "$STATUS"
  tsid=$(header Set-Cookie | sed -n 's/^__Host-sid=\([^;]*\);.*/\1/p')
  check "cookie over TLS" "__Host-sid=$tsid; Path=/; HttpOnly; SameSite=Strict; Secure" "$(header Set-Cookie)"
  req GET /api/v1/lines -k -H "Cookie: __Host-sid=$tsid"
  check "the __Host-sid cookie authenticates" 200 "$STATUS"
  req GET /api/v1/lines -k -H "Cookie: sid=$tsid"
  check "over TLS the plain 'sid' name does not" 401 "$STATUS"
  st=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TPORT/")
  [ "$st" != 200 ] && ok "plain HTTP to the TLS port is not served ($st)" || fail "plain HTTP to the TLS port"
  stop_daemon
  wait "$DAEMON_PID" 2>/dev/null
  check "the TLS daemon stops on SIGTERM with status 0" 0 "$?"
else
  fail "openssl made a self-signed certificate"
fi

# ---- SIGTERM while requests wait for DNS: they are answered 503, the daemon exits 0 ----
silent_dns SILENT || fail "a silent DNS server starts"
FLASH=$T_DIR/term.img
start_fresh --dns-server "$SILENT" --dns-timeout-ms 20000 \
  || fail "start with a silent DNS server"
login
pids=()
for i in 1 2 3; do
  curl -s -o "$T_DIR/term.$i" -w '%{http_code}' --max-time 30 -H "Cookie: sid=$SID" -H "X-CSRF-Token: $CSRF" \
    -H 'Content-Type: application/json' --data-binary "{\"server\": \"h$i.silent.test\"}" \
    "$BASE/api/v1/resolve" >"$T_DIR/term.$i.code" &
  pids+=($!)
done
sleep 1
kill -TERM "$DAEMON_PID"
wait "${pids[@]}"
check "requests waiting for DNS at SIGTERM get 503" "503 503 503" \
  "$(cat "$T_DIR"/term.1.code) $(cat "$T_DIR"/term.2.code) $(cat "$T_DIR"/term.3.code)"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID" 2>/dev/null
check "... and the daemon exits 0" 0 "$?"
if grep -q 'Sanitizer\|runtime error\|suspended and answered' "$T_DIR/sipcfgd.log"; then
  fail "a clean stop" "$(grep -m3 'Sanitizer\|runtime error\|suspended' "$T_DIR/sipcfgd.log")"
else ok "a clean stop (no leak, no loop)"; fi

# ---- SIGINT also stops cleanly ----
FLASH=$T_DIR/int.img
start_fresh || fail "start for SIGINT"
kill -INT "$DAEMON_PID"
for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
wait "$DAEMON_PID" 2>/dev/null
check "SIGINT: exit status 0" 0 "$?"
grep -q 'SIGINT: stopping' "$T_DIR/sipcfgd.log" && ok "SIGINT is logged" || fail "SIGINT is logged"
if grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$T_DIR"/*.log; then
  fail "no sanitizer report" "$(grep -h -m3 'Sanitizer\|runtime error' "$T_DIR"/*.log)"
else ok "no sanitizer report"; fi
t_done

# Sourced by the integration tests: start and stop real servers on free
# loopback ports, and small assertions that print what a user would see.
# Every server started here is killed by PID on exit, even when a test fails.

set -u
: "${SIPCFG_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${SIPCFGD:=$SIPCFG_TOP/build/asan/sipcfgd}"
: "${SIPCFG:=$SIPCFG_TOP/build/asan/sipcfg}"

T_DIR=$(mktemp -d /tmp/sipcfg-test.XXXXXX)
T_PIDS=()
T_PASS=0
T_FAIL=0

t_cleanup() {
  local p
  # Safe under `set -e` too (bench.sh): a server that already ended is fine.
  for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
  for p in "${T_PIDS[@]+"${T_PIDS[@]}"}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$T_DIR"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP (or UDP with "udp") port on 127.0.0.1, chosen by the kernel.
free_port() {
  python3 - "$@" <<'PY' 2>/dev/null || shuf -i 20000-60000 -n 1
import socket, sys
kind = socket.SOCK_DGRAM if (len(sys.argv) > 1 and sys.argv[1] == "udp") else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
PY
}

# start_dnsmasq EXTRA-ARGS...: sets DNS_PORT and DNS_SERVER (127.0.0.1:PORT).
start_dnsmasq() {
  # dnsmasq binds the port for UDP and TCP: a port free for UDP may be taken
  # for TCP (or taken between the choice and the bind), so retry a few ports.
  local attempt i pid
  for attempt in 1 2 3 4 5; do
    DNS_PORT=$(free_port udp)
    rm -f "$T_DIR/dnsmasq.pid"
    /usr/sbin/dnsmasq --keep-in-foreground --port="$DNS_PORT" --listen-address=127.0.0.1 \
      --bind-interfaces --no-resolv --no-hosts --conf-file=/dev/null --local=/test/ \
      --pid-file="$T_DIR/dnsmasq.pid" "$@" 2>"$T_DIR/dnsmasq.log" &
    pid=$!
    T_PIDS+=("$pid")
    DNS_SERVER="127.0.0.1:$DNS_PORT"
    for i in $(seq 50); do
      if dig_ok; then return 0; fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    grep -q "Address already in use" "$T_DIR/dnsmasq.log" || break
  done
  echo "dnsmasq did not start: $(cat "$T_DIR/dnsmasq.log")" >&2
  return 1
}
dig_ok() {  # dnsmasq answers once its pid file exists and the port is bound
  [ -s "$T_DIR/dnsmasq.pid" ] && ss -lun 2>/dev/null | grep -q ":$DNS_PORT " 
}

# silent_dns VAR: a DNS server on loopback that never answers (a UDP socket
# nobody reads), killed on exit like every server here; VAR=127.0.0.1:PORT.
silent_dns() {
  local f="$T_DIR/silent.$RANDOM.port"
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(600)
' >"$f" &
  T_PIDS+=($!)
  for _ in $(seq 50); do [ -s "$f" ] && break; sleep 0.1; done
  [ -s "$f" ] || return 1
  printf -v "$1" '127.0.0.1:%s' "$(cat "$f")"
}

# start_daemon [sipcfgd options...]: sets PORT, BASE (http://127.0.0.1:PORT), FLASH,
# ADMIN_PASS (set with the CLI before start unless NO_PASSWD=1).
start_daemon() {
  PORT=$(free_port)
  BASE="http://127.0.0.1:$PORT"
  : "${FLASH:=$T_DIR/flash.img}"
  if [ -z "${NO_PASSWD:-}" ] && [ ! -e "$FLASH.passwd-set" ]; then
    ADMIN_PASS=${ADMIN_PASS:-Test-Pass-1234}
    printf '%s\n' "$ADMIN_PASS" | "$SIPCFG" --flash "$FLASH" passwd >/dev/null || return 1
    touch "$FLASH.passwd-set"
  fi
  # SIPCFGD_ENV: extra NAME=VALUE words for the daemon's environment only.
  env ${SIPCFGD_ENV:-} "$SIPCFGD" --listen "127.0.0.1:$PORT" --flash "$FLASH" "$@" 2>"$T_DIR/sipcfgd.log" &
  DAEMON_PID=$!
  T_PIDS+=("$DAEMON_PID")
  local i
  for i in $(seq 100); do
    curl -s -o /dev/null "$BASE/" && return 0
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "sipcfgd did not start: $(cat "$T_DIR/sipcfgd.log")" >&2
  return 1
}
stop_daemon() {
  kill "$DAEMON_PID" 2>/dev/null
  local i
  for i in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$DAEMON_PID" 2>/dev/null
  return 1
}

# api METHOD PATH [curl args...]: digest-authenticated request. Sets STATUS, BODY
# (and HEADERS in $T_DIR/headers).
api() {
  local method=$1 path=$2; shift 2
  BODY=$(curl -s -X "$method" --digest -u "admin:$ADMIN_PASS" -D "$T_DIR/headers" \
         -o - -w '\n%{http_code}' "$@" "$BASE/api/v1$path")
  STATUS=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
  # every body seen, for tests that grep all responses (e.g. for a password)
  if [ -n "${T_BODY_LOG:-}" ]; then printf '%s\n' "$BODY" >>"$T_BODY_LOG"; fi
  # every method, path and status seen, for tests that hold them against the OpenAPI document
  if [ -n "${T_CALL_LOG:-}" ]; then printf '%s %s %s\n' "$method" "$path" "$STATUS" >>"$T_CALL_LOG"; fi
  # and whole responses, for openapi_invalid
  if [ -n "${T_RESP_LOG:-}" ]; then
    jq -nc --arg m "$method" --arg p "$path" --arg s "$STATUS" --arg c "$(header Content-Type)" \
      --arg b "$BODY" '{m: $m, p: $p, s: $s, c: $c, b: $b}' >>"$T_RESP_LOG"
  fi
}
# json_api METHOD PATH JSON [curl args...]
json_api() {
  local method=$1 path=$2 json=$3; shift 3
  api "$method" "$path" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}
# The last response's header (curl --digest writes the 401 challenge's headers first).
header() { grep -i "^$1:" "$T_DIR/headers" | tail -1 | sed 's/^[^:]*: *//; s/\r$//'; }

# run ARGS...: the CLI ($SIPCFG) as a script uses it; sets OUT, ERR and RC.
run() {
  "$SIPCFG" "$@" >"$T_DIR/out" 2>"$T_DIR/err"
  RC=$?
  OUT=$(cat "$T_DIR/out"); ERR=$(cat "$T_DIR/err")
}
ok()   { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $1"; [ $# -gt 1 ] && echo "#   $2"; return 0; }
# check NAME EXPECTED ACTUAL
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
# check_status NAME EXPECTED (uses STATUS/BODY)
check_status() { if [ "$STATUS" = "$2" ]; then ok "$1"; else fail "$1" "expected HTTP $2, got $STATUS: $BODY"; fi; }
# check_json NAME JQ-FILTER EXPECTED (on BODY)
check_json() { check "$1" "$3" "$(printf '%s' "$BODY" | jq -r "$2" 2>&1)"; }

# openapi_undocumented OPENAPI.json CALL-LOG: "METHOD /path STATUS" of every call
# in the log (see T_CALL_LOG) whose status the document does not list for that
# operation. Paths the document lacks (the router's 404/405) and the gate's
# 413/415 (documented once, in info.description) are not held against it.
openapi_undocumented() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
doc = json.load(open(sys.argv[1]))
seen = set()
for row in open(sys.argv[2]):
    method, path, status = row.split()
    tmpl = re.sub(r"^/lines/[0-9]+", "/lines/{n}", path.split("?", 1)[0])
    op = doc["paths"].get(tmpl, {}).get(method.lower())
    if op is None or status in ("413", "415", "000"):
        continue
    if status not in op["responses"]:
        seen.add(f"{method} {tmpl} {status}")
print(" ".join(sorted(seen)))
PY
}

# openapi_invalid OPENAPI.json RESPONSE-LOG: every response in the log (see
# T_RESP_LOG) that the document does not describe: status not listed for the
# operation, another content type, or a body its schema refuses. One per line.
openapi_invalid() {
  python3 "$SIPCFG_TOP/tests/integration/openapi_check.py" "$1" "$2"
}

# Last line of every test script, with its exit status.
t_done() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}

# ---- requests without digest (security.sh, auth.sh) ----
# req METHOD PATH [curl args...]: no credentials, the path sent as is (no
# dot-segment folding by curl). Sets STATUS, BODY and $T_DIR/headers.
req() {
  local method=$1 path=$2; shift 2
  local how=(-X "$method")
  [ "$method" = HEAD ] && how=(-I)
  BODY=$(curl -s --path-as-is "${how[@]}" -D "$T_DIR/headers" -o - -w '\n%{http_code}' \
         --max-time 20 "$@" "$BASE$path")
  STATUS=${BODY##*$'\n'}
  BODY=${BODY%$'\n'*}
}
# login [PASSWORD]: POST /session as admin; sets STATUS, SID (the cookie) and CSRF.
login() {
  local pass=${1:-$ADMIN_PASS}
  req POST /api/v1/session -H 'Content-Type: application/json' -H 'X-Requested-With: sipcfg' \
    --data-binary "$(jq -cn --arg p "$pass" '{username: "admin", password: $p}')"
  SID=$(grep -i '^set-cookie:' "$T_DIR/headers" | head -1 | sed -n 's/^[^:]*: *[^=]*=\([^;]*\).*/\1/p' | tr -d '\r')
  CSRF=$(printf '%s' "$BODY" | jq -r '.csrf_token // empty' 2>/dev/null)
}
# sreq METHOD PATH [curl args...]: with the session cookie (and the CSRF token).
sreq() {
  local method=$1 path=$2; shift 2
  req "$method" "$path" -H "Cookie: ${COOKIE_NAME:-sid}=$SID" -H "X-CSRF-Token: $CSRF" \
    -H 'X-Requested-With: sipcfg' "$@"
}
# start_fresh [sipcfgd options...]: start_daemon on a new image without the
# CLI; ADMIN_PASS is the random first-start password sipcfgd printed.
start_fresh() {
  NO_PASSWD=1 start_daemon "$@" || return 1
  ADMIN_PASS=$(sed -n 's/^sipcfgd: no admin password was set; generated one: user admin, password \(.*\)$/\1/p' \
               "$T_DIR/sipcfgd.log" | head -1)
  [ -n "$ADMIN_PASS" ]
}

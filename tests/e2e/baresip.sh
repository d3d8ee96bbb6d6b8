# End to end, with real programs from Debian on loopback: does a real SIP user
# agent (baresip 1.0), fed from our flash, register where GET /lines/1/routing
# says, and move to the backup when that one is down? docs/BARESIP.md says
# what baresip 1.0 can and cannot do; this test asserts what it really does.
#   dnsmasq: _sip._udp.e2e.test SRV 10 -> a.e2e.test (registrar A),
#            SRV 20 -> b.e2e.test (registrar B)
#   kamailio x2 (tests/e2e/registrar.cfg): A and B, contacts read with kamcmd
#   sipcfgd: line 1 set over the REST API, then `sipcfg export --format baresip`
# Everything on free loopback ports, stopped by PID, every wait bounded.
source "$(dirname "$0")/../integration/lib.sh"

for p in kamailio kamcmd baresip; do
  command -v "$p" >/dev/null || { echo "not ok - $p is not installed (scripts/deps.sh e2e)"; exit 1; }
done
CFG=$SIPCFG_TOP/tests/e2e/registrar.cfg

# start_registrar NAME: kamailio on a free UDP port; sets <NAME>_PORT, <NAME>_PID.
start_registrar() {
  local name=$1 port pid i attempt
  mkdir -p "$T_DIR/$name"
  for attempt in 1 2 3 4 5; do
    port=$(free_port udp)
    kamailio -f "$CFG" -DD -E -Y "$T_DIR/$name" -m 16 -M 4 -l "udp:127.0.0.1:$port" \
      -A "CTL_SOCK=\"unix:$T_DIR/$name/ctl.sock\"" -A "AUTH_USER=\"$AUTH_USER\"" \
      -A "AUTH_PASS=\"$AUTH_PASS\"" >"$T_DIR/$name.log" 2>&1 &
    pid=$!
    T_PIDS+=("$pid")
    for i in $(seq 100); do
      if kamcmd -s "unix:$T_DIR/$name/ctl.sock" core.version >/dev/null 2>&1; then
        printf -v "${name}_PORT" %s "$port"; printf -v "${name}_PID" %s "$pid"
        return 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill "$pid" 2>/dev/null
    grep -q "Address already in use" "$T_DIR/$name.log" || break
  done
  echo "kamailio $name did not start: $(tail -5 "$T_DIR/$name.log")" >&2
  return 1
}
# contacts NAME: the contact addresses registrar NAME holds, one a line ("" if down).
contacts() {
  kamcmd -s "unix:$T_DIR/$1/ctl.sock" ul.dump 2>/dev/null | sed -n 's/^[[:space:]]*Address: //p'
}
# stop_pid PID [TRIES]: SIGTERM, then wait (bounded) until it is gone; again up
# to TRIES times (baresip unregisters on the first SIGTERM, which waits for a
# dead registrar's timeout, and quits at once on the second), then SIGKILL.
stop_pid() {
  local i n
  for n in $(seq "${2:-1}"); do
    kill "$1" 2>/dev/null
    for i in $(seq 50); do kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }; sleep 0.1; done
  done
  kill -9 "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# start_baresip DIR ACCOUNTS-FILE: baresip with only the modules it needs (uuid
# for sipnat=outbound, account), no audio, on a free port for UDP and TCP;
# sets UA_PORT and UA_PID.
start_baresip() {
  local dir=$1 port attempt i
  mkdir -p "$dir"
  cp "$2" "$dir/accounts"
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    cat >"$dir/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:$port
dns_server		$DNS_SERVER
module_path		/usr/lib/baresip/modules
module_tmp		uuid.so
module_tmp		account.so
audio_player		none
audio_source		none
CONF
    # -s: the SIP trace, to print where each REGISTER went; -t: a last bound.
    baresip -f "$dir" -s -t 300 </dev/null >"$dir/log" 2>&1 &
    UA_PID=$!
    T_PIDS+=("$UA_PID")
    for i in $(seq 30); do
      grep -q "baresip is ready" "$dir/log" && { UA_PORT=$port; return 0; }
      kill -0 "$UA_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$UA_PID" 2>/dev/null
    grep -q "Address already in use" "$dir/log" || break
  done
  echo "baresip did not start: $(cat "$dir/log")" >&2
  return 1
}
# wait_contact NAME SECONDS: until registrar NAME holds a contact at baresip's
# port; prints how long that took.
wait_contact() {
  local start=$SECONDS i
  for i in $(seq $(($2 * 5))); do
    if contacts "$1" | grep -q "@127.0.0.1:$UA_PORT\$"; then WAITED=$((SECONDS - start)); return 0; fi
    kill -0 "$UA_PID" 2>/dev/null || break
    sleep 0.2
  done
  WAITED=$((SECONDS - start))
  return 1
}
holds() { contacts "$1" | grep -q "@127.0.0.1:$UA_PORT\$"; }
# What baresip did: each REGISTER's destination and each final answer.
saw() {
  echo "# $1"
  echo "#   registrar A (127.0.0.1:$A_PORT) holds: $(contacts A | tr '\n' ' ')"
  echo "#   registrar B (127.0.0.1:$B_PORT) holds: $(contacts B | tr '\n' ' ')"
  echo "#   baresip (127.0.0.1:$UA_PORT) sent REGISTER to (in order, with retransmissions):" \
    "$(grep -A1 '^UDP 127.0.0.1:[0-9]* -> ' "$2/log" | grep -B1 '^REGISTER ' | grep '^UDP' |
       sed 's/.*-> //' | uniq -c | awk '{printf "%s x%s, ", $2, $1}')"
  grep -aE '\{[0-9]+/UDP/v4\}|reg: ' "$2/log" | sed 's/\x1b\[[0-9;]*m//g' | tail -4 | sed 's/^/#   baresip: /'
}

# The line's credentials; the password has spaces, which auth_pass must quote.
AUTH_USER=a1001 AUTH_PASS='e2e pass 1'
start_registrar A || exit 1
start_registrar B || exit 1
start_dnsmasq --srv-host="_sip._udp.e2e.test,a.e2e.test,$A_PORT,10,10" \
  --srv-host="_sip._udp.e2e.test,b.e2e.test,$B_PORT,20,10" \
  --host-record=a.e2e.test,127.0.0.1 --host-record=b.e2e.test,127.0.0.1 || exit 1
start_daemon --dns-server "$DNS_SERVER" || exit 1
echo "# registrar A 127.0.0.1:$A_PORT (SRV priority 10), B 127.0.0.1:$B_PORT (priority 20), dnsmasq $DNS_SERVER"

# ---- scenario 1: the domain as the proxy, DNS SRV on; A dies, baresip moves to B
json_api PUT /lines/1 "{\"enabled\": true, \"label\": \"e2e\", \"display_name\": \"E2E Phone\",
  \"user\": \"1001\", \"auth_user\": \"$AUTH_USER\", \"password\": \"$AUTH_PASS\",
  \"proxy\": \"e2e.test\", \"dns_srv\": true, \"register\": true, \"register_expires\": 30}"
check_status "PUT line 1 (proxy e2e.test, DNS SRV on)" 200
api GET /lines/1/routing
check_status "GET /lines/1/routing" 200
check_json "REGISTER goes to A first (the priority 10 SRV target)" \
  '.register[0].resolution.targets[0] | "\(.host):\(.port)"' "a.e2e.test:$A_PORT"
check_json "then to B" '.register[0].resolution.targets[1] | "\(.host):\(.port)"' "b.e2e.test:$B_PORT"

"$SIPCFG" --flash "$FLASH" export --format baresip --with-secrets --line 1 >"$T_DIR/acc1" 2>"$T_DIR/acc1.err"
check "export --format baresip --with-secrets --line 1" 0 "$?"
echo "# the account:"; sed 's/^/#   /' "$T_DIR/acc1"; sed 's/^/#   stderr: /' "$T_DIR/acc1.err"
check "the account is the domain's AOR, nothing else routes it" \
  "\"E2E Phone\" <sip:1001@e2e.test>;auth_user=$AUTH_USER;auth_pass=\"$AUTH_PASS\";regint=30" \
  "$(grep -v "^#" "$T_DIR/acc1")"

start_baresip "$T_DIR/ua1" "$T_DIR/acc1" || exit 1
if wait_contact A 20; then ok "baresip registered at A (${WAITED} s)"; else fail "baresip registered at A"; fi
# "not at B" means something only while B is up and answering its control socket.
if ! kamcmd -s "unix:$T_DIR/B/ctl.sock" core.version >/dev/null 2>&1; then fail "registrar B is up to be asked"
elif holds B; then fail "and not at B"; else ok "and not at B (B is up and holds no contact of it)"; fi
grep -q "authenticated $AUTH_USER for sip:1001@e2e.test" "$T_DIR/A.log" &&
  ok "A challenged and baresip answered with auth_user and the quoted auth_pass" ||
  fail "A challenged and baresip answered with auth_user and the quoted auth_pass" "$(grep -a REGISTER "$T_DIR/A.log" | tail -3)"
saw "scenario 1, before A stops:" "$T_DIR/ua1"

stop_pid "$A_PID"
echo "# registrar A stopped (SIGTERM to $A_PID)"
# Bound: the next refresh (at 90% of the 10 s the registrar granted), then
# libre's 32 s UDP transaction timeout on A, then B, which challenges (401);
# the authenticated REGISTER is a new request, resolved afresh, so it waits
# out A's 32 s once more before B says 200: about 73 s in all.
if wait_contact B 120; then ok "after A stopped, baresip registered at B (${WAITED} s: refresh, 32 s timeout on A, 401 from B, 32 s on A again)"
else fail "after A stopped, baresip registered at B within 120 s"; fi
saw "scenario 1, after A stopped:" "$T_DIR/ua1"
stop_pid "$UA_PID" 2

# ---- scenario 2: explicit proxy A with backup proxy B (baresip: outbound +
# outbound2, sipnat=outbound); first both alive, then with A dead.
start_registrar A || exit 1
json_api PUT /lines/1 "{\"enabled\": true, \"user\": \"1001\", \"auth_user\": \"$AUTH_USER\", \"domain\": \"e2e.test\",
  \"proxy\": \"127.0.0.1:$A_PORT\", \"backup_proxy\": \"127.0.0.1:$B_PORT\", \"register_expires\": 30}"
check_status "PUT line 1 (proxy A, backup proxy B)" 200
api GET /lines/1/routing
check_json "routing: REGISTER to the proxy A, then the backup B" \
  '[.register[] | "\(.field)/\(.role)/\(.resolution.targets[0].port)"] | join(" ")' \
  "proxy/primary/$A_PORT backup_proxy/backup/$B_PORT"
"$SIPCFG" --flash "$FLASH" export --format baresip --with-secrets --line 1 >"$T_DIR/acc2" 2>"$T_DIR/acc2.err"
check "export --format baresip --with-secrets --line 1" 0 "$?"
echo "# the account:"; sed 's/^/#   /' "$T_DIR/acc2"; sed 's/^/#   stderr: /' "$T_DIR/acc2.err"
check "the backup is outbound2, with sipnat=outbound" \
  "<sip:1001@e2e.test>;auth_user=$AUTH_USER;auth_pass=\"$AUTH_PASS\";regint=30;outbound=\"sip:127.0.0.1:$A_PORT\";outbound2=\"sip:127.0.0.1:$B_PORT\";sipnat=outbound" \
  "$(grep -v '^#' "$T_DIR/acc2")"
grep -q "line1.backup_proxy: written as outbound2 with sipnat=outbound" "$T_DIR/acc2.err" &&
  ok "the export says outbound2 is a parallel flow" || fail "the export says outbound2 is a parallel flow"

# 2a, both alive: what baresip 1.0 really does with outbound2 (RFC 5626 flows):
# it registers through both at once. Asserted, since it is the truth.
start_baresip "$T_DIR/ua2a" "$T_DIR/acc2" || exit 1
wait_contact A 20 && ok "both alive: baresip registered at A (${WAITED} s)" || fail "both alive: baresip registered at A"
wait_contact B 20 && ok "both alive: and at B at the same time (a parallel flow, not a failover)" ||
  fail "both alive: and at B at the same time"
saw "scenario 2a, both registrars alive:" "$T_DIR/ua2a"
stop_pid "$UA_PID" 2

# 2b, the primary dead: the backup flow registers at B at once.
stop_pid "$A_PID"
echo "# registrar A stopped (SIGTERM to $A_PID) before baresip starts"
start_baresip "$T_DIR/ua2b" "$T_DIR/acc2" || exit 1
if wait_contact B 20; then ok "primary dead: baresip registered at B (${WAITED} s)"; else fail "primary dead: baresip registered at B"; fi
saw "scenario 2b, primary dead:" "$T_DIR/ua2b"
stop_pid "$UA_PID" 2

t_done

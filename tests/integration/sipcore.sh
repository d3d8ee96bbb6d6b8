# examples/sipcore (the SIP core's side, on include/sipcfg.h only) while the
# daemon commits: it prints each enabled line's routing again after every new
# generation, with the stored SRV targets in the order to try them.
source "$(dirname "$0")/lib.sh"

SIPCORE=${SIPCORE:-$(dirname "$SIPCFG")/examples/sipcore}
[ -x "$SIPCORE" ] || { echo "no $SIPCORE (make asan builds it)"; exit 1; }

start_dnsmasq --srv-host=_sip._udp.core.test,a.core.test,5070,10,10 \
  --srv-host=_sip._udp.core.test,b.core.test,5080,20,10 \
  --host-record=a.core.test,127.0.0.2 --host-record=b.core.test,127.0.0.3 \
  --host-record=bk.core.test,127.0.0.4 || exit 1
start_daemon --dns-server "$DNS_SERVER" || exit 1

OUT=$T_DIR/core.out
"$SIPCORE" --interval-ms 50 "$FLASH" >"$OUT" 2>"$T_DIR/core.err" &
CORE_PID=$!
T_PIDS+=("$CORE_PID")

# wait_line PATTERN: until sipcore's output has a line matching it (at most 15 s:
# sipcfg_changed trusts an unchanged file stamp only after 2 quiet seconds).
wait_line() {
  local i
  for i in $(seq 150); do
    grep -qE "$1" "$OUT" && return 0
    kill -0 "$CORE_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
gens() { grep -c '^generation ' "$OUT"; }

wait_line '^end$' && ok "sipcore prints the image it opened" || fail "sipcore prints the image it opened" "$(cat "$OUT" "$T_DIR/core.err")"
G0=$(sed -n 's/^generation //p' "$OUT" | tail -1)

json_api PUT /lines/1 '{"enabled": true, "user": "1001", "proxy": "core.test", "dns_srv": true}'
check_status "PUT line 1 (domain as proxy, DNS SRV on)" 200
if wait_line '^line 1 hop 2: '; then ok "sipcore printed line 1 after the commit"; else fail "sipcore printed line 1 after the commit" "$(cat "$OUT")"; fi
echo "# sipcore saw:"; sed 's/^/#   /' "$OUT"
check "the printout names the new generation" "$((G0 + 1))" "$(sed -n 's/^generation //p' "$OUT" | tail -1)"
check "hop 1: the proxy's best SRV target (priority 10)" \
  "line 1 hop 1: proxy core.test -> udp a.core.test:5070 priority 10 weight 10 addrs 127.0.0.2" \
  "$(grep '^line 1 hop 1:' "$OUT" | tail -1)"
check "hop 2: then the priority 20 target" \
  "line 1 hop 2: proxy core.test -> udp b.core.test:5080 priority 20 weight 10 addrs 127.0.0.3" \
  "$(grep '^line 1 hop 2:' "$OUT" | tail -1)"

N=$(gens)
json_api PATCH /lines/1 '{"backup_proxy": "bk.core.test:5090", "outbound_proxy": "127.0.0.9:5060"}'
check_status "PATCH an outbound and a backup proxy" 200
if wait_line '^line 1 hop 4: '; then ok "sipcore printed again after the second commit"; else fail "sipcore printed again after the second commit" "$(cat "$OUT")"; fi
echo "# sipcore saw:"; sed -n "/^generation $((G0 + 2))/,\$p" "$OUT" | sed 's/^/#   /'
check "one more printout, for one more generation" "$((N + 1))" "$(gens)"
check "hop 1 is now the outbound proxy" "line 1 hop 1: outbound_proxy 127.0.0.9 -> udp 127.0.0.9:5060 priority 0 weight 0 addrs 127.0.0.9" \
  "$(grep '^line 1 hop 1:' "$OUT" | tail -1)"
check "then the proxy's targets in order" "a.core.test:5070 b.core.test:5080" \
  "$(grep -E '^line 1 hop [23]:' "$OUT" | tail -2 | sed 's/.* -> udp \([^ ]*\) .*/\1/' | tr '\n' ' ' | sed 's/ $//')"
check "then the backup" "line 1 hop 4: backup_proxy bk.core.test -> udp bk.core.test:5090 priority 0 weight 0 addrs 127.0.0.4" \
  "$(grep '^line 1 hop 4:' "$OUT" | tail -1)"

# A write that changes nothing commits nothing: no new printout.
N=$(gens)
json_api PATCH /lines/1 '{"user": "1001"}'
check_status "PATCH with the same value" 200
sleep 3
check "no new generation, no new printout" "$N" "$(gens)"

kill "$CORE_PID"
wait "$CORE_PID"
check "sipcore ends cleanly on SIGTERM" 0 "$?"
check "and said nothing on stderr" "" "$(cat "$T_DIR/core.err")"

t_done

#!/usr/bin/env bash
# The HTTP part of `make bench` alone, for A/B work on the event loop: the
# bare libmicrohttpd responder and one or more sipcfgd builds, alternated in
# the same minute, with what each costs per request (server CPU, and the
# system calls counted by perf and broken down by strace -c). Not a test and
# not part of `make bench`; docs/BENCHMARKS.md says how it was used.
#
# usage: tools/bench/loop_ab.sh [NAME=PATH-TO-SIPCFGD]...   (default: ours=build/sipcfgd)
# knobs: AB_SECONDS (wrk run, 3), AB_ROUNDS (3), AB_CONNS ("1 50"),
#        AB_TRACE (1: also strace -c each server for one short run),
#        AB_IDLE (0: idle keep-alive connections held open during each timed
#        run, the guard's table; they come from 127.0.0.1 first, like wrk, so
#        keep AB_IDLE + connections under the 64 per address, or use AB_CONNS=1),
#        AB_CALLGRIND (0; 1: also each server's instructions per GET under
#        callgrind, 3 s at 1 connection with AB_IDLE idle connections held)
# The yardstick is checked as in scripts/bench.sh: the same bytes, every
# answer 200 without "Connection: close", before anything is timed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export SIPCFG_TOP=$top SIPCFGD=$top/build/sipcfgd SIPCFG=$top/build/sipcfg
source tests/integration/lib.sh
DUR=${AB_SECONDS:-3}
ROUNDS=${AB_ROUNDS:-3}
CONNS=${AB_CONNS:-1 50}
die() { echo "loop_ab: $*" >&2; exit 1; }
[ $# -gt 0 ] || set -- "ours=$SIPCFGD"

B=build/bench
mkdir -p "$B"
source tools/bench/lib.sh
bench_build bare_mhd
bench_pool; pool=$POOL

session() {  # session BASE -> the cookie of a new session
  curl -s -D "$T_DIR/login.h" -o /dev/null -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}" "$1/api/v1/session"
  grep -i '^set-cookie:' "$T_DIR/login.h" | head -1 | sed 's/^[^:]*: *//; s/;.*//; s/\r//'
}
names=(); declare -A PIDOF URLOF COOKIEOF BINOF
for spec in "$@"; do
  name=${spec%%=*}; bin=${spec#*=}
  [ -x "$bin" ] || die "$bin is not a program"
  FLASH=$T_DIR/$name.img; unset ADMIN_PASS
  SIPCFGD=$bin start_daemon --dns-server 127.0.0.1:9 || die "$name did not start"
  COOKIEOF[$name]=$(session "$BASE")
  PIDOF[$name]=$DAEMON_PID; URLOF[$name]=$BASE/api/v1/lines/1; BINOF[$name]=$bin; names+=("$name")
done
first=${names[0]}
# the yardstick: the first build's answer, sent by the bare responder; then
# every server checked (200, keep-alive, the same bytes) before anything is timed
bench_bare "${URLOF[$first]}" "${COOKIEOF[$first]}"
PIDOF[bare]=$BARE_PID; URLOF[bare]=$BARE_URL; COOKIEOF[bare]=${COOKIEOF[$first]}
all=(bare "${names[@]}")
port_of() { sed -E 's|^http://127.0.0.1:([0-9]+)/.*|\1|' <<<"${URLOF[$1]}"; }
echo "yardstick check (every response: 200, keep-alive, same bytes):"
for s in "${all[@]}"; do bench_yardcheck "$s" "${URLOF[$s]}" "${COOKIEOF[$s]}"; done

declare -A RPS CPU SYS
one() {  # one SERVER CONNS: a timed run, nothing else attached to the server
  local s=$1 c=$2 t=1 pid=${PIDOF[$1]}
  [ "$c" -ge 2 ] && t=2
  if [ "${AB_IDLE:-0}" -gt 0 ]; then
    coproc HOLD { python3 tools/bench/client.py hold "$(port_of "$s")" "$AB_IDLE" "${COOKIEOF[$s]}"; }
    local line; read -r line <&"${HOLD[0]}" || line=""
    [ "$line" = ready ] || die "$s: could not hold $AB_IDLE connections: $line"
  fi
  # the server's CPU time (every thread): perf's task-clock (ms), finer than /proc's ticks
  local out; out=$(perf stat -x, -e task-clock -p "$pid" -o "$T_DIR/clock" -- \
    wrk -t$t -c"$c" -d"${DUR}s" -H "Cookie: ${COOKIEOF[$s]}" "${URLOF[$s]}")
  if [ "${AB_IDLE:-0}" -gt 0 ]; then eval "exec ${HOLD[1]}>&-"; wait "$HOLD_PID" || true; fi
  ! grep -q -E 'Non-2xx|Socket errors' <<<"$out" || die "$s: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"
  local n; n=$(awk '/requests in/ { print $1 }' <<<"$out")
  RPS[$s$c]+="$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out") "
  CPU[$s$c]+="$(awk -F, -v n="$n" '$3 == "task-clock" { printf "%.2f", $1 * 1000 / n }' "$T_DIR/clock") "
}
calls() {  # calls SERVER CONNS: system calls per request over a 1 s run (perf)
  local s=$1 c=$2 t=1
  [ "$c" -ge 2 ] && t=2
  local out; out=$(perf stat -x, -e raw_syscalls:sys_enter -p "${PIDOF[$s]}" -o "$T_DIR/perf" -- \
    wrk -t$t -c"$c" -d1s -H "Cookie: ${COOKIEOF[$s]}" "${URLOF[$s]}")
  SYS[$s$c]=$(awk -F, -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" \
    '$3 == "raw_syscalls:sys_enter" { printf "%.2f", $1 / n }' "$T_DIR/perf")
}
for r in $(seq "$ROUNDS"); do
  for c in $CONNS; do
    order=("${all[@]}")
    [ $((r % 2)) = 0 ] && order=($(printf '%s\n' "${all[@]}" | tac))
    for s in "${order[@]}"; do one "$s" "$c"; done
  done
done
for c in $CONNS; do for s in "${all[@]}"; do calls "$s" "$c"; done; done
echo "load $(cut -d' ' -f1-3 /proc/loadavg); wrk ${DUR} s x $ROUNDS rounds alternated, ${AB_IDLE:-0} idle connections held; medians (all runs); system calls: perf, a 1 s run of its own"
printf '%-8s %-6s %-10s %-22s %-14s %s\n' server conns req/s "CPU us/req" "bare/it CPU" "syscalls/req"
for c in $CONNS; do
  bc=$(median <<<"${CPU[bare$c]}")
  for s in "${all[@]}"; do
    cpu=$(median <<<"${CPU[$s$c]}")
    printf '%-8s %-6s %-10s %-22s %-14s %s\n' "$s" "$c" "$(median <<<"${RPS[$s$c]}")" "$cpu (${CPU[$s$c]% })" \
      "$(awk -v a="$bc" -v b="$cpu" 'BEGIN { printf "%.2fx", a / b }')" "${SYS[$s$c]}"
  done
done
if [ "${AB_TRACE:-1}" = 1 ]; then
  for s in "${all[@]}"; do
    strace -c -f -o "$T_DIR/strace.$s" -p "${PIDOF[$s]}" 2>/dev/null & spid=$!
    sleep 0.5
    n=$(wrk -t1 -c1 -d2s -H "Cookie: ${COOKIEOF[$s]}" "${URLOF[$s]}" | awk '/requests in/ { print $1 }')
    kill -INT "$spid"; wait "$spid" 2>/dev/null || true
    echo "strace -c -f, $s, 1 connection, $n requests: calls per request"
    # "% time, seconds, usecs/call, calls, [errors,] syscall": the calls seen at least once every 100 requests
    awk -v n="$n" '/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $4 / n >= 0.01 { printf "  %-16s %.2f\n", $NF, $4 / n }' "$T_DIR/strace.$s"
  done
fi
if [ "${AB_CALLGRIND:-0}" = 1 ]; then
  for s in "${all[@]}"; do
    kill "${PIDOF[$s]}"; wait "${PIDOF[$s]}" 2>/dev/null || true
    port=$(free_port)
    if [ "$s" = bare ]; then
      valgrind --tool=callgrind --callgrind-out-file="$T_DIR/cg.$s" "$B/bare_mhd" "$port" "$pool" \
        "$B/body" "$B/headers" 2>"$T_DIR/vg.$s" & T_PIDS+=($!)
    else
      valgrind --tool=callgrind --callgrind-out-file="$T_DIR/cg.$s" "${BINOF[$s]}" --listen "127.0.0.1:$port" \
        --flash "$T_DIR/$s.img" --dns-server 127.0.0.1:9 2>/dev/null & T_PIDS+=($!)
    fi
    vpid=$!; url=http://127.0.0.1:$port/api/v1/lines/1
    for i in $(seq 150); do curl -s -o /dev/null "$url" && break; sleep 0.2; done
    curl -s -o /dev/null "$url" || die "$s did not start under callgrind: $(tail -3 "$T_DIR/vg.$s" 2>/dev/null)"
    [ "$s" = bare ] || COOKIEOF[$s]=$(session "http://127.0.0.1:$port")
    wrk -t1 -c1 -d1s -H "Cookie: ${COOKIEOF[$s]}" "$url" >/dev/null     # warm up
    if [ "${AB_IDLE:-0}" -gt 0 ]; then
      coproc HOLD { python3 tools/bench/client.py hold "$port" "$AB_IDLE" "${COOKIEOF[$s]}"; }
      read -r line <&"${HOLD[0]}" || line=""
      [ "$line" = ready ] || die "$s: could not hold $AB_IDLE connections: $line"
    fi
    callgrind_control -z "$vpid" >/dev/null
    out=$(wrk -t1 -c1 -d3s -H "Cookie: ${COOKIEOF[$s]}" "$url")
    callgrind_control -d "$vpid" >/dev/null
    if [ "${AB_IDLE:-0}" -gt 0 ]; then eval "exec ${HOLD[1]}>&-"; wait "$HOLD_PID" || true; fi
    ! grep -q -E 'Non-2xx|Socket errors' <<<"$out" || die "$s under callgrind: $(grep -E 'Non-2xx|Socket' <<<"$out")"
    n=$(awk '/requests in/ { print $1 }' <<<"$out")
    ir=$(cat "$T_DIR"/cg."$s"* | awk '/^summary:/ { s = $2 } END { print s + 0 }')
    echo "callgrind, $s, 1 connection, ${AB_IDLE:-0} idle held: $((ir / n)) instructions per GET ($n requests)"
    kill "$vpid"; wait "$vpid" 2>/dev/null || true
  done
fi

#!/usr/bin/env bash
# make bench: speed and memory measured in one run on this machine, as ratios
# and against fixed goals; never as timed assertions in tests. docs/BENCHMARKS.md
# explains each figure. The yardstick is checked like a result: before any
# ratio is reported, the bare responder and sipcfgd must both keep their
# connections alive, answer every request 200, and send the same bytes;
# otherwise the bench stops with an error.
#
# Knobs: BENCH_SECONDS (per wrk run, default 4), BENCH_REPEAT (alternated
# rounds, default 3), BENCH_REQUESTS (the allocation-growth run, default 1000000).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export SIPCFG_TOP=$top SIPCFGD=$top/build/sipcfgd SIPCFG=$top/build/sipcfg
source tests/integration/lib.sh

DUR=${BENCH_SECONDS:-4}
REPEAT=${BENCH_REPEAT:-3}
GROWTH_REQ=${BENCH_REQUESTS:-1000000}
B=build/bench
mkdir -p "$B"
die() { echo "bench: $*" >&2; exit 1; }
source tools/bench/lib.sh
bench_build bare_mhd fsync_floor
bench_pool; pool=$POOL
fig=()        # the table: "name|value|goal|verdict"
figure() { fig+=("$1|$2|$3|$4"); }
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
  ok = (op == ">=") ? a >= b : (op == "<=") ? a <= b : (op == "<") ? a < b : a > b
  print ok ? "met" : "NOT met" }'; }
to_us() {  # wrk's "2.87ms" / "870.00us" / "1.02s" -> microseconds
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) f = 1; else if (v ~ /ms$/) f = 1000; else if (v ~ /s$/) f = 1000000; else f = 1; printf "%.0f", n * f }'
}
kib() { awk "/^$2:/ { print \$2 }" "/proc/$1/status"; }
rollup() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/smaps_rollup"; }

# ---- sipcfgd with a DNS server that answers (the cached-answer figure) ----
start_dnsmasq --host-record=pbx.bench.test,192.0.2.10 --local-ttl=300
start_daemon --dns-server "$DNS_SERVER"
D1=$DAEMON_PID; P1=$PORT
login() {  # login BASE -> COOKIE, CSRF
  curl -s -D "$T_DIR/login.h" -o "$T_DIR/login.json" -H 'Content-Type: application/json' \
    --data "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}" "$1/api/v1/session"
  COOKIE=$(grep -i '^set-cookie:' "$T_DIR/login.h" | head -1 | sed 's/^[^:]*: *//; s/;.*//; s/\r//')
  CSRF=$(jq -r .csrf_token "$T_DIR/login.json")
  [ -n "$COOKIE" ] && [ "$CSRF" != null ] || die "cannot log in to $1"
}
login "$BASE"
COOKIE1=$COOKIE; CSRF1=$CSRF
sleep 0.3
idle_rss=$(kib "$D1" VmRSS); idle_anon=$(kib "$D1" RssAnon); idle_pss=$(rollup "$D1" Pss)
idle_pss_anon=$(rollup "$D1" Pss_Anon)
# what the daemon owns (anonymous pages): heap, thread stacks (8 MiB
# reservations), other anonymous maps, and the libraries' written data
read -r heap stacks other_anon lib_anon < <(awk '
  /^[0-9a-f]+-[0-9a-f]+ / { name = $6; kind = (name == "[heap]") ? "h" : (NF < 6 || name == "[stack]") ? "a" : "f" }
  /^Size:/ { size = $2 }
  /^Anonymous:/ { if (kind == "h") h += $2; else if (kind == "a" && ((size >= 8180 && size <= 8192) || name == "[stack]")) s += $2;
                  else if (kind == "a") o += $2; else f += $2 }
  END { print h + 0, s + 0, o + 0, f + 0 }' "/proc/$D1/smaps")
# where the rest of RSS is: shared libraries, TLS among them
libs=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 } /^Rss:/ && name ~ /\.so/ { n = name; sub(/.*\//, "", n); sub(/\.so.*/, "", n); r[n] += $2 }
  END { for (k in r) printf "%s=%d ", k, r[k] }' "/proc/$D1/smaps")
tls_re='^lib(gnutls|p11-kit|tasn1|hogweed|gmp|idn2|unistring|ffi)$'
tls_kib=$(tr ' ' '\n' <<<"$libs" | awk -F= -v re="$tls_re" '$1 ~ re { s += $2 } END { print s + 0 }')
# their anonymous pages (relocated data): what the daemon would not own without them
tls_anon=$(awk -v re="$tls_re" '/^[0-9a-f]+-[0-9a-f]+ / { n = $6; sub(/.*\//, "", n); sub(/\.so.*/, "", n) }
  /^Anonymous:/ && n ~ re { s += $2 } END { print s + 0 }' "/proc/$D1/smaps")

# own memory with 1, 50, 256 connections open (each made one request), on a
# daemon that has seen no load yet (malloc keeps what a load freed)
for n in 1 50 256; do
  coproc HOLD { python3 tools/bench/client.py hold "$P1" "$n" "$COOKIE"; }
  read -r line <&"${HOLD[0]}" || line=""
  [ "$line" = ready ] || die "could not hold $n connections: $line"
  anon=$(kib "$D1" RssAnon)
  eval "exec ${HOLD[1]}>&-"; wait "$HOLD_PID" || true
  eval "mem$n=$anon"
done

URL="$BASE/api/v1/lines/1"
# ---- the yardstick: same options, same bytes ----
bench_bare "$URL" "$COOKIE"
BURL=$BARE_URL
echo "yardstick check (every response: 200, keep-alive, same bytes):"
bench_yardcheck "bare libmicrohttpd" "$BURL" "$COOKIE"
bench_yardcheck "sipcfgd" "$URL" "$COOKIE"

# ---- throughput and latency, alternated and repeated ----
declare -A RPS P50 P99 CPU
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }   # the server's user + system time, 1/100 s
run_wrk() {  # run_wrk KEY CONNS URL
  local t=2; [ "$2" -lt 2 ] && t=1
  local pid=$D1; [ "${1#bare}" != "$1" ] && pid=$BARE_PID
  local t0; t0=$(ticks "$pid")
  local out; out=$(wrk -t$t -c"$2" -d"${DUR}s" --latency -H "Cookie: $COOKIE" "$3")
  CPU[$1]+="$(awk -v a="$t0" -v b="$(ticks "$pid")" -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" \
    'BEGIN { printf "%.2f", (b - a) * 10000 / n }') "
  echo "$out" >>"$B/wrk.log"
  ! grep -q -E 'Non-2xx|Socket errors' <<<"$out" || die "$1: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"
  RPS[$1]+="$(awk '/^Requests\/sec/ { printf "%d", $2 }' <<<"$out") "
  P50[$1]+="$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")") "
  P99[$1]+="$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")") "
}
: >"$B/wrk.log"
echo "throughput and latency: $REPEAT rounds x {1, 50} connections x {bare, sipcfgd}, ${DUR} s each"
for r in $(seq "$REPEAT"); do
  for c in 1 50; do
    if [ $((r % 2)) = 1 ]; then run_wrk "bare$c" $c "$BURL"; run_wrk "ours$c" $c "$URL"
    else run_wrk "ours$c" $c "$URL"; run_wrk "bare$c" $c "$BURL"; fi
  done
done
for c in 1 50; do
  for s in bare ours; do
    eval "${s}_rps$c=$(median <<<"${RPS[$s$c]}") ${s}_p50_$c=$(median <<<"${P50[$s$c]}") ${s}_p99_$c=$(median <<<"${P99[$s$c]}") ${s}_cpu$c=$(median <<<"${CPU[$s$c]}")"
  done
done
ratio1=$(awk -v a="$ours_rps1" -v b="$bare_rps1" 'BEGIN { printf "%.2f", a / b }')
ratio50=$(awk -v a="$ours_rps50" -v b="$bare_rps50" 'BEGIN { printf "%.2f", a / b }')
figure "req/s at 1 conn, sipcfgd / bare (medians $ours_rps1 / $bare_rps1)" "${ratio1}x" ">= 0.80x" "$(verdict "$ratio1" '>=' 0.80)"
figure "req/s at 50 conns, sipcfgd / bare (medians $ours_rps50 / $bare_rps50)" "${ratio50}x" ">= 0.80x" "$(verdict "$ratio50" '>=' 0.80)"
for c in 1 50; do
  # CPU time the server spends per request (user + system): what its throughput
  # would be if it had the cores to itself; far less moved by other load than req/s.
  eval "cr=\$(awk -v a=\"\$bare_cpu$c\" -v b=\"\$ours_cpu$c\" 'BEGIN { printf \"%.2f\", a / b }')"
  eval "figure \"server CPU per request at $c conn(s), bare / sipcfgd (\$bare_cpu$c / \$ours_cpu$c us)\" \"\${cr}x\" \">= 0.80x\" \"\$(verdict \"\$cr\" '>=' 0.80)\""
done
for c in 1 50; do
  eval "figure \"latency at $c conn(s), sipcfgd p50 / p99 (bare \$bare_p50_$c / \$bare_p99_$c us)\" \"\$ours_p50_$c / \$ours_p99_$c us\" \"(reported)\" \"-\""
done

# ---- system calls per request (perf's raw_syscalls tracepoint, every thread) ----
# Like the instruction count, the machine's load does not move it; each
# server's own calls over a 1 s run, in separate runs from the timed ones.
syscalls() {  # syscalls PID CONNS URL -> calls per request
  local t=2; [ "$2" -lt 2 ] && t=1
  local out; out=$(perf stat -x, -e raw_syscalls:sys_enter -p "$1" -o "$T_DIR/perf.txt" -- \
    wrk -t$t -c"$2" -d1s -H "Cookie: $COOKIE" "$3")
  ! grep -q -E 'Non-2xx|Socket errors' <<<"$out" || die "syscall count: $(grep -E 'Non-2xx|Socket' <<<"$out")"
  awk -F, -v n="$(awk '/requests in/ { print $1 }' <<<"$out")" \
    '$3 == "raw_syscalls:sys_enter" && n > 0 { printf "%.2f", $1 / n }' "$T_DIR/perf.txt"
}
if command -v perf >/dev/null && perf stat -e raw_syscalls:sys_enter -o /dev/null true 2>/dev/null; then
  for c in 1 50; do
    sb=$(syscalls "$BARE_PID" $c "$BURL"); so=$(syscalls "$D1" $c "$URL")
    [ -n "$sb" ] && [ -n "$so" ] || die "perf counted no system calls"
    figure "system calls per GET at $c conn(s), sipcfgd / bare" "$so / $sb" "(reported)" "-"
  done
else
  figure "system calls per GET (needs perf and access to its tracepoints)" "not measured" "(reported)" "-"
fi

# ---- a CGI phone admin: busybox httpd + a shell script per request ----
mkdir -p "$T_DIR/www/cgi-bin"
cat >"$T_DIR/www/cgi-bin/lines" <<'CGI'
#!/bin/sh
# What a vendor's CGI admin does per request: a shell reads the config and prints JSON.
user=$(grep '^line1.user=' "$CONF" | cut -d= -f2)
host=$(grep '^line1.proxy.host=' "$CONF" | cut -d= -f2)
printf 'Content-Type: application/json\r\n\r\n'
printf '{"line":1,"user":"%s","proxy":{"host":"%s","port":null,"transport":"auto"}}\n' "$user" "$host"
CGI
chmod +x "$T_DIR/www/cgi-bin/lines"
printf 'line1.user=1001\nline1.proxy.host=pbx.example.com\n' >"$T_DIR/conf"
hport=$(free_port)
CONF=$T_DIR/conf busybox httpd -f -p "127.0.0.1:$hport" -h "$T_DIR/www" & T_PIDS+=($!)
for i in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$hport/cgi-bin/lines" && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$hport/cgi-bin/lines" | grep -q '"user":"1001"' || die "the CGI admin does not answer 200 with the line"
# busybox httpd closes after each CGI answer (wrk would count every one as a
# read error), so a client that checks each answer counts only 200s with the line.
read -r cgi_n cgi_ok cgi <<<"$(python3 tools/bench/client.py cgi "$hport" /cgi-bin/lines "$DUR" '"user":"1001"')"
[ "$cgi_n" -gt 0 ] && [ "$cgi_ok" = "$cgi_n" ] || die "the CGI admin failed $((cgi_n - cgi_ok)) of $cgi_n requests"
cgi=${cgi%.*}
r_cgi=$(awk -v a="$ours_rps50" -v b="$cgi" 'BEGIN { printf "%.0f", (b > 0) ? a / b : 0 }')
figure "req/s, sipcfgd at 50 conns / busybox httpd + shell CGI, 4 at a time ($cgi req/s, every answer checked)" "${r_cgi}x" ">= 20x" "$(verdict "$r_cgi" '>=' 20)"

# ---- allocation growth over GROWTH_REQ requests ----
before_anon=$(kib "$D1" RssAnon); before_data=$(kib "$D1" VmData)
done_req=0; runs=0
while [ "$done_req" -lt "$GROWTH_REQ" ] && [ "$runs" -lt 40 ]; do
  n=$(wrk -t2 -c50 -d5s -H "Cookie: $COOKIE" "$URL" | tee -a "$B/wrk.log" | awk '/requests in/ { print $1 }')
  done_req=$((done_req + n)); runs=$((runs + 1))
done
! grep -q -E 'Non-2xx|Socket errors' "$B/wrk.log" || die "sipcfgd answered errors during the growth run"
grow_anon=$(( $(kib "$D1" RssAnon) - before_anon )); grow_data=$(( $(kib "$D1" VmData) - before_data ))
figure "growth over $done_req requests: heap+maps (VmData) / anonymous RSS" "$grow_data / $grow_anon KiB" "< 64 KiB both" \
  "$( [ "$done_req" -ge "$GROWTH_REQ" ] && [ "$grow_data" -lt 64 ] && [ "$grow_anon" -lt 64 ] && echo met || echo 'NOT met')"

# ---- memory ----
figure "idle RSS / anonymous RSS / PSS / anonymous PSS" "$idle_rss / $idle_anon / $idle_pss / $idle_pss_anon KiB" "RSS < 4096 KiB" "$(verdict "$idle_rss" '<' 4096)"
figure "  anonymous: heap / thread stacks / other maps / libraries' data" "$heap / $stacks / $other_anon / $lib_anon KiB" "(reported)" "-"
figure "  TLS libraries (GnuTLS, p11-kit, gmp, ...): RSS / anonymous" "$tls_kib / $tls_anon KiB" "(reported)" "-"
figure "own (anonymous) memory at 1 / 256 connections" "$mem1 / $mem256 KiB" "(reported)" "-"
figure "own (anonymous) memory at 50 connections" "$mem50 KiB" "< 1024 KiB" "$(verdict "$mem50" '<' 1024)"
# GnuTLS also builds ~100 KiB of ASN.1 trees on the heap when it loads (valgrind massif).
emb=$((mem50 - tls_anon - 100))
figure "  the same without TLS in libmicrohttpd (estimate: - TLS anonymous - 100 KiB heap)" "$emb KiB" "(estimate, not measured)" "-"
figure "per-connection pool (libmicrohttpd)" "$((pool / 1024)) KiB" "(reported)" "-"

# ---- DNS: a cached answer end to end, and a burst against a slow server ----
rbody=$T_DIR/resolve.json
echo '{"server":"pbx.bench.test:5060","dns_srv":false}' >"$rbody"
curl -s -o /dev/null -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' \
  --data-binary @"$rbody" "$BASE/api/v1/resolve"
out=$(BENCH_BODIES=$rbody BENCH_METHOD=POST wrk -t1 -c1 -d2s --latency -s tools/bench/check.lua \
  -H "Cookie: $COOKIE" -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' "$BASE/api/v1/resolve")
read -r _ n _ good _ <<<"$(grep '^checked' <<<"$out")"
[ "$n" -gt 0 ] && [ "$good" = "$n" ] || die "POST /resolve (cached): $(grep '^checked' <<<"$out")"
c50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")"); c99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
figure "cached DNS answer via POST /resolve, p50 (p99 $c99 us)" "$c50 us" "< 1000 us" "$(verdict "$c50" '<' 1000)"

sport=$(free_port udp)
coproc SLOW { exec python3 tools/bench/slowdns.py "$sport" 100; }
T_PIDS+=("$SLOW_PID")
read -r line <&"${SLOW[0]}" || die "slow DNS server did not start"
FLASH=$T_DIR/flash2.img; cp "$T_DIR/flash.img" "$FLASH"; touch "$FLASH.passwd-set"
start_daemon --dns-server "127.0.0.1:$sport"
login "$BASE"
read -r one_s one_st < <(python3 tools/bench/client.py one "$PORT" "$COOKIE" "$CSRF" alone.slow.test)
read -r burst_s burst_ok < <(python3 tools/bench/client.py burst "$PORT" "$COOKIE" "$CSRF" 100)
[ "$one_st" = 200 ] && [ "$burst_ok" = 100 ] || die "slow DNS: one check $one_st, burst $burst_ok/100 answered 200"
stop_daemon
kill "$SLOW_PID" 2>/dev/null || true
one_ms=$(awk -v s="$one_s" 'BEGIN { printf "%.0f", s * 1000 }'); burst_ms=$(awk -v s="$burst_s" 'BEGIN { printf "%.0f", s * 1000 }')
figure "100 checks of different names at once, DNS answering in 100 ms (one alone: $one_ms ms)" "$burst_ms ms" \
  "< one timeout, 2000 ms" "$(verdict "$burst_ms" '<' 2000)"

# ---- a changed save against the fsync floor, alternated ----
printf '{"label":"bench-a"}\n{"label":"bench-b"}\n' >"$T_DIR/patches"
fl=""; sv=""
for r in $(seq "$REPEAT"); do
  read -r f50 _ < <("$B/fsync_floor" "$T_DIR" 50)
  out=$(BENCH_BODIES=$T_DIR/patches BENCH_METHOD=PATCH wrk -t1 -c1 -d2s --latency -s tools/bench/check.lua \
    -H "Cookie: $COOKIE1" -H "X-CSRF-Token: $CSRF1" -H 'Content-Type: application/merge-patch+json' \
    "http://127.0.0.1:$P1/api/v1/lines/2?dns=skip")
  read -r _ n _ good _ <<<"$(grep '^checked' <<<"$out")"
  [ "$n" -gt 0 ] && [ "$good" = "$n" ] || die "PATCH: $(grep '^checked' <<<"$out")"
  fl+="$f50 "; sv+="$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$out")") "
done
floor=$(median <<<"$fl"); save=$(median <<<"$sv")
sratio=$(awk -v a="$save" -v b="$floor" 'BEGIN { printf "%.2f", a / b }')
figure "changed PATCH p50 / fsync floor p50 ($save / $floor us)" "${sratio}x" "<= 2x" "$(verdict "$sratio" '<=' 2)"

# ---- instructions per request (callgrind): the figure the machine's load does not move ----
cg() {  # cg NAME PORT PID URL -> instructions per request
  local i
  for i in $(seq 100); do curl -s -o /dev/null -H "Cookie: $COOKIE" "$4" && break; sleep 0.2; done
  wrk -t1 -c8 -d1s -H "Cookie: $COOKIE" "$4" >/dev/null           # warm up
  callgrind_control -z "$3" >/dev/null
  local out; out=$(wrk -t1 -c8 -d3s -H "Cookie: $COOKIE" "$4")
  ! grep -q -E 'Non-2xx|Socket errors' <<<"$out" || die "$1 under callgrind: $(grep -E 'Non-2xx|Socket' <<<"$out")"
  callgrind_control -d "$3" >/dev/null
  local n; n=$(awk '/requests in/ { print $1 }' <<<"$out")
  local ir; ir=$(cat "$T_DIR"/cg."$1"* 2>/dev/null | awk '/^summary:/ { s = $2 } END { print s + 0 }')
  [ "$n" -gt 0 ] && [ "$ir" -gt 0 ] || die "callgrind gave no count for $1"
  echo $((ir / n))
}
if command -v valgrind >/dev/null; then
  cport=$(free_port)
  valgrind --tool=callgrind --callgrind-out-file="$T_DIR/cg.bare" "$B/bare_mhd" "$cport" "$pool" \
    "$B/body" "$B/headers" 2>/dev/null & T_PIDS+=($!)
  ir_bare=$(cg bare "$cport" $! "http://127.0.0.1:$cport/api/v1/lines/1")
  FLASH=$T_DIR/flash3.img; cp "$T_DIR/flash.img" "$FLASH"; touch "$FLASH.passwd-set"
  cport=$(free_port)
  valgrind --tool=callgrind --callgrind-out-file="$T_DIR/cg.ours" "$SIPCFGD" --listen "127.0.0.1:$cport" \
    --flash "$FLASH" --dns-server 127.0.0.1:9 2>/dev/null & T_PIDS+=($!)
  vpid=$!
  for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$cport/" && break; sleep 0.2; done
  login "http://127.0.0.1:$cport"
  ir_ours=$(cg ours "$cport" $vpid "http://127.0.0.1:$cport/api/v1/lines/1")
  ir_ratio=$(awk -v a="$ir_ours" -v b="$ir_bare" 'BEGIN { printf "%.2f", a / b }')
  figure "instructions per GET, sipcfgd / bare ($ir_ours / $ir_bare)" "${ir_ratio}x" "(reported)" "-"
fi

# ---- the page: its weight as sent, and navigation to usable in chromium ----
# A fresh daemon on a copy of the image, nothing else running against it.
FLASH=$T_DIR/flash4.img; cp "$T_DIR/flash.img" "$FLASH"; touch "$FLASH.passwd-set"
start_daemon --dns-server "$DNS_SERVER"
page_bytes=0
# the page, what it names (the one script, www/'s modules bundled; the style;
# the icon) and the field table it reads
named=$(curl -s "$BASE/" | grep -o ' \(href\|src\)="/[^"]*"' | sed 's/.*="//; s/"$//')
for f in / $named /fields.json; do
  read -r code n < <(curl -s -o /dev/null -w '%{http_code} %{size_download}\n' "$BASE$f")
  [ "$code" = 200 ] && [ "$n" -gt 0 ] || die "the daemon does not serve $f (HTTP $code)"
  page_bytes=$((page_bytes + n))
done
figure "page: index, script, style, icon and /fields.json as the daemon sends them" "$page_bytes bytes" "< 51200" "$(verdict "$page_bytes" '<' 51200)"
# tools/bench/page_timing.mjs: LOADS cold loads per state (no-store: every file
# downloaded each time); "usable" = the form is there and its handlers attached.
if [ -x /usr/bin/chromium ] && [ -d node_modules/playwright-core ]; then
  LOADS=${BENCH_PAGE_LOADS:-21}
  node tools/bench/page_timing.mjs "$BASE" "$ADMIN_PASS" "$LOADS" >"$B/page.txt" || die "page timing failed"
  pt() { awk -v k="$1" -v c="$2" '$1 == k { print $c }' "$B/page.txt"; }
  for st in login overview; do
    what="the login form"; [ $st = overview ] && what="the overview (logged in: lines listed, the open line's form)"
    figure "page: navigation to $what usable, median of $LOADS (p90 $(pt $st 3) ms, painted $(pt $st-painted 2) ms)" \
      "$(pt $st 2) ms" "< 150 ms" "$(verdict "$(pt $st 2)" '<' 150)"
  done
  figure "page: its own work at load, median: app.js + handlers (login / overview), building the overview" \
    "$(pt login-script 2) / $(pt overview-script 2) / $(pt overview-render 2) ms" "(reported)" "-"
  figure "page: longest task during those loads (over 50 ms blocks input)" "$(pt longtask 2) ms" "(reported)" "-"
  figure "page: bytes of a first load in chromium (login, then the field table)" "$(pt bytes 2) bytes" "< 51200" \
    "$(verdict "$(pt bytes 2)" '<' 51200)"
else
  figure "page: navigation to usable (needs /usr/bin/chromium and npm ci)" "not measured" "< 150 ms" "NOT met"
fi
stop_daemon

{
  echo
  echo "sipcfg bench: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "GET /api/v1/lines/1 with a session cookie; yardstick: libmicrohttpd $(pkg-config --modversion libmicrohttpd), same options and pool ($((pool / 1024)) KiB), same bytes, keep-alive checked"
  echo "wrk ${DUR} s per run, $REPEAT rounds alternated, medians"
  printf '%-82s %-24s %-18s %s\n' figure value goal verdict
  for row in "${fig[@]}"; do
    IFS='|' read -r a b c d <<<"$row"
    printf '%-82s %-24s %-18s %s\n' "$a" "$b" "$c" "$d"
  done
  echo "shared libraries' RSS (KiB): $libs"
} | tee "$B/results.txt"

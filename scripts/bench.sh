#!/usr/bin/env bash
# make bench: speed and memory as ratios measured in one run on this machine,
# never as timed assertions in tests. Compares sipcfgd (build/, -O2) with
#   - a bare libmicrohttpd responder in the same threading mode (goal: >= 80%)
#   - a CGI phone admin: busybox httpd + a shell CGI script (goal: >= 20x)
# and reports idle RSS (goal: < 4 MiB) and the page's size (goal: < 50 KiB).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export SIPCFG_TOP=$top SIPCFGD=$top/build/sipcfgd SIPCFG=$top/build/sipcfg
source tests/integration/lib.sh

DUR=${BENCH_SECONDS:-5}
CONN=${BENCH_CONNECTIONS:-16}
mkdir -p build/bench
cc -O2 -o build/bench/bare_mhd tools/bench/bare_mhd.c $(pkg-config --cflags --libs libmicrohttpd) -lpthread

rps() {  # rps URL [wrk args]: requests per second
  local url=$1; shift
  wrk -t2 -c"$CONN" -d"${DUR}s" "$@" "$url" | tee -a "$T_DIR/wrk.log" | awk '/^Requests\/sec/ {print int($2)}'
}
verdict() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "met" : "NOT met" }'; }

# sipcfgd, with a session cookie (digest needs a fresh nonce per request; wrk cannot do it)
start_daemon --dns-server 127.0.0.1:9
sleep 0.5
rss_kib=$(awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status")
# RSS counts every shared-library page this process touched (libc, and GnuTLS and
# p11-kit that Debian's libmicrohttpd links). The daemon's own memory is its
# anonymous RSS (heap, stacks); "private" would count library pages that no
# other process happens to map at the moment, so it is no stable measure.
own_kib=$(awk '/^RssAnon/ {print $2}' "/proc/$DAEMON_PID/status")
curl -s -D "$T_DIR/login.h" -o "$T_DIR/login.json" -H 'Content-Type: application/json' \
  --data "{\"username\":\"admin\",\"password\":\"$ADMIN_PASS\"}" "$BASE/api/v1/session"
cookie=$(grep -i '^set-cookie:' "$T_DIR/login.h" | head -1 | sed 's/^[^:]*: *//; s/;.*//; s/\r//')
ours=$(rps "$BASE/api/v1/lines/1" -H "Cookie: $cookie")
# A ratio is only honest if every request was answered 200.
if grep -q 'Non-2xx' "$T_DIR/wrk.log"; then
  echo "bench: sipcfgd answered some requests with an error:" >&2
  grep 'Non-2xx' "$T_DIR/wrk.log" >&2
  exit 1
fi
page_bytes=0
for f in www/*; do page_bytes=$((page_bytes + $(stat -c %s "$f"))); done

# the bare responder
bport=$(free_port)
build/bench/bare_mhd "$bport" & T_PIDS+=($!)
sleep 0.3
bare=$(rps "http://127.0.0.1:$bport/api/v1/lines/1")

# the CGI phone admin
cgi=0
if command -v busybox >/dev/null; then
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
  cport=$(free_port)
  CONF=$T_DIR/conf busybox httpd -f -p "127.0.0.1:$cport" -h "$T_DIR/www" & T_PIDS+=($!)
  sleep 0.3
  cgi=$(rps "http://127.0.0.1:$cport/cgi-bin/lines")
fi

echo
echo "sipcfg bench ($(nproc) cores, wrk -t2 -c$CONN -d${DUR}s, GET /api/v1/lines/1)"
printf '  %-34s %10s req/s\n' "sipcfgd (session cookie)" "$ours" "bare libmicrohttpd responder" "$bare" \
  "busybox httpd + shell CGI" "$cgi"
r_bare=$(awk -v a="$ours" -v b="$bare" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')
r_cgi=$(awk -v a="$ours" -v b="$cgi" 'BEGIN { printf "%.1f", (b > 0) ? a / b : 0 }')
echo "  sipcfgd / bare MHD:  $r_bare   (goal >= 0.80: $(verdict "$r_bare" 0.80))"
echo "  sipcfgd / CGI:       ${r_cgi}x  (goal >= 20x: $(verdict "$r_cgi" 20))"
echo "  idle RSS:            ${rss_kib} KiB (goal < 4096 KiB: $(verdict 4096 "$rss_kib")); the daemon's own (anonymous) ${own_kib} KiB"
echo "  page (www/):         ${page_bytes} bytes (goal < 51200: $(verdict 51200 "$page_bytes"))"

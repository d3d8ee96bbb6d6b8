# Sourced by scripts/bench.sh (make bench) and tools/bench/loop_ab.sh, after
# tests/integration/lib.sh: the yardstick both measure against, made and
# checked one way. The caller sets B (its build directory) and die().

# bench_build NAME...: tools/bench/NAME.c as $B/NAME.
bench_build() {
  local t
  for t in "$@"; do
    cc -O2 -Wall -Wextra -Wno-unused-parameter -o "$B/$t" "tools/bench/$t.c" \
       $(pkg-config --cflags --libs libmicrohttpd) -lpthread
  done
}

# The bare responder gets sipcfgd's own per-connection pool: the yardstick is
# sipcfgd's HTTP server with a trivial handler, nothing else. Sets POOL (bytes).
bench_pool() {
  POOL=$(cat server/*.h server/*.c | awk '/^#define HTTP_CONN_MEMORY /{ if (match($0, /[0-9]+ \* 1024/)) { split(substr($0, RSTART, RLENGTH), n, " "); print n[1] * 1024 } }')
  [ -n "$POOL" ] || die "cannot read HTTP_CONN_MEMORY from server/"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# bench_bare URL COOKIE: sipcfgd's answer to URL ($B/body, and its headers but
# Date, Content-Length and Connection in $B/headers), then the bare responder
# on a free port sending those bytes, checked to send the same body and
# headers. Sets BARE_PID, BARE_PORT and BARE_URL.
bench_bare() {
  local url=$1 cookie=$2 i
  curl -s -D "$T_DIR/ours.h" -o "$B/body" -H "Cookie: $cookie" "$url"
  grep -q '^HTTP/1.1 200' "$T_DIR/ours.h" || die "GET /${url#http://*/} did not answer 200"
  tr -d '\r' <"$T_DIR/ours.h" | grep -v -i -E '^(HTTP/|date:|content-length:|connection:|$)' >"$B/headers"
  BARE_PORT=$(free_port)
  "$B/bare_mhd" "$BARE_PORT" "$POOL" "$B/body" "$B/headers" & T_PIDS+=($!)
  BARE_PID=$!
  BARE_URL=http://127.0.0.1:$BARE_PORT/${url#http://*/}
  for i in $(seq 50); do curl -s -o /dev/null "$BARE_URL" && break; sleep 0.1; done
  curl -s -D "$T_DIR/bare.h" -o "$T_DIR/bare.body" "$BARE_URL"
  cmp -s "$B/body" "$T_DIR/bare.body" || die "the bare responder's body differs from sipcfgd's"
  local norm_ours norm_bare
  norm_ours=$(tr -d '\r' <"$T_DIR/ours.h" | grep -v -i '^date:')
  norm_bare=$(tr -d '\r' <"$T_DIR/bare.h" | grep -v -i '^date:')
  [ "$norm_ours" = "$norm_bare" ] ||
    die "the bare responder's headers differ from sipcfgd's: $(diff <(echo "$norm_ours") <(echo "$norm_bare"))"
}

# bench_yardcheck NAME URL COOKIE: every response of a 1 s run at 50
# connections is 200, keeps the connection and has $B/body; and, since wrk
# reconnects silently when a server closes after a complete answer without
# saying "Connection: close", 20 requests on one socket prove keep-alive itself.
bench_yardcheck() {
  local name=$1 url=$2 cookie=$3 out n good cerr rwerr got port path
  out=$(BENCH_EXPECT=$B/body wrk -t2 -c50 -d1s -s tools/bench/check.lua -H "Cookie: $cookie" "$url" | grep '^checked')
  read -r _ n _ good _ _ _ _ _ _ _ cerr _ rwerr <<<"$out"
  [ "$n" -gt 100 ] && [ "$good" = "$n" ] && [ "$cerr" = 0 ] && [ "$rwerr" = 0 ] ||
    die "$name is not a fair yardstick run: $out (every answer must be 200, keep the connection, same body)"
  port=${url#http://127.0.0.1:}; path=/${port#*/}; port=${port%%/*}
  got=$(python3 tools/bench/client.py keepalive "$port" "$path" "$cookie" 20)
  echo "  $name: $out; $got of 20 requests answered 200 on one connection"
  [ "$got" = 20 ] || die "$name does not keep its connection: $got of 20 requests on one socket"
}

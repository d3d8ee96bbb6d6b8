#!/usr/bin/env bash
# THREATS.md H4 as written: the DNS server never answers, and 20 PUTs under
# ?dns=require arrive at once. Each is answered on time (422 dns_timeout,
# nothing stored), and a request sent while they wait is answered at once:
# no handler blocks on DNS.
source "$(dirname "$0")/lib.sh"

silent_dns SILENT || { fail "a silent DNS server"; t_done; exit 1; }
start_daemon --dns-server "$SILENT" --dns-timeout-ms 1500 --lines 16 ||
  { fail "sipcfgd starts"; t_done; exit 1; }
api GET /status
gen0=$(printf '%s' "$BODY" | jq -r .store.generation)
login
check "page login" 201 "$STATUS"

now_ms() { date +%s%3N; }
t0=$(now_ms)
pids=()
for i in $(seq 20); do
  n=$(( (i - 1) % 16 + 1 ))
  ( out=$(curl -s --max-time 20 -H "Cookie: sid=$SID" -H "X-CSRF-Token: $CSRF" -H 'X-Requested-With: sipcfg' \
            -H 'Content-Type: application/json' -X PUT \
            --data-binary "{\"user\": \"10$i\", \"proxy\": \"pbx$i.silent.test\"}" \
            -w '\n%{http_code} %{time_total}' "$BASE/api/v1/lines/$n")
    # status, codes, when it was answered (ms since t0), its own time (s)
    printf '%s %s %s' "${out##*$'\n'}" "$(printf '%s' "${out%$'\n'*}" | jq -r '[.errors[]?.code] | join(",")')" \
      "$(( $(now_ms) - t0 ))" >"$T_DIR/put.$i" ) &
  pids+=("$!")
done
sleep 0.3
t1=$(now_ms)
api GET /status
t_status=$(( $(now_ms) - t1 ))
check "a request sent while 20 PUTs wait for DNS is answered" 200 "$STATUS"
t_answered=$(( $(now_ms) - t0 ))
for p in "${pids[@]}"; do wait "$p"; done
late=0; wrong=0; first=999999
for i in $(seq 20); do
  read -r code took codes ms <"$T_DIR/put.$i"
  [ "$ms" -lt "$first" ] && first=$ms
  [ "$code $codes" = "422 dns_timeout" ] || { wrong=$((wrong + 1)); echo "# PUT $i: $code $codes"; }
  awk -v t="$took" 'BEGIN { exit !(t <= 6) }' || { late=$((late + 1)); echo "# PUT $i took $took s"; }
done
[ "$t_answered" -lt "$first" ] && ok "...before any PUT (${t_status} ms; the first PUT at ${first} ms)" \
  || fail "...before any PUT" "status at ${t_answered} ms, the first PUT at ${first} ms"
check "every PUT is 422 dns_timeout" 0 "$wrong"
check "every PUT is answered within 6 s (--dns-timeout-ms 1500)" 0 "$late"
api GET /status
check "nothing was stored" "$gen0" "$(printf '%s' "$BODY" | jq -r .store.generation)"
t_done

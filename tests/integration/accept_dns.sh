#!/usr/bin/env bash
# Acceptance of the DNS side, black box, as API.md describes it: POST /resolve
# (section 4's object, every status), the routing explanation, the checks of a
# write and the stored lineN.F.resolved, `sipcfg resolve`, --dns-server and
# --dns-timeout-ms, and that a silent DNS server blocks nothing else.
. "$(dirname "$0")/lib.sh"

start_dnsmasq \
  --srv-host=_sip._udp.example.test,sip1.example.test,5060,10,60 \
  --srv-host=_sip._udp.example.test,sip2.example.test,5060,10,40 \
  --srv-host=_sip._udp.example.test,sip3.example.test,5062,20,0 \
  --srv-host=_sip._udp.example.test,sip2.example.test,5064,5,0 \
  --srv-host=_sip._tcp.example.test,sip1.example.test,5060,10,0 \
  --srv-host=_sips._tcp.example.test,sip1.example.test,5061,10,0 \
  --host-record=sip1.example.test,192.0.2.11,2001:db8::11 \
  --host-record=sip2.example.test,192.0.2.12 \
  --host-record=sip3.example.test,192.0.2.13 \
  --naptr-record=naptr.test,10,50,s,SIP+D2T,,_sip._tcp.naptr.test \
  --naptr-record=naptr.test,20,50,s,SIP+D2U,,_sip._udp.naptr.test \
  --srv-host=_sip._tcp.naptr.test,sip1.example.test,5070,1,0 \
  --srv-host=_sip._udp.naptr.test,sip2.example.test,5080,1,0 \
  --host-record=aonly.test,192.0.2.50 \
  --host-record=v6only.test,2001:db8::99 \
  --txt-record=txtonly.test,text \
  --srv-host=_sip._udp.noservice.test --host-record=noservice.test,192.0.2.40 \
  || { fail "dnsmasq starts"; t_done; exit 1; }
cli() { "$SIPCFG" --flash "$FLASH" "$@"; }
now_ms() { date +%s%3N; }
resolve() { json_api POST /resolve "$1"; }   # resolve BODY

# ---- servers on loopback that never answer (a UDP socket nobody reads) and
# ---- one that answers SERVFAIL to everything
silent_dns SILENT || { fail "a silent DNS server starts"; t_done; exit 1; }
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
s.settimeout(300)
for _ in range(100000):
    q, a = s.recvfrom(512)
    if len(q) < 12: continue
    # same id and question, QR=1, RD copied, RA=1, RCODE=2 (SERVFAIL), no records
    s.sendto(q[:2] + bytes([0x80 | (q[2] & 0x01), 0x82]) + q[4:6] + b"\0\0\0\0\0\0" + q[12:], a)
' >"$T_DIR/servfail.port" &
T_PIDS+=($!)
for _ in $(seq 50); do [ -s "$T_DIR/servfail.port" ] && break; sleep 0.1; done
SERVFAIL="127.0.0.1:$(cat "$T_DIR/servfail.port")"
CLOSED="127.0.0.1:$(free_port udp)"       # nothing listens there

start_daemon --dns-server "$DNS_SERVER" || { fail "sipcfgd starts"; t_done; exit 1; }

# ---- the resolution object, exactly (API.md section 4)
resolve '{"server": "example.test"}'
check_status "POST /resolve answers 200" 200
check_json "members of a resolution" \
  '[keys[] | select(. != "warnings" and . != "lookups")] | sort | join(",")' \
  "elapsed_ms,method,server,status,targets,ttl"
check_json "server object" '.server | [keys[]] | sort | join(",")' "host,port,transport"
check_json "server normalised" '.server | "\(.host) \(.port) \(.transport)"' "example.test null auto"
check_json "target members" '[.targets[] | keys | sort | join(",")] | unique | join(";")' \
  "addresses,host,port,priority,transport,weight"
check_json "ttl and elapsed_ms are integers" \
  '[.ttl, .elapsed_ms] | map(type == "number" and . == floor and . >= 0) | all' true
check_json "SRV: method" '.method' srv
check_json "SRV: status" '.status' ok
check_json "SRV: priority asc, then weight desc" \
  '[.targets[] | "\(.priority)/\(.weight)/\(.port)/\(.transport)/\(.host)"] | join(" ")' \
  "5/0/5064/udp/sip2.example.test 10/60/5060/udp/sip1.example.test 10/40/5060/udp/sip2.example.test 10/0/5061/tls/sip1.example.test 10/0/5060/tcp/sip1.example.test 20/0/5062/udp/sip3.example.test"
check_json "SRV: addresses of a target" '.targets[1].addresses | join(",")' "192.0.2.11,2001:db8::11"

resolve '{"server": "naptr.test"}'
check_json "NAPTR -> SRV" '"\(.status) \(.method)"' "ok naptr"
check_json "NAPTR targets" '[.targets[] | "\(.port)/\(.transport)/\(.host)"] | join(" ")' \
  "5070/tcp/sip1.example.test 5080/udp/sip2.example.test"
resolve '{"server": "sip:naptr.test;transport=udp"}'
check_json "a given transport skips NAPTR" '"\(.method) \(.targets[0].port) \(.targets[0].transport)"' "srv 5080 udp"

resolve '{"server": "aonly.test"}'
check_json "A only: method a, 5060 udp" \
  '"\(.status) \(.method) \(.targets[0].port) \(.targets[0].transport) \(.targets[0].addresses[0])"' \
  "ok a 5060 udp 192.0.2.50"
resolve '{"server": {"host": "aonly.test", "port": null, "transport": "tls"}}'
check_json "A only, tls: 5061" '"\(.method) \(.targets[0].port) \(.targets[0].transport)"' "a 5061 tls"
resolve '{"server": "v6only.test"}'
check_json "AAAA only" '"\(.status) \(.method) \(.targets[0].addresses | join(","))"' "ok a 2001:db8::99"
resolve '{"server": "example.test:5070"}'
check_json "explicit port: no SRV" '"\(.method) \(.server.port)"' "a 5070"
resolve '{"server": "aonly.test:5070"}'
check_json "explicit port: that port" '"\(.status) \(.targets[0].port)"' "ok 5070"
resolve '{"server": "example.test", "dns_srv": false}'
check_json "dns_srv false: no SRV, no NAPTR" \
  '"\(.method) \([.lookups[]?.type | select(. == "SRV" or . == "NAPTR")] | length)"' "a 0"
resolve '{"server": "aonly.test", "dns_srv": false}'
check_json "dns_srv false, A record" '"\(.status) \(.method)"' "ok a"
resolve '{"server": "sips:example.test"}'
check_json "sips: is tls over _sips._tcp" \
  '"\(.server.transport) \(.method) \([.targets[].transport] | unique | join(",")) \(.targets[0].port)"' \
  "tls srv tls 5061"
resolve '{"server": "example.test;transport=tcp"}'
check_json "host;transport=tcp" '"\(.server.transport) \([.targets[].transport] | unique | join(","))"' "tcp tcp"
resolve '{"server": "sip:example.test;transport=tcp"}'
check_json "sip:host;transport=tcp" '"\(.server.transport) \(.targets[0].port)"' "tcp 5060"

# ---- IP literals: no DNS traffic at all
queries() { api GET /status; printf '%s' "$BODY" | jq -r '.dns.queries_sent'; }
q0=$(queries)
resolve '{"server": "192.0.2.7"}'
check_json "IPv4 literal" '"\(.status) \(.method) \(.targets[0].port) \(.targets[0].transport) \(.targets[0].addresses[0])"' \
  "ok literal 5060 udp 192.0.2.7"
resolve '{"server": "[2001:db8::1]:5080"}'
check_json "IPv6 literal" '"\(.status) \(.method) \(.server.host) \(.targets[0].port)"' "ok literal 2001:db8::1 5080"
resolve '{"server": "sips:192.0.2.7"}'
check_json "literal with tls: 5061" '"\(.targets[0].port) \(.targets[0].transport)"' "5061 tls"
check "literals send no query" "$q0" "$(queries)"

# ---- every DNS outcome is 200
resolve '{"server": "nosuch.test"}'
check_status "nxdomain is 200" 200
check_json "nxdomain" '"\(.status) \(.targets | length)"' "nxdomain 0"
resolve '{"server": "txtonly.test"}'
check_json "no_records" '.status' no_records
resolve '{"server": "noservice.test"}'
check_json "unavailable (SRV target .)" '.status' unavailable
resolve '{"server": "pbx.example.org"}'      # dnsmasq without upstream refuses it
check_status "refused is 200" 200
check_json "refused" '.status' refused

# ---- 422 only for the request's shape
for b in '{"server": "pbx example.test"}' '{"server": {"host": "a.test", "port": 0}}' \
         '{"server": {"host": "a.test", "transport": "sctp"}}' '{"server": 42}' \
         '{"server": {"host": "a.test", "bogus": 1}}'; do
  resolve "$b"
  check_status "malformed server $b: 422" 422
done
resolve '{"server": "a.test", "extra": 1}'
check_status "unknown key: 422" 422
check_json "unknown key: code" '.errors[0].code' unknown_field
resolve '{"dns_srv": true}'
check_status "no server: 422" 422
resolve '{"server": "a.test", "dns_srv": "yes"}'
check_status "dns_srv not a boolean: 422" 422

# ---- writes: the checks array and the stored resolution
json_api PUT /lines/1 '{"proxy": "example.test", "registrar": "naptr.test", "outbound_proxy": "192.0.2.99:5070",
                        "backup_proxy": "aonly.test", "backup_registrar": "v6only.test"}'
check_status "PUT with five servers" 200
check_json "one check per set server" '[.checks[].field] | sort | join(",")' \
  "backup_proxy,backup_registrar,outbound_proxy,proxy,registrar"
check_json "checks are resolutions" '[.checks[] | .status + "/" + .method] | sort | join(",")' \
  "ok/a,ok/a,ok/literal,ok/naptr,ok/srv"
check "proxy resolved in flash" \
  "5 0 5064 udp sip2.example.test 192.0.2.12;10 60 5060 udp sip1.example.test 192.0.2.11,2001:db8::11;10 40 5060 udp sip2.example.test 192.0.2.12;10 0 5061 tls sip1.example.test 192.0.2.11,2001:db8::11;10 0 5060 tcp sip1.example.test 192.0.2.11,2001:db8::11;20 0 5062 udp sip3.example.test 192.0.2.13" \
  "$(cli get line1.proxy.resolved)"
check "literal resolved in flash" "0 0 5070 udp 192.0.2.99 192.0.2.99" "$(cli get line1.outbound_proxy.resolved)"
check "AAAA resolved in flash" "0 0 5060 udp v6only.test 2001:db8::99" "$(cli get line1.backup_registrar.resolved)"
json_api PUT /lines/2 '{"proxy": "nosuch.test"}'
check_status "require: nxdomain rejects" 422
check_json "require: the failed check is returned" '.checks[0] | "\(.field) \(.status)"' "proxy nxdomain"

# ---- routing
api GET /lines/1/routing
check_status "GET routing" 200
check_json "REGISTER: outbound proxy, registrar, backup registrar" \
  '[.register[] | .field + "/" + .role] | join(" ")' \
  "outbound_proxy/primary registrar/primary backup_registrar/backup"
check_json "INVITE: outbound proxy, proxy, backup proxy" \
  '[.invite[] | .field + "/" + .role] | join(" ")' "outbound_proxy/primary proxy/primary backup_proxy/backup"
check_json "hop members" '[.register[], .invite[] | keys | sort | join(",")] | unique | join(";")' \
  "field,resolution,role"
check_json "hop resolutions" '[.invite[].resolution | .field + ":" + .status] | join(" ")' \
  "outbound_proxy:ok proxy:ok backup_proxy:ok"
for n in 0 7 x; do
  api GET "/lines/$n/routing"
  check_status "routing of line $n: 404" 404
done
json_api POST /routing '{"proxy": "aonly.test", "backup_proxy": "192.0.2.5"}'
check_status "POST routing of an unsaved line" 200
check_json "without registrar REGISTER goes to the proxy" '[.register[] | .field + "/" + .role] | join(" ")' \
  "proxy/primary backup_proxy/backup"
check_json "INVITE to the proxy" '[.invite[] | .field + "/" + .role + "/" + .resolution.status] | join(" ")' \
  "proxy/primary/ok backup_proxy/backup/ok"
api GET /lines/1
json_api POST /routing "$BODY"
check_status "a GET line sent to POST routing" 200
json_api POST /routing '{"proxy": "bad host"}'
check_status "POST routing of a malformed line: 422" 422
json_api POST /routing '{"proxy": "nosuch.test"}'
check_status "POST routing: a DNS failure is not a refusal" 200
check_json "POST routing: the failure is the hop's status" '.invite[0].resolution.status' nxdomain
stop_daemon

# ---- a silent DNS server: timeout on time, nothing else blocked.
# No wall-clock thresholds on the client side (a loaded machine makes curl and
# jq slow): "not blocked" is proven by order (GET /lines answered while the
# check is still waiting) and "parallel" by the total against what serial
# checks would take at the least (10 x the timeout).
TMO=2500
FLASH="$T_DIR/flash2.img"
start_daemon --dns-server "$SILENT" --dns-timeout-ms $TMO || { fail "sipcfgd starts (silent DNS)"; t_done; exit 1; }
resolve '{"server": "example.test"}' &
rpid=$!
sleep 0.5
api GET /lines
check_status "GET /lines while a check waits" 200
kill -0 "$rpid" 2>/dev/null && ok "GET /lines answered while the check still waits" \
  || fail "GET /lines answered while the check still waits" "the check had already ended"
wait "$rpid"
resolve '{"server": "example.test"}'
check_status "timeout is 200" 200
check_json "timeout" '.status' timeout
el=$(printf '%s' "$BODY" | jq -r .elapsed_ms)
[ "$el" -le $((TMO + 300)) ] && ok "timeout within --dns-timeout-ms ($el ms)" \
  || fail "timeout within --dns-timeout-ms ($TMO)" "$el ms"
ppids=()
t4=$(now_ms)
for i in $(seq 10); do
  ( json_api POST /resolve "{\"server\": \"par$i.test\"}"
    printf '%s %s\n' "$STATUS" "$(printf '%s' "$BODY" | jq -r .status)" >"$T_DIR/par.$i" ) &
  ppids+=($!)
done
wait "${ppids[@]}"; t5=$(now_ms)
check "10 parallel checks all time out" "10" "$(cat "$T_DIR"/par.* | grep -c '^200 timeout$')"
[ $((t5 - t4)) -lt $((TMO * 5)) ] && ok "10 parallel checks finish together ($((t5 - t4)) ms; serial >= $((TMO * 10)))" \
  || fail "10 parallel checks finish together" "$((t5 - t4)) ms, serial would be >= $((TMO * 10))"
json_api PUT /lines/1 '{"proxy": "example.test"}'
check_status "require with a silent DNS: 422" 422
check_json "require: dns_timeout" '.errors[0].code' dns_timeout
stop_daemon

# ---- a DNS server port where nothing listens: no answer, so timeout (not refused)
FLASH="$T_DIR/flash3.img"
start_daemon --dns-server "$CLOSED" --dns-timeout-ms 800 || { fail "sipcfgd starts (closed DNS port)"; t_done; exit 1; }
resolve '{"server": "example.test"}'
check_json "nothing listening: timeout" '.status' timeout
stop_daemon

# ---- SERVFAIL
FLASH="$T_DIR/flash4.img"
start_daemon --dns-server "$SERVFAIL" || { fail "sipcfgd starts (SERVFAIL DNS)"; t_done; exit 1; }
resolve '{"server": "example.test"}'
check_json "servfail" '.status' servfail
stop_daemon

# ---- --dns-server: HOST:PORT lists
FLASH="$T_DIR/flash5.img"
start_daemon --dns-server "localhost:$DNS_PORT" || { fail "sipcfgd starts with localhost:PORT"; t_done; exit 1; }
resolve '{"server": "aonly.test"}'
check_json "--dns-server localhost:PORT" '.status' ok
stop_daemon
for bad in "127.0.0.1:0" "127.0.0.1:99999" "127.0.0.1:abc" "nosuch.invalid:53" "127.0.0.1:$DNS_PORT,"; do
  "$SIPCFGD" --listen "127.0.0.1:$(free_port)" --flash "$T_DIR/flash6.img" --dns-server "$bad" \
    >/dev/null 2>"$T_DIR/bad.err" &
  bpid=$!
  T_PIDS+=("$bpid")
  for _ in $(seq 50); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
  wait "$bpid" 2>/dev/null
  check "sipcfgd --dns-server '$bad' exits 2" 2 "$?"
done

# ---- sipcfg resolve
out=$("$SIPCFG" resolve --dns-server "$DNS_SERVER" --json naptr.test); rc=$?
check "resolve --json exit 0" 0 "$rc"
check "resolve --json: the resolution" "ok naptr" "$(printf '%s' "$out" | jq -r '"\(.status) \(.method)"')"
out=$("$SIPCFG" resolve --dns-server "$DNS_SERVER" example.test); rc=$?
check "resolve for a person: exit 0" 0 "$rc"
case "$out" in *"1. sip2.example.test:5064 udp"*"Result: ok (srv"*) ok "resolve: targets in order" ;;
  *) fail "resolve: targets in order" "$out" ;; esac
"$SIPCFG" resolve --dns-server "$DNS_SERVER" nosuch.test >/dev/null; check "resolve nxdomain: exit 1" 1 "$?"
"$SIPCFG" resolve --dns-server "$DNS_SERVER" --no-srv --json example.test >"$T_DIR/o.json"
check "resolve --no-srv" "a" "$(jq -r .method "$T_DIR/o.json")"
"$SIPCFG" resolve --dns-server "$DNS_SERVER" 'pbx example.test' 2>/dev/null; check "malformed SERVER: exit 2" 2 "$?"
"$SIPCFG" resolve --dns-server "127.0.0.1:99999" aonly.test 2>/dev/null; check "bad --dns-server: exit 2" 2 "$?"
t0=$(now_ms)
"$SIPCFG" resolve --dns-server "$SILENT" --timeout-ms 500 --json example.test >"$T_DIR/t.json"; rc=$?
t1=$(now_ms)
check "resolve timeout: exit 1" 1 "$rc"
check "resolve timeout: status" timeout "$(jq -r .status "$T_DIR/t.json")"
el=$(jq -r .elapsed_ms "$T_DIR/t.json")
[ "$el" -le 800 ] && ok "resolve timeout within --timeout-ms ($el ms)" || fail "resolve timeout within --timeout-ms 500" "$el ms"
# The command ends (no hang); the bound is loose because process start under ASan on a loaded machine is slow.
[ $((t1 - t0)) -lt 10000 ] && ok "resolve ends after its timeout ($((t1 - t0)) ms)" || fail "resolve ends after its timeout" "$((t1 - t0)) ms"

t_done

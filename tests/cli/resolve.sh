#!/usr/bin/env bash
# sipcfg resolve against a real dnsmasq: what a person reads, the JSON, and the
# exit status (0 ok, 1 any other DNS outcome, 2 usage / malformed server).
. "$(dirname "$0")/../integration/lib.sh"

start_dnsmasq --local-ttl=60 \
  --srv-host=_sip._udp.pbx.example.test,sip1.example.test,5060,10,60 \
  --srv-host=_sip._udp.pbx.example.test,sip2.example.test,5060,10,40 \
  --srv-host=_sip._tcp.pbx.example.test,sip1.example.test,5060,10,0 \
  --srv-host=_sips._tcp.pbx.example.test,sip1.example.test,5061,10,0 \
  --naptr-record=pbx.example.test,10,50,s,SIPS+D2T,,_sips._tcp.pbx.example.test \
  --naptr-record=pbx.example.test,20,50,s,SIP+D2T,,_sip._tcp.pbx.example.test \
  --naptr-record=pbx.example.test,30,50,s,SIP+D2U,,_sip._udp.pbx.example.test \
  --host-record=sip1.example.test,192.0.2.11,2001:db8::11 \
  --host-record=sip2.example.test,192.0.2.12 \
  --host-record=aonly.test,192.0.2.50 \
  --srv-host=_sip._udp.withport.test,sip1.example.test,5060,10,0 \
  --host-record=withport.test,192.0.2.60 \
  --srv-host=_sip._udp.noservice.test \
  --srv-host=_sip._udp.loop.test,localhost.loop.test,5060,10,0 \
  --host-record=localhost.loop.test,127.0.0.1 || exit 1

R() { "$SIPCFG" resolve --dns-server "$DNS_SERVER" "$@"; }
no_ms() { sed -E 's/[0-9]+ ms/N ms/'; }

# --- for a person: lookups, targets in order, result
out=$(R pbx.example.test | no_ms); rc=${PIPESTATUS[0]}
expected="Checking pbx.example.test (transport auto, SRV on) via $DNS_SERVER
  NAPTR pbx.example.test             3 records
  SRV   _sips._tcp.pbx.example.test  1 record
  SRV   _sip._tcp.pbx.example.test   1 record
  SRV   _sip._udp.pbx.example.test   2 records
  A     pbx.example.test             no records
  AAAA  pbx.example.test             no records
  A     sip1.example.test            192.0.2.11
  AAAA  sip1.example.test            2001:db8::11
  A     sip2.example.test            192.0.2.12
  AAAA  sip2.example.test            no records
Targets, in the order the phone tries them:
  1. sip1.example.test:5060 udp  priority 10 weight 60  192.0.2.11, 2001:db8::11
  2. sip2.example.test:5060 udp  priority 10 weight 40  192.0.2.12
  3. sip1.example.test:5061 tls  priority 10 weight 0  192.0.2.11, 2001:db8::11
  4. sip1.example.test:5060 tcp  priority 10 weight 0  192.0.2.11, 2001:db8::11
Result: ok (naptr, ttl 60 s, N ms)"
check "naptr/srv output for a person" "$expected" "$out"
check "ok exits 0" 0 "$rc"

out=$(R sip:pbx.example.test\;transport=udp | no_ms)
check "transport udp asks _sip._udp only" "Checking pbx.example.test (transport udp, SRV on) via $DNS_SERVER
  SRV   _sip._udp.pbx.example.test  2 records
  A     pbx.example.test            no records
  AAAA  pbx.example.test            no records
  A     sip1.example.test           192.0.2.11
  AAAA  sip1.example.test           2001:db8::11
  A     sip2.example.test           192.0.2.12
  AAAA  sip2.example.test           no records
Targets, in the order the phone tries them:
  1. sip1.example.test:5060 udp  priority 10 weight 60  192.0.2.11, 2001:db8::11
  2. sip2.example.test:5060 udp  priority 10 weight 40  192.0.2.12
Result: ok (srv, ttl 60 s, N ms)" "$out"

# --- A/AAAA fallback, tls default port
out=$(R sips:aonly.test | no_ms)
check "no SRV: A of the host on 5061 for tls" "Checking aonly.test (transport tls, SRV on) via $DNS_SERVER
  SRV   _sips._tcp.aonly.test  NXDOMAIN (no such name)
  A     aonly.test             192.0.2.50
  AAAA  aonly.test             no records
Targets, in the order the phone tries them:
  1. aonly.test:5061 tls  priority 0 weight 0  192.0.2.50
Result: ok (a, ttl 60 s, N ms)" "$out"

# --- --no-srv: A/AAAA only
out=$(R --no-srv pbx.example.test); rc=$?
check "--no-srv asks no SRV" "" "$(printf '%s\n' "$out" | grep -E 'NAPTR|SRV  ')"
check "--no-srv: the name has no address" "Result: no_records (a, N ms): pbx.example.test exists but has no SRV record and no address" \
  "$(printf '%s\n' "$out" | tail -1 | no_ms)"
check "no_records exits 1" 1 "$rc"

# --- an explicit port hides SRV records: warned
out=$(R withport.test:5070)
check "explicit port target" "  1. withport.test:5070 udp  priority 0 weight 0  192.0.2.60" \
  "$(printf '%s\n' "$out" | grep '^  1\.')"
case "$out" in
  *"(srv_ignored_by_port)"*) ok "explicit port warns srv_ignored_by_port" ;;
  *) fail "explicit port warns srv_ignored_by_port" "$out" ;;
esac

# --- loopback target warned
out=$(R sip:loop.test\;transport=udp)
case "$out" in
  *"127.0.0.1, a loopback address"*"(local_address)"*) ok "loopback target warns" ;;
  *) fail "loopback target warns" "$out" ;;
esac

# --- negative outcomes: exit 1, the reason in words
out=$(R nosuchname.test); rc=$?
check "nxdomain" "Result: nxdomain (a, N ms): nosuchname.test does not exist" "$(printf '%s\n' "$out" | tail -1 | no_ms)"
check "nxdomain exits 1" 1 "$rc"
out=$(R noservice.test); rc=$?
check "unavailable" "Result: unavailable (srv, N ms): the domain says it offers no SIP service there (SRV target \".\")" \
  "$(printf '%s\n' "$out" | tail -1 | no_ms)"
check "unavailable exits 1" 1 "$rc"
out=$(R example.org); rc=$?   # dnsmasq 2.90 with no upstream refuses names outside --local
check "refused" "Result: refused (srv, N ms): the DNS server refused the query" "$(printf '%s\n' "$out" | tail -1 | no_ms)"
check "refused exits 1" 1 "$rc"

# --- JSON: the resolution object
json=$(R --json withport.test:5062)
BODY=$json
check_json "json status" '.status' ok
check_json "json method" '.method' a
check_json "json server" '.server | "\(.host) \(.port) \(.transport)"' "withport.test 5062 auto"
check_json "json no field member" 'has("field")' false
check_json "json warning code" '.warnings[0].code' srv_ignored_by_port
check_json "json warning field" '.warnings[0].field' port
check_json "json lookups" '[.lookups[] | "\(.type) \(.name)"] | join(",")' \
  "SRV _sips._tcp.withport.test,SRV _sip._tcp.withport.test,SRV _sip._udp.withport.test,A withport.test,AAAA withport.test"
check_json "json target" '.targets[0] | "\(.host):\(.port) \(.transport) \(.addresses[0])"' "withport.test:5062 udp 192.0.2.60"
json=$(R --json pbx.example.test)
BODY=$json
check_json "json targets" '[.targets[] | "\(.priority)/\(.weight) \(.host):\(.port) \(.transport) \(.addresses|join(","))"] | join("; ")' \
  "10/60 sip1.example.test:5060 udp 192.0.2.11,2001:db8::11; 10/40 sip2.example.test:5060 udp 192.0.2.12; 10/0 sip1.example.test:5061 tls 192.0.2.11,2001:db8::11; 10/0 sip1.example.test:5060 tcp 192.0.2.11,2001:db8::11"
check_json "json ttl" '.ttl' 60
check_json "json keys" 'keys_unsorted | join(",")' "server,status,method,targets,ttl,elapsed_ms,warnings,lookups"
json=$(R --json nosuchname.test); rc=$?
BODY=$json
check_json "json nxdomain" '"\(.status) \(.targets|length)"' "nxdomain 0"
check "json nxdomain exits 1" 1 "$rc"

# --- a DNS server that never answers: timeout on time
silent_dns silent || fail "a silent DNS server starts"
start=$(date +%s%N)
out=$("$SIPCFG" resolve --dns-server "$silent" --timeout-ms 400 pbx.example.test); rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
check "timeout" "Result: timeout (srv, N ms): no answer from the DNS server within 400 ms" "$(printf '%s\n' "$out" | tail -1 | no_ms)"
check "timeout exits 1" 1 "$rc"
if [ "$took" -ge 200 ] && [ "$took" -le 3000 ]; then ok "timeout within the deadline ($took ms)"
else fail "timeout within the deadline" "took $took ms"; fi

# --- an IP literal needs no DNS: answered at once even with a silent server
out=$("$SIPCFG" resolve --dns-server "$silent" --timeout-ms 400 '[2001:db8::1]:5080' | no_ms); rc=$?
check "literal" "Checking [2001:db8::1]:5080 (transport auto): an IP address, no DNS lookup
Targets, in the order the phone tries them:
  1. [2001:db8::1]:5080 udp  priority 0 weight 0  2001:db8::1
Result: ok (literal, ttl 0 s, N ms)" "$out"
check "literal exits 0" 0 "$rc"
BODY=$("$SIPCFG" resolve --json 192.0.2.7)
check_json "literal json" '"\(.method) \(.targets[0].port) \(.targets[0].transport) \(.targets[0].addresses[0]) \(.lookups|length)"' \
  "literal 5060 udp 192.0.2.7 0"

# --- usage errors: exit 2 and a message that names the problem
err=$("$SIPCFG" resolve 'pbx example.com' 2>&1 >/dev/null); rc=$?
check "malformed server exits 2" 2 "$rc"
case "$err" in *"contains a space"*) ok "malformed server named" ;; *) fail "malformed server named" "$err" ;; esac
err=$("$SIPCFG" resolve pbx.example.test:99999 2>&1 >/dev/null); rc=$?
check "bad port exits 2" 2 "$rc"
case "$err" in *"server.port"*) ok "bad port named" ;; *) fail "bad port named" "$err" ;; esac
"$SIPCFG" resolve >/dev/null 2>&1; check "no server exits 2" 2 "$?"
"$SIPCFG" resolve a.test b.test >/dev/null 2>&1; check "two servers exit 2" 2 "$?"
err=$("$SIPCFG" resolve --dns-server dns.example.com:53 pbx.test 2>&1 >/dev/null); rc=$?
check "bad --dns-server exits 2" 2 "$rc"
case "$err" in *"--dns-server"*) ok "bad --dns-server named" ;; *) fail "bad --dns-server named" "$err" ;; esac
"$SIPCFG" resolve --timeout-ms abc pbx.test >/dev/null 2>&1; check "bad --timeout-ms exits 2" 2 "$?"
"$SIPCFG" resolve --frobnicate pbx.test >/dev/null 2>&1; check "unknown option exits 2" 2 "$?"

t_done

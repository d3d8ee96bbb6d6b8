# THREATS A1: no field ever reaches a shell. The daemon imports no function that
# runs a program, and with every such function interposed (LD_PRELOAD shim that
# logs and refuses), command-injection payloads in every server and text field
# are refused with a per-field error, nothing is stored, and nothing ran.
source "$(dirname "$0")/lib.sh"

# 1. Nothing to interpose in our own code: the binaries do not import them.
for bin in "$SIPCFGD" "$SIPCFG"; do
  hits=$(nm -D --undefined-only "$bin" 2>/dev/null | awk '{print $NF}' |
         grep -E '^(system|popen|execl|execlp|execle|execv|execve|execvp|execvpe|posix_spawnp?|fork)(@|$)' || true)
  check "$(basename "$bin") imports no program-running function" "" "$hits"
done

# 2. At run time, with the shim preloaded into the daemon.
cc -shared -fPIC -O1 -o "$T_DIR/noexec.so" "$SIPCFG_TOP/tests/integration/shim/noexec.c" ||
  { fail "build the shim"; t_done; exit 1; }
NOEXEC_LOG=$T_DIR/exec.log
# Only the daemon gets the shim. ASan wants to be first in the library list;
# the shim only adds symbols, so that check is relaxed for this run.
SIPCFGD_ENV="LD_PRELOAD=$T_DIR/noexec.so NOEXEC_LOG=$NOEXEC_LOG ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
  start_daemon || { fail "start sipcfgd with the shim"; t_done; exit 1; }
if grep -q noexec.so "/proc/$DAEMON_PID/maps"; then ok "the shim is loaded into sipcfgd"
else fail "the shim is loaded into sipcfgd"; fi

# The shim catches a program that does run another: `env true` calls execvp.
LD_PRELOAD=$T_DIR/noexec.so NOEXEC_LOG=$T_DIR/canary.log /usr/bin/env true 2>/dev/null
case "$(cat "$T_DIR/canary.log" 2>/dev/null)" in
  exec*) ok "the shim catches a program being run" ;;
  *) fail "the shim catches a program being run" "canary log: $(cat "$T_DIR/canary.log" 2>/dev/null)" ;;
esac

api GET /status
gen0=$(printf '%s' "$BODY" | jq -r .store.generation)
payloads=('sip.example.com;reboot' '$(id)' '`id`' 'a|b' 'a&&b' $'a\nb' 'a%0ab'
          '-oProxyCommand=x' '--help' 'a b' $'pbx.example.com\r\nline1.password=x'
          'a=b' $'a\tb' 'pbx.example.com；reboot' '＄(id)')
# '-', '=' and '&' are legal in a SIP user part (RFC 3261), so "--help" or
# "a=b" is a valid user: harmless bytes, as no field ever reaches a shell.
user_payloads=('sip.example.com;reboot' '$(id)' '`id`' 'a|b' $'a\nb' 'a b'
               $'1001\r\nline1.password=x' $'a\tb' '1001；reboot' '＄(id)')
refused=0; total=0
for f in proxy registrar outbound_proxy backup_proxy backup_registrar domain user auth_user; do
  list=("${payloads[@]}")
  case "$f" in user|auth_user) list=("${user_payloads[@]}") ;; esac
  for p in "${list[@]}"; do
    body=$(jq -cn --arg f "$f" --arg v "$p" '{($f): $v}')
    json_api PUT '/lines/1?dns=skip' "$body"
    total=$((total + 1))
    if [ "$STATUS" = 422 ] &&
       printf '%s' "$BODY" | jq -e --arg f "$f" '[.errors[].field | startswith($f)] | any' >/dev/null; then
      refused=$((refused + 1))
    else
      fail "PUT $f = $(printf '%q' "$p") is refused with an error on $f" "HTTP $STATUS: $BODY"
    fi
  done
done
check "every injection payload refused with a per-field 422" "$total" "$refused"
api GET /status
check "nothing was stored" "$gen0" "$(printf '%s' "$BODY" | jq -r .store.generation)"

# Text fields may hold such characters as text (a label is not a command), but
# they are stored as bytes and never run.
json_api PUT '/lines/2?dns=skip' '{"label": "$(reboot); `id` | a && b"}'
check_status "a label with shell characters is just text" 200
check "the label reads back byte for byte" '$(reboot); `id` | a && b' \
  "$("$SIPCFG" --flash "$FLASH" get line2.label)"
# And a live check of a name runs no program either (c-ares, not a resolver tool).
json_api POST /resolve '{"server": "pbx.example.com"}'
check_status "a live DNS check" 200
stop_daemon

if [ -s "$NOEXEC_LOG" ]; then
  fail "sipcfgd never ran a program" "$(head -5 "$NOEXEC_LOG")"
else
  ok "sipcfgd never ran a program"
fi
t_done

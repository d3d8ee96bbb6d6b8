#!/usr/bin/env bash
# The daemon's gate, as an attacker meets it (THREATS.md C1, E1, E2, F3, G2,
# B4, H3): no API route answers without authentication whatever the path
# trick or method, the page's files and nothing else, the Host check against
# DNS rebinding, JSON-only bodies, the 64 KiB cap, and the security headers
# on every kind of response. Real sipcfgd on a free loopback port.
. "$(dirname "$0")/lib.sh"

start_fresh --allow-host phone.lan || { fail "daemon starts"; t_done; exit 1; }

# ---- C1: no API route without authentication, whatever the method ----
routes=(/api/v1/lines /api/v1/lines/1 /api/v1/lines/1/routing /api/v1/routing /api/v1/resolve
        /api/v1/config /api/v1/admin/password /api/v1/status /api/v1/openapi.json
        /api/v1/session /api/v1/nonexistent /api/v1/lines/99 /api/v2/lines /api/ /api/v1)
methods=(GET HEAD POST PUT PATCH DELETE OPTIONS TRACE FOO)
bad=""
for r in "${routes[@]}"; do
  for m in "${methods[@]}"; do
    [ "$r" = /api/v1/session ] && [ "$m" = POST ] && continue
    req "$m" "$r"
    [ "$STATUS" = 401 ] || bad+=" $m $r=$STATUS"
  done
done
check "every API route and method without credentials is 401 (never 404/405/200)" "" "$bad"

req GET /api/v1/lines
check "401 offers Digest SHA-256 in realm sipcfg" "yes" \
  "$(header WWW-Authenticate | grep -qi '^Digest .*realm="sipcfg".*algorithm=sha-256' && echo yes)"
check_json "401 is problem+json" '.status' 401
check "401 content type" "application/problem+json" "$(header Content-Type)"

# Path tricks (THREATS C1): never 200 without credentials.
tricks=("//api/v1/lines" "/api/v1/./lines" "/API/v1/lines" "/api/v1/%6cines" "/api/v1/lines;.css"
        "/api/v1/lines?images/" "/api/v1/lines%00.png" "/api/v1/lines/" "/api/./v1/lines"
        "/static/../api/v1/lines" "/api/v1/lines/../lines" "/%61pi/v1/lines" "/api/v1/lines%2f1"
        "/api/v1/lines?sid=x" "/index.html/../api/v1/lines" "/api%2fv1%2flines")
for p in "${tricks[@]}"; do
  for m in GET PUT DELETE; do
    req "$m" "$p" -H 'Content-Type: application/json' --data-binary '{}'
    case "$STATUS" in
      401|404) ok "$m $p without credentials -> $STATUS" ;;
      *) fail "$m $p without credentials" "got $STATUS: $BODY" ;;
    esac
  done
done
req GET /api/v1/lines -H 'X-HTTP-Method-Override: GET'
check "X-HTTP-Method-Override does not bypass authentication" 401 "$STATUS"
req POST /api/v1/session -H 'X-HTTP-Method-Override: GET'
check "X-HTTP-Method-Override does not turn the login into a GET" 400 "$STATUS"

# Authenticated, the same tricks reach no handler: the path must be canonical.
login
check "login for the path tests" 201 "$STATUS"
for p in "/api/v1/./lines" "/api/v1//lines" "/api/v1/lines;.css" "/api/v1/%6cines" \
         "/api/v1/lines%00.png" "/api/v1/lines/" "/api/v1/lines/../lines" "/api/v1/LINES" \
         "/api/v1/lines/1/../2"; do
  sreq GET "$p"
  check "authenticated $p -> 404" 404 "$STATUS"
done
sreq GET "/api/v1/lines?images/"
check "authenticated /api/v1/lines?images/ is /lines with an unknown query parameter: 400" 400 "$STATUS"
check_json "... naming it" '.parameter' "images/"
sreq GET /api/v1/lines -H 'X-HTTP-Method-Override: DELETE'
check "X-HTTP-Method-Override is ignored (a GET stays a GET)" 200 "$STATUS"
check_json "... and returns the lines" '.lines | length' 6
sreq POST /api/v1/lines
check "405 for a known path with another method" 405 "$STATUS"
check "405 says Allow" "GET, HEAD" "$(header Allow)"

# ---- G2: the page's files and nothing else ----
req GET /
check "/ is the page" 200 "$STATUS"
check "page type" "text/html; charset=utf-8" "$(header Content-Type)"
req GET /index.html;   check "/index.html" 200 "$STATUS"
req GET /app.js;       check "/app.js" 200 "$STATUS"
check "app.js type" "text/javascript; charset=utf-8" "$(header Content-Type)"
req GET /app.css;      check "/app.css" 200 "$STATUS"
check "app.css type" "text/css; charset=utf-8" "$(header Content-Type)"
req HEAD /app.js;      check "HEAD of an asset" 200 "$STATUS"
for p in "/../../etc/passwd" "/%2e%2e/%2e%2e/etc/passwd" "/..%2f..%2fetc%2fpasswd" "/%252e%252e/etc/passwd" \
         "/index.html%00" "/%00" "/index.html%00.js" "/./index.html" "//index.html" "/app.js/.." \
         "/..\\..\\etc\\passwd" "/INDEX.HTML" "/index.html/" "/www/index.html" "/etc/passwd" \
         "/$(head -c 3000 /dev/zero | tr '\0' a)"; do
  req GET "$p"
  check "static ${p:0:40} -> 404" 404 "$STATUS"
  case "$BODY" in *root:*) fail "no file content leaks for $p" ;; esac
done
# The page obeys its own CSP and stays small.
req GET /
page=$BODY
if grep -Eiq '<script>|<script[^>]*>[^<]|<style|[[:space:]]style=|[[:space:]]on[a-z]+=|javascript:' <<<"$page"; then
  fail "the page has no inline script, style or handler"
else ok "the page has no inline script, style or handler"; fi
# The page's script is /app.js: www/'s modules bundled (scripts/www-bundle.sh);
# the modules themselves are served only by --www.
req GET /app.js; check "/app.js" 200 "$STATUS"
check "app.js type" "text/javascript; charset=utf-8" "$(header Content-Type)"
js=$BODY
for f in "$SIPCFG_TOP"/www/*.js; do
  case ${f##*/} in app.js) continue ;; esac
  req GET "/${f##*/}"; check "/${f##*/} is in the bundle, not served alone" 404 "$STATUS"
  # each module's first function is in the bundle
  fn=$(sed -n -E 's/^(async )?function ([A-Za-z0-9_$]+).*/\2/p' "$f" | head -1)
  grep -q "function $fn(" <<<"$js" && ok "${f##*/}'s $fn is in /app.js" || fail "${f##*/}'s $fn is in /app.js"
done
if grep -Eq '^(import|export) ' <<<"$js"; then fail "the bundle has no import or export left"
else ok "the bundle has no import or export left"; fi
if grep -Eq 'innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function' <<<"$js"; then
  fail "the page's script never writes HTML or evaluates strings"
else ok "the page's script never writes HTML or evaluates strings"; fi
grep -q "'X-Requested-With': 'sipcfg'" <<<"$js" && ok "the page's script asks for no digest challenge" || fail "the page's script sends X-Requested-With"
grep -q "X-CSRF-Token" <<<"$js" && ok "the page's script sends the CSRF token" || fail "the page's script sends the CSRF token"
total=0
for f in / /app.css /app.js /favicon.svg /fields.json; do
  n=$(curl -s "$BASE$f" | wc -c); total=$((total + n))
done
[ "$total" -lt 51200 ] && ok "the page is under 50 KiB ($total bytes)" || fail "the page is under 50 KiB" "$total"

req POST / -H 'Content-Type: application/json' --data-binary '{}'
check "POST to the page -> 405" 405 "$STATUS"
check "405 on the page says Allow" "GET, HEAD" "$(header Allow)"
req DELETE /app.js
check "DELETE of an asset -> 405" 405 "$STATUS"

# ---- E2: Host check (DNS rebinding) ----
for h in attacker.example 192.168.1.50.nip.io "attacker.example:$PORT" 127.0.0.1.attacker.example \
         localhost.attacker.example 2130706433 phone.lan.evil; do
  req GET / -H "Host: $h"
  check "Host: $h -> 421 for the page" 421 "$STATUS"
  req GET /api/v1/lines -H "Host: $h"
  check "Host: $h -> 421 for the API" 421 "$STATUS"
done
for h in "127.0.0.1:$PORT" 127.0.0.1 localhost "localhost:$PORT" LOCALHOST "[::1]" "[::1]:$PORT" \
         "192.0.2.7:8080" phone.lan "Phone.LAN:$PORT"; do
  req GET / -H "Host: $h"
  check "Host: $h is fine" 200 "$STATUS"
done
req GET / -H "Host:"
check "HTTP/1.1 without Host -> 400" 400 "$STATUS"
req GET / -0 -H "Host:"
check "HTTP/1.0 without Host is fine" 200 "$STATUS"
for h in "[::1" "127.0.0.1:99999" "127.0.0.1:" "a:b:c" "[zz]:80"; do
  req GET / -H "Host: $h"
  case "$STATUS" in 400|421) ok "malformed Host '$h' -> $STATUS" ;; *) fail "malformed Host '$h'" "got $STATUS" ;; esac
done

# ---- E1/B6: only JSON bodies (authenticated with the session) ----
for ct in "text/plain" "application/x-www-form-urlencoded" "multipart/form-data; boundary=x" \
          "application/json; charset=latin1" "application/jsonx" "application/json-patch+json" \
          "text/json" ""; do
  sreq PUT "/api/v1/lines/1?dns=skip" -H "Content-Type: $ct" --data-binary '{"label":"x"}'
  check "PUT with Content-Type '$ct' -> 415" 415 "$STATUS"
done
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: multipart/form-data; boundary="a'$'\x01''b"' \
  --data-binary $'--a\x01b\r\n\r\n{}\r\n--a\x01b--\r\n'
check "multipart with an odd boundary -> 415" 415 "$STATUS"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/merge-patch+json' --data-binary '{"label":"Office"}'
check "PATCH takes application/merge-patch+json" 200 "$STATUS"
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/merge-patch+json' --data-binary '{"label":"Office"}'
check "PUT does not take merge-patch+json" 415 "$STATUS"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: Application/JSON; Charset=UTF-8' --data-binary '{"label":"Office"}'
check "application/json; charset=utf-8 in any case is fine" 200 "$STATUS"
api GET /lines/1
check_json "the accepted writes were stored" '.label' Office

# ---- B1/H3: bodies over 64 KiB ----
head -c $((65 * 1024)) /dev/zero | tr '\0' ' ' >"$T_DIR/big.json"
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' --data-binary @"$T_DIR/big.json"
check "65 KiB body with Content-Length -> 413" 413 "$STATUS"
check_json "413 is problem+json" '.status' 413
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary @"$T_DIR/big.json"
check "65 KiB chunked body -> 413" 413 "$STATUS"
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Content-Length: 100000000000000000000000'
case "$STATUS" in 413|400) ok "absurd Content-Length refused ($STATUS)" ;; *) fail "absurd Content-Length" "got $STATUS" ;; esac
{ printf '{"label":"%s"}' "$(head -c 60000 /dev/zero | tr '\0' a)"; } >"$T_DIR/60k.json"
sreq PUT "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
  --data-binary @"$T_DIR/60k.json"
check "a 60 KB chunked body is read whole and judged by the handler (422: label too long)" 422 "$STATUS"
req GET /api/v1/lines -H 'Content-Type: application/json' --data-binary @"$T_DIR/big.json"
check "unauthenticated big body: 401 first" 401 "$STATUS"

# ---- F3: security headers on every kind of response ----
hdr_ok() {  # name: checks $T_DIR/headers
  local what=$1 missing=""
  [ "$(header X-Content-Type-Options)" = nosniff ] || missing+=" nosniff"
  [ "$(header X-Frame-Options)" = DENY ] || missing+=" X-Frame-Options"
  [ "$(header Referrer-Policy)" = no-referrer ] || missing+=" Referrer-Policy"
  [ "$(header Cache-Control)" = no-store ] || missing+=" Cache-Control"
  local csp; csp=$(header Content-Security-Policy)
  case "$csp" in *"default-src 'self'"*"script-src 'self'"*"frame-ancestors 'none'"*) ;; *) missing+=" CSP" ;; esac
  case "$csp" in *unsafe-inline*|*unsafe-eval*|*"*"*) missing+=" CSP-too-wide" ;; esac
  [ -z "$(header Access-Control-Allow-Origin)" ] || missing+=" ACAO"
  [ -z "$(header Server)" ] || missing+=" Server"
  check "security headers on $what" "" "$missing"
}
req GET /;                                   hdr_ok "200 page"
req GET /app.js;                             hdr_ok "200 asset"
sreq GET /api/v1/lines;                      hdr_ok "200 API"
check "API JSON type" "application/json" "$(header Content-Type)"
req GET /api/v1/lines;                       hdr_ok "401"
req GET /nope;                               hdr_ok "404 page"
sreq GET /api/v1/nope;                       hdr_ok "404 API"
sreq POST /api/v1/lines;                     hdr_ok "405"
sreq PUT "/api/v1/lines/1" -H 'Content-Type: application/json' --data-binary @"$T_DIR/big.json"; hdr_ok "413"
sreq PUT "/api/v1/lines/1" -H 'Content-Type: text/plain' --data-binary '{}';                    hdr_ok "415"
req GET / -H 'Host: attacker.example';       hdr_ok "421"
sreq PUT "/api/v1/lines/1" -H 'Content-Type: application/json' -H 'X-CSRF-Token: nope' --data-binary '{}'; hdr_ok "403"

# ---- E3: no CORS, cross-site writes refused ----
sreq OPTIONS /api/v1/lines -H 'Origin: https://evil.example' -H 'Access-Control-Request-Method: PUT'
check "preflight gets no Access-Control-Allow-Origin" "" "$(header Access-Control-Allow-Origin)"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Origin: http://evil.example' \
  --data-binary '{"label":"Evil"}'
check "a write from another Origin -> 403 even with the token" 403 "$STATUS"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Origin: null' --data-binary '{"label":"Evil"}'
check "Origin: null -> 403" 403 "$STATUS"
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H 'Sec-Fetch-Site: cross-site' \
  --data-binary '{"label":"Evil"}'
check "Sec-Fetch-Site: cross-site -> 403" 403 "$STATUS"
# The Origin must equal ours, not start with it (a prefix match would let these in).
for o in "http://127.0.0.1:$PORT.evil.example" "http://127.0.0.1:${PORT}0" "http://127.0.0.1:$PORT/" \
         "http://127.0.0.1:$PORT@evil.example" "https://127.0.0.1:$PORT" "http://127.0.0.1"; do
  sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H "Origin: $o" \
    --data-binary '{"label":"Evil"}'
  check "Origin: $o -> 403" 403 "$STATUS"
done
sreq PATCH "/api/v1/lines/1?dns=skip" -H 'Content-Type: application/json' -H "Origin: http://127.0.0.1:$PORT" \
  --data-binary '{"label":"Same"}'
check "a write from the page's own origin is fine" 200 "$STATUS"
api GET /lines/1
check_json "no cross-site write was stored" '.label' Same

# ---- B3/B4: hostile Authorization and Cookie headers ----
long=$(head -c 7000 /dev/zero | tr '\0' a)
for a in "Basic" "Basic !!!" "Basic $(printf 'admin' | base64)" "Basic $long" "Digest" \
         'Digest username="admin"' 'Digest username="admin", realm="sipcfg", nonce="x", uri="/api/v1/lines", response="y"' \
         'Digest username="admin", realm="sipcfg", nonce="00", uri="/api/v1/lines", nc=zzzz, cnonce="a", qop=auth, response="00"' \
         "Digest uri=\"/$long\"" 'Digest username="admin", username="admin"' "Bearer x"; do
  req GET /api/v1/lines -H "Authorization: $a"
  case "$STATUS" in 401|429) ok "Authorization '${a:0:40}' -> $STATUS" ;; *) fail "Authorization '${a:0:40}'" "got $STATUS" ;; esac
done
cookies=$(for i in $(seq 1000); do printf 'c%d=v; ' "$i"; done)
req GET /api/v1/lines -H "Cookie: $cookies"
case "$STATUS" in 401|431) ok "1000 cookies -> $STATUS" ;; *) fail "1000 cookies" "got $STATUS" ;; esac
for c in "=v" "sid=" "sid=$long" "$long=x" "sid=$SID; sid=$SID" "sid=$SID; sid=0000" "SID=$SID" \
         "__Host-sid=$SID" "sid=${SID^^}" "sid=${SID}0" "sid=${SID:1}"; do
  req GET /api/v1/lines -H "Cookie: $c"
  case "$STATUS" in 401|431) ok "Cookie '${c:0:30}...' -> $STATUS" ;; *) fail "Cookie '${c:0:30}'" "got $STATUS" ;; esac
done
req GET /api/v1/lines -H "Cookie: theme=dark; sid=$SID"
check "the session cookie among others works" 200 "$STATUS"
req GET /api/v1/lines -H "Cookie: sid=$SID" -H "Authorization: Basic eDp4"
case "$STATUS" in 401|429) ok "a bad Authorization beside a good session cookie -> $STATUS (the header is judged)" ;;
  *) fail "a bad Authorization beside a good session cookie is judged by the header" "got $STATUS" ;; esac

# ---- H1/H2 are MHD's (timeouts and limits are set); the daemon still answers ----
req GET /
check "still serving after all that" 200 "$STATUS"
kill -0 "$DAEMON_PID" 2>/dev/null && ok "daemon alive" || fail "daemon alive"
if grep -q 'ERROR: AddressSanitizer\|runtime error' "$T_DIR/sipcfgd.log"; then
  fail "no sanitizer report" "$(grep -m3 'AddressSanitizer\|runtime error' "$T_DIR/sipcfgd.log")"
else
  ok "no sanitizer report"
fi
stop_daemon && ok "SIGTERM stops the daemon" || fail "SIGTERM stops the daemon"

# ---- --www DIR: the table's names from disk, nothing else ----
mkdir -p "$T_DIR/www"
printf '<p>dev page</p>' >"$T_DIR/www/index.html"
echo 'secret' >"$T_DIR/www/secret.txt"
printf 'export { };' >"$T_DIR/www/util.js"
ln -s /etc/passwd "$T_DIR/www/app.js"
FLASH=$T_DIR/www.img start_fresh --www "$T_DIR/www" || fail "start with --www"
req GET /
check "--www serves index.html from disk" "200:<p>dev page</p>" "$STATUS:$BODY"
req GET /util.js
check "--www serves www/'s modules unbundled" "200:export { };" "$STATUS:$BODY"
check "--www: a module's type" "text/javascript; charset=utf-8" "$(header Content-Type)"
req GET /secret.txt
check "--www serves no name outside the table" 404 "$STATUS"
req GET /app.js
check "--www follows no symlink" 404 "$STATUS"
case "$BODY" in *root:*) fail "no /etc/passwd through a symlink" ;; *) ok "no /etc/passwd through a symlink" ;; esac
req GET /app.css
check "--www: a table name missing on disk is 404" 404 "$STATUS"
stop_daemon

# ---- IPv6 loopback ----
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
  P6=$(free_port)
  "$SIPCFGD" --listen "[::1]:$P6" --flash "$T_DIR/v6.img" 2>"$T_DIR/v6.log" &
  DAEMON_PID=$!; T_PIDS+=("$DAEMON_PID")
  for _ in $(seq 100); do curl -sg -o /dev/null "http://[::1]:$P6/" && break; sleep 0.1; done
  check "[::1] listen prints its URL" 1 "$(grep -c "listening on http://\[::1\]:$P6/" "$T_DIR/v6.log")"
  st=$(curl -sg -o /dev/null -w '%{http_code}' "http://[::1]:$P6/")
  check "the page over [::1] (Host: [::1]:port)" 200 "$st"
  st=$(curl -sg -o /dev/null -w '%{http_code}' -H 'Host: attacker.example' "http://[::1]:$P6/")
  check "Host check over IPv6 too" 421 "$st"
  stop_daemon
else
  ok "# SKIP no IPv6 loopback here"
fi
t_done

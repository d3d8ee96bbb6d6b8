#!/usr/bin/env bash
# `make run`: the optimised daemon in the foreground on http://127.0.0.1:8080/
# with the flash image var/flash.img of this checkout (created on first start).
# sipcfgd itself prints the URL, and on an image without an admin password the
# random password it generated (once). Extra arguments go to sipcfgd, e.g.
#   scripts/run.sh --dns-server 127.0.0.1:5353 --allow-host phone.lan
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p var
chmod 700 var
if build/sipcfg --flash var/flash.img get admin.ha1 >/dev/null 2>&1; then
  # sipcfgd prints a password only when it makes the first one.
  echo "sipcfg: log in as user admin with the password set earlier (lost it? stop sipcfgd with" \
       "Ctrl-C, then: printf 'NEW-PASSWORD\\n' | build/sipcfg --flash var/flash.img passwd)" >&2
fi
exec build/sipcfgd --listen 127.0.0.1:8080 --flash var/flash.img "$@"

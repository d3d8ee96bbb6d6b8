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
exec build/sipcfgd --listen 127.0.0.1:8080 --flash var/flash.img "$@"

#!/usr/bin/env bash
# Installs the Debian packages sipcfg needs to build, test and run, and only
# the ones that are missing, so a second run costs nothing.
set -euo pipefail

pkgs=(gcc make pkg-config libmicrohttpd-dev libjansson-dev libc-ares-dev
      libcmocka-dev nettle-dev zlib1g-dev libcurl4-gnutls-dev dnsmasq-base curl jq openssl
      valgrind python3 python3-yaml iproute2)
# Extra groups, asked for by name: `deps.sh bench`, `deps.sh browser`, `deps.sh e2e`.
for extra in "$@"; do
  case "$extra" in
    bench)   pkgs+=(wrk busybox linux-perf) ;;   # perf: the system-call count
    fuzz)    pkgs+=(clang) ;;
    # tests/e2e: real registrars (kamailio, with kamcmd) and a real SIP UA.
    e2e)     pkgs+=(kamailio baresip-core) ;;
    # The browser tests: Debian's chromium, and node/npm only when none is on
    # PATH (nodesource's nodejs bundles npm and conflicts with Debian's npm).
    browser) pkgs+=(chromium)
             command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
             command -v npm >/dev/null 2>&1 || pkgs+=(npm) ;;
    *) echo "deps.sh: unknown group '$extra'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

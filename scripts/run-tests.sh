#!/usr/bin/env bash
# Runs the test programs of one build: scripts/run-tests.sh BUILD_DIR [unit|integration|all]
#   unit:        every cmocka binary in BUILD_DIR/tests/
#   integration: every binary in BUILD_DIR/itests/ and every tests/integration/*.sh and tests/cli/*.sh
#   e2e:         tests/e2e/*.sh (real kamailio and baresip; also part of integration)
# Each program is bounded by a timeout; the last line is "N passed, N failed".
set -u
build=${1:?build dir}
what=${2:-all}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

export SIPCFGD="$top/$build/sipcfgd" SIPCFG="$top/$build/sipcfg" SIPCFG_TOP="$top"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0; failed=0; failures=()
run_one() {  # name, command...
  local name=$1; shift
  echo "=== $name"
  if timeout -k 10 600 "$@"; then
    passed=$((passed + 1))
  else
    echo "--- FAILED: $name (exit $?)"
    failed=$((failed + 1)); failures+=("$name")
  fi
}

if [ "$what" = unit ] || [ "$what" = all ]; then
  for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    if [ -n "${VALGRIND:-}" ]; then
      run_one "unit/$(basename "$t")" valgrind -q --error-exitcode=99 --leak-check=full \
        --errors-for-leak-kinds=definite "$t"
    else
      run_one "unit/$(basename "$t")" "$t"
    fi
  done
fi
if [ "$what" = integration ] || [ "$what" = all ]; then
  for t in "$build"/itests/test_*; do
    [ -x "$t" ] || continue
    run_one "integration/$(basename "$t")" "$t"
  done
  for t in tests/integration/*.sh tests/cli/*.sh; do
    [ -f "$t" ] || continue
    case "$(basename "$t")" in lib*.sh) continue ;; esac
    run_one "${t#tests/}" bash "$t"
  done
  # The page in a real browser (Debian's chromium via playwright-core, see
  # package.json). npm ci only when node_modules is missing or older than the
  # lock file; when it fails, that is a failed test, never a silent skip.
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    run_one "browser/npm-ci" npm ci --no-audit --no-fund
  fi
  run_one "browser" node --test tests/browser/*.test.mjs
fi
if [ "$what" = integration ] || [ "$what" = e2e ] || [ "$what" = all ]; then
  for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    run_one "${t#tests/}" bash "$t"
  done
fi

echo
for f in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

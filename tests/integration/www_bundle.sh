#!/usr/bin/env bash
# scripts/www-bundle.sh, which makes www/'s ES modules the one /app.js the
# daemon embeds: it bundles the real modules, and it refuses (with the module
# and the reason) every module shape whose meaning one shared scope would
# change, instead of emitting a script that breaks in the browser.
. "$(dirname "$0")/lib.sh"
B=$SIPCFG_TOP/scripts/www-bundle.sh
W=$SIPCFG_TOP/www
cd "$T_DIR" || exit 1

# bundle NAME EXPECTED-EXIT EXPECTED-WORDS MODULE...
bundle() {
  local name=$1 want=$2 words=$3; shift 3
  local err rc
  err=$("$B" js out.js "$@" 2>&1 >/dev/null); rc=$?
  check "$name: exit" "$want" "$rc"
  if [ -z "$words" ]; then check "$name: says nothing" "" "$err"
  else case "$err" in *"$words"*) ok "$name: says '$words'" ;; *) fail "$name: says '$words'" "$err" ;; esac; fi
}

# The real modules, in the order the Makefile gives (util.js first, app.js last).
mods=("$W/util.js")
for f in "$W"/*.js; do case ${f##*/} in util.js|app.js) ;; *) mods+=("$f") ;; esac; done
mods+=("$W/app.js")
bundle "www/'s modules" 0 "" "${mods[@]}"
if grep -Eq '^(import|export)[ {]' out.js; then fail "no import or export line left"; else ok "no import or export line left"; fi
n=0; for f in "${mods[@]}"; do n=$((n + $(grep -cv -e '^import { .* } from ' -e '^export { .* };$' "$f"))); done
check "every other line of every module is kept" "$n" "$(wc -l <out.js)"
node --check out.js 2>/dev/null && ok "the bundle parses" || fail "the bundle parses"
"$B" html index.html "$W/index.html"
check "index.html: no modulepreload left" 0 "$(grep -c modulepreload index.html)"
check "index.html: the one script" 1 "$(grep -c '<script type="module" src="/app.js"></script>' index.html)"

# What it refuses.
printf 'const a = 1;\nfunction f() {}\nexport { a, f };\n' >a.js
printf "import { a } from './a.js';\nfunction f() { return a; }\nexport { f };\n" >clash.js
bundle "a name two modules declare" 1 "clash.js declares f, which an earlier module declares too" a.js clash.js
printf "import { b } from './a.js';\nconst c = b;\n" >noexp.js
bundle "an import a module does not export" 1 "noexp.js imports b, which a.js does not export" a.js noexp.js
printf "import { a } from './gone.js';\n" >nomod.js
bundle "an import of a module not bundled" 1 "nomod.js imports gone.js, which is not bundled" a.js nomod.js
printf 'const d = 1;\nexport default d;\n' >def.js
bundle "export default" 1 "def.js: an import or export this bundler does not understand" def.js
printf "const m = import('./a.js');\n" >dyn.js
bundle "a dynamic import" 1 "dyn.js: an import or export this bundler does not understand" dyn.js
printf "import * as A from './a.js';\n" >star.js
bundle "import * as" 1 "star.js: an import or export this bundler does not understand" a.js star.js
printf 'export function g() {}\n' >inl.js
bundle "an inline export" 1 "inl.js: an import or export this bundler does not understand" inl.js
printf 'const { x, y } = { x: 1, y: 2 };\n' >des.js
bundle "a top-level destructuring" 1 "des.js: a top-level destructuring declaration" des.js
# a comment that says "import." is no import
printf '// the admin part: export and import.\nconst z = 1;\n' >cmt.js
bundle "a comment naming import" 0 "" cmt.js
t_done

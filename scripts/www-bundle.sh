#!/bin/sh
# www-bundle.sh js OUT MODULE... : the page's ES modules as the one script the
#   daemon serves (as the last MODULE's name, the entry). Each chromium request
#   costs the page a few ms on a phone-class CPU, and the overview must be
#   usable within 150 ms of navigation: one script instead of five.
# www-bundle.sh html OUT IN : index.html for that one script (its
#   <link rel="modulepreload"> lines dropped).
#
# The bundle is the modules' text one after another in one module scope, minus
# their import and export lines. That keeps what the modules mean (live
# bindings included: util.js's csrf, app.js's openLine) as long as the modules
# keep to what is checked here, else the build fails:
#   - imports and exports are whole lines: import { a, b } from './x.js';
#     and export { a, b }; and nothing else says import or export;
#   - every imported name is exported by the module named, which is bundled;
#   - no top-level name is declared by two modules.
# www/ stays the modules; `sipcfgd --www www` serves them unbundled.
set -eu
mode=$1 out=$2
shift 2
die() { echo "www-bundle.sh: $*" >&2; exit 1; }

if [ "$mode" = html ]; then
  grep -q '<script type="module" src="/app.js"></script>' "$1" || die "$1 does not load /app.js as a module"
  sed '/<link rel="modulepreload"/d' "$1" >"$out.tmp"
  mv "$out.tmp" "$out"
  exit 0
fi
[ "$mode" = js ] || die "usage: www-bundle.sh js OUT MODULE... | html OUT IN"

impl='import { [A-Za-z0-9_$, ]* } from '"'"'\./[a-z]*\.js'"'"';$'
expl='export { [A-Za-z0-9_$, ]* };$'
imp="^$impl" exp="^$expl"
names=''
for m in "$@"; do
  base=${m##*/}
  grep -n 'import\|export' "$m" | grep -v -e "^[0-9]*:$impl" -e "^[0-9]*:$expl" -e '^[0-9]*:[[:space:]]*//' |
    grep -E '(^[0-9]+:(import|export)[^A-Za-z0-9_$])|[^A-Za-z0-9_$.]import *[(.]' &&
    die "$base: an import or export this bundler does not understand (above)"
  # imported names against the named module's export line
  grep "$imp" "$m" | while IFS= read -r line; do
    from=$(printf '%s\n' "$line" | sed "s/.* from '\.\/\([a-z]*\.js\)';\$/\1/")
    src=''
    for x in "$@"; do [ "${x##*/}" = "$from" ] && src=$x; done
    [ -n "$src" ] || die "$base imports $from, which is not bundled"
    have=$(grep "$exp" "$src" | sed 's/^export { \(.*\) };$/\1/' | tr -d ' ' | tr ',' '\n')
    for n in $(printf '%s\n' "$line" | sed 's/^import { \(.*\) } from.*/\1/' | tr -d ' ' | tr ',' ' '); do
      printf '%s\n' "$have" | grep -qxF "$n" || die "$base imports $n, which $from does not export"
    done
  done
  # top-level declarations start at column 0
  grep -q '^\(const\|let\|var\) *[[{]' "$m" && die "$base: a top-level destructuring declaration (not checked for clashes)"
  mine=$(sed -n -E 's/^(async )?(function\*?|class|const|let|var) +([A-Za-z0-9_$]+).*/\3/p' "$m")
  for n in $mine; do
    case " $names " in *" $n "*) die "$base declares $n, which an earlier module declares too" ;; esac
    names="$names $n"
  done
done

for m in "$@"; do
  grep -v -e "$imp" -e "$exp" "$m"
done >"$out.tmp"
mv "$out.tmp" "$out"

#!/bin/sh
# www-min.sh IN OUT: the page's file as the daemon embeds it, without what only
# a reader needs: leading indentation, and comments that fill a whole line
# (JS "// ...", CSS "/* ... */"), and in CSS the spaces around punctuation.
# Line-based and nothing else, so it cannot change
# what the code does: the page's .js have no template literals (checked here), so no
# string spans lines, and a line whose text starts with "//" is a comment.
# www/ stays the readable source; `--www DIR` serves it unchanged.
set -eu
in=$1 out=$2
case $in in
  *.js)
    if grep -q '`' "$in"; then echo "www-min.sh: $in has a template literal; strip by hand" >&2; exit 1; fi
    sed -e 's/^[[:space:]]*//' -e '/^\/\//d' -e '/^$/d' "$in" >"$out.tmp" ;;
  *.css)
    # also the spaces around { } ; , > and after ":" (app.css has no " :" selector
    # and no quoted text, checked here), and the last ";" of a block
    if grep -q ' :\|["'"'"']' "$in"; then echo "www-min.sh: $in has a \" :\" selector or a string" >&2; exit 1; fi
    sed -E -e 's/^[[:space:]]*//' -e '/^\/\*.*\*\/$/d' -e '/^$/d' \
      -e 's/[[:space:]]*([{};,>])[[:space:]]*/\1/g' -e 's/:[[:space:]]+/:/g' -e 's/;}/}/g' "$in" >"$out.tmp" ;;
  *.html)
    sed -e 's/^[[:space:]]*//' "$in" >"$out.tmp" ;;
  *)
    cp "$in" "$out.tmp" ;;
esac
mv "$out.tmp" "$out"

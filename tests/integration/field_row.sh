#!/usr/bin/env bash
# "A new plain text field of a line is one row of the table": a copy of the
# tree gains a throwaway field `note` as one row of lib/line.c's field table
# plus its entry in the reader's list of text settings (SIPCFG_LINE_TEXTS in
# include/sipcfg.h, which struct line and struct sipcfg_line are expanded
# from), and nothing else. The copy's build must then carry it through every
# layer: defaults, JSON out and in, flash keys, the checks and the reader's
# struct (tests/unit/test_fields.c walks the table through them), /fields.json,
# and the OpenAPI Line/LineInput schemas the daemon serves; `make openapi`
# brings the committed api/openapi.yaml along, and until then
# openapi_fields.sh's check says it is stale.
. "$(dirname "$0")/lib.sh"

tree=$T_DIR/tree
mkdir -p "$tree/tests"
cp -r "$SIPCFG_TOP"/{Makefile,include,lib,tools,api,scripts,www} "$tree/"
cp -r "$SIPCFG_TOP/tests/unit" "$tree/tests/"
cp -r "$tree/lib" "$T_DIR/lib.orig"
cp "$tree/include/sipcfg.h" "$T_DIR/sipcfg.h.orig"

# ---- the change: one row in each list
python3 - "$tree" <<'PY'
import re, sys
t = sys.argv[1]
p = t + "/include/sipcfg.h"
s = open(p).read()
s, n1 = re.subn(r'(\n    X\(domain, 253\)[^\n]*)\n', r'\1 \\\n    X(note, 40)\n', s, count=1)
open(p, "w").write(s)
p = t + "/lib/line.c"
s = open(p).read()
row = '    TEXT(note, FT_TEXT, "Note", "A note about the line, for the admin.", "Acme: Line Note"),\n'
s, n2 = re.subn(r'(\n)(    BOOL\("dns_srv")', r'\1' + row.replace('\\', '\\\\') + r'\2', s, count=1)
open(p, "w").write(s)
sys.exit(0 if n1 == n2 == 1 else 1)
PY
check "the throwaway row is added to the table and the reader's list" 0 $?
added=$( { diff -r "$T_DIR/lib.orig" "$tree/lib"; diff "$T_DIR/sipcfg.h.orig" "$tree/include/sipcfg.h"; } \
  | grep -c '^>')
check "the change is those two rows (and the backslash that continues the list)" 3 "$added"

# ---- the copy's build: library, /fields.json, the served contract, the table walk
if make -C "$tree" -j2 OPT_CFLAGS=-O0 build/tests/test_fields build/gen/fields.json \
     build/gen/openapi.yaml >"$T_DIR/build.log" 2>&1; then
  ok "the tree with the new row builds"
else
  fail "the tree with the new row builds" "$(tail -20 "$T_DIR/build.log")"; t_done; exit 1
fi
if "$tree/build/tests/test_fields" >"$T_DIR/walk.log" 2>&1; then
  ok "test_fields: defaults, JSON, flash keys, checks, /fields.json and the reader follow the row"
else
  fail "test_fields follows the new row" "$(tail -20 "$T_DIR/walk.log")"
fi
check "test_fields walked the new row (it is in the table)" 1 \
  "$(jq '[.[] | select(.name == "note")] | length' "$tree/build/gen/fields.json")"
check "/fields.json: the row with its limit, label and vendor name" '40 Note Line Note' \
  "$(jq -r '.[] | select(.name == "note") | "\(.max_length) \(.label) \(.vendors.Acme)"' \
    "$tree/build/gen/fields.json")"

# ---- the contract the daemon serves has it; the committed one is stale until make openapi
schema() {  # FILE: Line.note, LineInput.note, whether Line requires note
  python3 - "$1" <<'PY'
import json, sys, yaml
s = yaml.safe_load(open(sys.argv[1]))["components"]["schemas"]
print(json.dumps([s["Line"]["properties"].get("note"), s["LineInput"]["properties"].get("note"),
                  "note" in s["Line"]["required"]], sort_keys=True))
PY
}
want='[{"maxLength": 40, "type": "string"}, {"default": "", "maxLength": 40, "type": "string"}, true]'
check "the served contract (build/gen/openapi.yaml) has note in Line and LineInput" "$want" \
  "$(schema "$tree/build/gen/openapi.yaml")"
python3 "$tree/scripts/openapi_lines.py" "$tree/build/gen/fields.json" "$tree/api/openapi.yaml" \
  "$T_DIR/g.yaml" --check >"$T_DIR/stale" 2>&1
check "before make openapi, the committed api/openapi.yaml is called stale" 1 $?
make -C "$tree" openapi >>"$T_DIR/build.log" 2>&1
python3 "$tree/scripts/openapi_lines.py" "$tree/build/gen/fields.json" "$tree/api/openapi.yaml" \
  "$T_DIR/g.yaml" --check >"$T_DIR/stale" 2>&1
check "after make openapi it is current" 0 $?
check "and has the field too" "$want" "$(schema "$tree/api/openapi.yaml")"
t_done

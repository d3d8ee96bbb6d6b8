# The contract follows the field table: every row of lib/line.c's table (as
# the daemon serves it, /fields.json) is in api/openapi.yaml's Line (response)
# and LineInput (request) schemas with the same type, limits and default, and
# the schemas hold no field the table lacks. A row added to the table without
# its schema entry (or a limit changed in one place only) fails here.
source "$(dirname "$0")/lib.sh"

fields=$SIPCFG_TOP/build/gen/fields.json
[ -f "$fields" ] || { fail "build/gen/fields.json exists (make builds it)"; t_done; exit 1; }
out=$(python3 - "$SIPCFG_TOP/api/openapi.yaml" "$fields" <<'PY'
import json, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
rows = json.load(open(sys.argv[2]))
schemas = doc["components"]["schemas"]
line, line_in = schemas["Line"], schemas["LineInput"]
problems = []
def say(msg): problems.append(msg)
# members that are not fields of the table: the line's number, and password_set
extra_out = {"line", "password_set", "provenance", "locked"}
extra_in = {"line", "password_set", "provenance", "locked"}
names = [r["name"] for r in rows]
types = {"boolean": "boolean", "integer": "integer", "text": "string", "user": "string",
         "password": "string", "domain": "string"}
for r in rows:
    n, t = r["name"], r["type"]
    ins = line_in["properties"].get(n)
    outs = None if t == "password" else line["properties"].get(n)
    if ins is None:
        say(f"LineInput lacks {n}")
        continue
    if t != "password" and outs is None:
        say(f"Line lacks {n}")
        continue
    if t != "password" and n not in line.get("required", []):
        say(f"Line does not require {n}")
    for where, s in (("Line", outs), ("LineInput", ins)):
        if s is None:
            continue
        if t == "server":
            want = "#/components/schemas/" + ("Server" if where == "Line" else "ServerInput")
            if s.get("$ref") != want:
                say(f"{where}.{n} is not a {want}")
            continue
        if s.get("type") != types[t]:
            say(f"{where}.{n}: type {s.get('type')}, the table says {types[t]}")
        if "max_length" in r and s.get("maxLength") != r["max_length"]:
            say(f"{where}.{n}: maxLength {s.get('maxLength')}, the table says {r['max_length']}")
        if t == "integer":
            if s.get("minimum") != r["min"] or s.get("maximum") != r["max"]:
                say(f"{where}.{n}: {s.get('minimum')}..{s.get('maximum')}, the table says {r['min']}..{r['max']}")
    if t == "password":
        if not ins.get("writeOnly"):
            say(f"LineInput.{n} is not writeOnly")
        continue
    want_default = r.get("default", "" if t not in ("server",) else None)
    if t != "server" and ins.get("default") != want_default:
        say(f"LineInput.{n}: default {ins.get('default')!r}, the table says {want_default!r}")
for n in line["properties"]:
    if n not in names and n not in extra_out:
        say(f"Line has {n}, which the table lacks")
for n in line_in["properties"]:
    if n not in names and n not in extra_in:
        say(f"LineInput has {n}, which the table lacks")
host = [r for r in rows if r["type"] == "domain"]
for where in ("Server",):
    hl = schemas[where]["properties"]["host"].get("maxLength")
    if host and hl != host[0]["max_length"]:
        say(f"{where}.host: maxLength {hl}, a host is at most {host[0]['max_length']}")
print("\n".join(problems))
PY
)
check "api/openapi.yaml's Line schemas follow the field table" "" "$out"
# and their field part is exactly what the build writes from the table (the
# document the daemon serves): a row added without `make openapi` fails here
stale=$("${PYTHON:-python3}" "$SIPCFG_TOP/scripts/openapi_lines.py" "$fields" \
  "$SIPCFG_TOP/api/openapi.yaml" "$T_DIR/generated.yaml" --check 2>&1)
check "api/openapi.yaml's field part is the one generated from the table" "" "$stale"
t_done

#!/usr/bin/env python3
"""openapi_lines.py FIELDS.json IN.yaml OUT.yaml [--check]

The field table's part of api/openapi.yaml's Line and LineInput schemas
(their `required` list and the properties of every field) written from
lib/line.c's table, as build/gen/fields.json has it. In IN.yaml that part
stands between the lines "# table: begin SCHEMA" and "# table: end"; the rest
of the document (descriptions, provenance, locked) is kept as written.

  OUT.yaml      the document with that part generated: what the daemon serves
                (GET /openapi.json); `make openapi` writes it over api/openapi.yaml
  --check       exit 1, naming the first difference, when IN.yaml's own part is
                not exactly the generated one (the committed contract is stale)
"""
import json
import re
import sys

SERVER = {"Line": "#/components/schemas/Server", "LineInput": "#/components/schemas/ServerInput"}
# members of a line object that are not rows of the table
EXTRA_REQUIRED_TAIL = ["provenance", "locked"]


def flow(d):
    """A YAML flow mapping in the document's style: {type: string, maxLength: 64}."""
    parts = []
    for k, v in d.items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, str):
            v = '""' if v == "" else ('"%s"' % v if v.startswith("#") else v)
        parts.append("%s: %s" % (k, v))
    return "{" + ", ".join(parts) + "}"


def properties(rows, schema):
    """(name, flow mapping) for the line number and each row, in table order."""
    out = [("line", {"type": "integer", "minimum": 1, "readOnly": True} if schema == "Line"
            else {"type": "integer"})]
    for r in rows:
        n, t = r["name"], r["type"]
        if t == "server":
            out.append((n, {"$ref": SERVER[schema]}))
        elif t == "password":
            if schema == "LineInput":
                out.append((n, {"type": "string", "format": "password",
                                "maxLength": r["max_length"], "writeOnly": True}))
                out.append(("password_set", {"type": "boolean"}))
            else:
                out.append(("password_set", {"type": "boolean", "readOnly": True}))
        elif t == "boolean":
            p = {"type": "boolean"}
            if schema == "LineInput":
                p["default"] = bool(r["default"])
            out.append((n, p))
        elif t == "integer":
            p = {"type": "integer", "minimum": r["min"], "maximum": r["max"]}
            if schema == "LineInput":
                p["default"] = r["default"]
            out.append((n, p))
        else:                               # text, user, domain
            p = {"type": "string", "maxLength": r["max_length"]}
            if schema == "LineInput":
                p["default"] = ""
            out.append((n, p))
    return out


def wrap(prefix, names, indent, width=91):
    """`required: [a, b, ...]` wrapped under its bracket at `width` columns, as
    the document writes it."""
    lines, cur = [], indent + prefix + "["
    for i, n in enumerate(names):
        item = n + (", " if i + 1 < len(names) else "]")
        if len(cur) + len(item.rstrip()) > width and not cur.endswith("["):
            lines.append(cur.rstrip())
            cur = " " * (len(indent) + len(prefix) + 1)
        cur += item
    lines.append(cur)
    return lines


def block(rows, schema, indent):
    props = properties(rows, schema)
    out = []
    if schema == "Line":
        out += wrap("required: ", [n for n, _ in props] + EXTRA_REQUIRED_TAIL, indent)
    out.append(indent + "properties:")
    out += ["%s  %s: %s" % (indent, n, flow(p)) for n, p in props]
    return out


def generate(rows, text):
    out, lines, i = [], text.split("\n"), 0
    found = set()
    while i < len(lines):
        m = re.match(r"^(\s*)# table: begin (\w+)", lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        schema = m.group(2)
        found.add(schema)
        out.append(lines[i])
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*# table: end", lines[j]):
            j += 1
        if j == len(lines):
            raise SystemExit("openapi_lines: '# table: begin %s' has no '# table: end'" % schema)
        out += block(rows, schema, m.group(1))
        out.append(lines[j])
        i = j + 1
    if found != {"Line", "LineInput"}:
        raise SystemExit("openapi_lines: markers for Line and LineInput expected, found %s"
                         % sorted(found))
    return "\n".join(out)


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    rows = json.load(open(args[0], encoding="utf-8"))
    text = open(args[1], encoding="utf-8").read()
    gen = generate(rows, text)
    if "--check" in sys.argv:
        if gen != text:
            a, b = text.split("\n"), gen.split("\n")
            k = next(k for k in range(max(len(a), len(b)))
                     if k >= len(a) or k >= len(b) or a[k] != b[k])
            print("%s:%d: the field table's part is stale (make openapi): it says %r, "
                  "the table %r" % (args[1], k + 1, a[k] if k < len(a) else "",
                                    b[k] if k < len(b) else ""))
            return 1
    tmp = args[2] + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(gen)
    import os
    os.replace(tmp, args[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())

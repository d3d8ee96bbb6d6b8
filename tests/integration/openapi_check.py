#!/usr/bin/env python3
"""openapi_check.py OPENAPI.json RESPONSE-LOG: holds every response an
integration test saw against the contract. The log has one JSON object per
line: {"m": method, "p": path (with query), "s": status, "c": content type,
"b": body}. For each: the status is listed for the operation, the content
type is the one listed, and the body is valid against the listed schema
(OpenAPI 3.0.3 semantics: nullable, readOnly/writeOnly ignored, $ref, oneOf,
allOf, anyOf, enum, limits). Prints one problem per line, nothing when all
conform. Paths the document lacks (the router's 404/405) and status 000 (no
answer) are left out, as are 400/414/431 without a problem body (libmicrohttpd's
own answers to malformed requests, see info.description)."""
import json
import re
import sys


def resolve(doc, s):
    while isinstance(s, dict) and "$ref" in s:
        node = doc
        for part in s["$ref"].lstrip("#/").split("/"):
            node = node[part]
        s = node
    return s


def errors(doc, s, v, where):
    s = resolve(doc, s)
    if not isinstance(s, dict) or not s:
        return []
    if v is None:
        if s.get("nullable") and "type" in s:
            return []                  # 3.0.3: nullable without a type means nothing
        if "oneOf" in s or "anyOf" in s or "allOf" in s:
            pass                       # decided by the alternatives below
        elif "type" in s:
            return [f"{where}: null is not allowed"]
    out = []
    for sub in s.get("allOf", []):
        out += errors(doc, sub, v, where)
    if "oneOf" in s:
        ok = [i for i, sub in enumerate(s["oneOf"]) if not errors(doc, sub, v, where)]
        if len(ok) != 1:
            out.append(f"{where}: matches {len(ok)} of oneOf's alternatives, not exactly one")
    if "anyOf" in s and not any(not errors(doc, sub, v, where) for sub in s["anyOf"]):
        out.append(f"{where}: matches none of anyOf's alternatives")
    t = s.get("type")
    kinds = {"object": dict, "array": list, "string": str, "boolean": bool}
    if t == "integer":
        if not (isinstance(v, int) and not isinstance(v, bool)):
            return out + [f"{where}: {json.dumps(v)[:40]} is not an integer"]
    elif t == "number":
        if not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            return out + [f"{where}: {json.dumps(v)[:40]} is not a number"]
    elif t in kinds and not isinstance(v, kinds[t]):
        return out + [f"{where}: {json.dumps(v)[:40]} is not a{'n' if t[0] in 'ao' else ''} {t}"]
    if "enum" in s and v not in s["enum"]:
        out.append(f"{where}: {json.dumps(v)[:40]} is not one of {s['enum']}")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and v < s["minimum"]:
            out.append(f"{where}: {v} < minimum {s['minimum']}")
        if "maximum" in s and v > s["maximum"]:
            out.append(f"{where}: {v} > maximum {s['maximum']}")
    if isinstance(v, str) and "maxLength" in s and len(v) > s["maxLength"]:
        out.append(f"{where}: longer than {s['maxLength']}")
    if isinstance(v, list) and "items" in s:
        for i, item in enumerate(v):
            out += errors(doc, s["items"], item, f"{where}[{i}]")
    if isinstance(v, dict):
        props = s.get("properties", {})
        for r in s.get("required", []):
            if r not in v:
                out.append(f"{where}: no member {r}")
        for k, item in v.items():
            if k in props:
                out += errors(doc, props[k], item, f"{where}.{k}")
            elif s.get("additionalProperties") is False:
                out.append(f"{where}: member {k} is not in the schema")
            elif isinstance(s.get("additionalProperties"), dict):
                out += errors(doc, s["additionalProperties"], item, f"{where}.{k}")
    return out


def main():
    doc = json.load(open(sys.argv[1]))
    problems = set()
    for row in open(sys.argv[2]):
        r = json.loads(row)
        method, status = r["m"], r["s"]
        tmpl = re.sub(r"^/lines/[^/?]+", "/lines/{n}", r["p"].split("?", 1)[0])
        op = doc["paths"].get(tmpl, {}).get("get" if method == "HEAD" else method.lower())
        if op is None or status == "000":
            continue
        ctype = r["c"].split(";", 1)[0].strip().lower()
        name = f"{method} {tmpl} {status}"
        if status in ("400", "414", "431") and ctype != "application/problem+json":
            continue
        resp = resolve(doc, op["responses"].get(status))
        if resp is None:
            problems.add(f"{name}: status not listed")
            continue
        content = resp.get("content")
        if not content or method == "HEAD":
            if r["b"] and method != "HEAD":
                problems.add(f"{name}: a body where the document lists none")
            continue
        if ctype not in content:
            problems.add(f"{name}: content type {ctype or '(none)'}, listed: {sorted(content)}")
            continue
        try:
            body = json.loads(r["b"])
        except ValueError:
            problems.add(f"{name}: the body is not JSON")
            continue
        for e in errors(doc, content[ctype].get("schema", {}), body, "body"):
            problems.add(f"{name}: {e}")
    print("\n".join(sorted(problems)))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""openapi2c.py IN.yaml OUT.c: api/openapi.yaml as JSON in a C array, for GET /openapi.json.
The YAML is the one reviewed copy of the contract; the daemon serves exactly it."""
import json
import sys

import yaml


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    lines = []
    for i in range(0, len(data), 16):
        lines.append("    " + ", ".join("0x%02x" % b for b in data[i:i + 16]) + ",")
    with open(dst + ".tmp", "w", encoding="ascii") as out:
        out.write("/* Generated from %s by scripts/openapi2c.py: do not edit. */\n" % src)
        out.write('#include "api.h"\n\n')
        out.write("const char openapi_json[] = {\n%s\n    0x00\n};\n" % "\n".join(lines))
        out.write("const unsigned long openapi_json_len = %d;\n" % len(data))
    import os
    os.replace(dst + ".tmp", dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())

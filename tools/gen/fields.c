/* Build-time generator: prints lib/line.c's field table (line_fields) as JSON,
 * which the daemon embeds and serves as /fields.json, so the page takes its
 * labels, help texts and vendor names from the one table (DESIGN.md).
 * Usage: fields OUT.json */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "json.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.json\n", argv[0]);
        return 2;
    }
    json_t *fields = line_fields_to_json();
    if (!fields) {
        fprintf(stderr, "fields: out of memory\n");
        return 1;
    }
    json_t *doc = fields;
    /* Written whole or not at all: a half file would be embedded as is. */
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    if (!doc || n < 0 || (size_t)n >= sizeof tmp) {
        fprintf(stderr, "fields: cannot build the output\n");
        json_decref(doc);
        return 1;
    }
    int rc = json_dump_file(doc, tmp, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "fields: cannot write %s: %s\n", argv[1], strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

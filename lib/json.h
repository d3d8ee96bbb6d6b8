/* json: jansson <-> the model. Unknown keys and duplicate keys are errors,
 * passwords are write-only, malformed JSON is reported with line and column. */
#ifndef SIPCFG_JSON_H
#define SIPCFG_JSON_H
#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include "diag.h"
#include "line.h"

struct json_syntax_error {
    int line, column;
    char text[160];
};

/* json_loadb with JSON_REJECT_DUPLICATES; the top level must be an object.
 * NULL on error with `err` filled. */
json_t *json_parse_body(const char *buf, size_t len, struct json_syntax_error *err);

/* {"host":..., "port": n|null, "transport": "auto"|...}, or JSON null when not set. */
json_t *server_to_json(const struct server *s);
/* A server as a string (normalised), an object {host, port?, transport?}, or null. */
int server_from_json(const json_t *v, struct server *out, const char *field, struct diag_list *errs);

/* The line object of API.md section 2 (no password; password_set). */
json_t *line_to_json(const struct line *l, unsigned n);
/* PUT semantics: absent fields take their defaults; "password" absent keeps
 * `current`'s, "" clears it; "line" and "password_set" are read-only (a "line"
 * other than n is an error). Errors under `prefix`. Returns 0 or -EINVAL. */
int line_from_json(const json_t *in, unsigned n, const struct line *current, struct line *out,
                   const char *prefix, struct diag_list *errs);

/* {"format": 1, "lines": [...]} without passwords. */
json_t *config_to_json(const struct config *c);
/* The shape of PUT /config; lines are matched by position (or their "line"
 * member), passwords absent keep `current`'s; the admin password is kept. */
int config_from_json(const json_t *in, const struct config *current, struct config *out,
                     struct diag_list *errs);

/* [{"field", "code", "message"}, ...] */
json_t *diag_to_json(const struct diag_list *l);

#endif

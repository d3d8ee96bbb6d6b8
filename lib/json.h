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
    int line, column;        /* 1-based, as jansson counts them */
    int position;            /* byte offset */
    char code[24];           /* "invalid_json", "duplicate_key", "not_an_object" */
    char text[160];          /* jansson's words, printable ASCII only */
};

/* json_loadb with JSON_REJECT_DUPLICATES; the top level must be an object.
 * NULL on error with `err` filled. A duplicate key ({"proxy":"a","proxy":"b"})
 * is a syntax error like any other (code "duplicate_key", with line and
 * column): the API answers 400 for it, not 422. */
json_t *json_parse_body(const char *buf, size_t len, struct json_syntax_error *err);

/* {"host":..., "port": n|null, "transport": "auto"|...}, or JSON null when not set. */
json_t *server_to_json(const struct server *s);
/* A server as a string (normalised, see server_parse; "" = null), an object
 * {host, port?, transport?} (port an integer 1..65535 or null, transport a
 * string, any case, or null = auto; host normalised like a string's), or null.
 * Errors at field.host / .port / .transport, unknown members (field.hots) as
 * unknown_field with a hint, a wrong JSON type for the whole server at `field`. */
int server_from_json(const json_t *v, struct server *out, const char *field, struct diag_list *errs);

/* The line object of API.md section 2 (no password; password_set). */
json_t *line_to_json(const struct line *l, unsigned n);
/* PUT semantics: absent fields take their defaults; "password" absent keeps
 * `current`'s, "" clears it (null is invalid_type); "line" and "password_set"
 * are read-only (a "line" other than n is read_only). Booleans must be JSON
 * true/false, register_expires an integer (5060.0 or "3600" are invalid_type).
 * `domain` is normalised like a host. A stored resolution (resolved[F]) is kept
 * from `current` while server F and dns_srv are unchanged, else cleared.
 * `current` may be NULL. Errors under `prefix`. Returns 0 or -EINVAL. */
int line_from_json(const json_t *in, unsigned n, const struct line *current, struct line *out,
                   const char *prefix, struct diag_list *errs);

/* The "provenance" a line object carries (an export's), into out->prov for
 * every field with a valid record; the rest is left alone. The number taken.
 * For `sipcfg import`, which keeps a clone's history; the API ignores it. */
int line_provenance_from_json(const json_t *in, struct line *out);

/* {"format": 1, "lines": [...]} without passwords. */
json_t *config_to_json(const struct config *c);
/* The shape of PUT /config. Decisions: "format" may be left out (taken as 1),
 * another value is unsupported_format; "lines" is required (missing_field), an
 * array of at most current->nlines entries (else out_of_range at "lines");
 * entry i is line i + 1, and a "line" member in it must say so (read_only);
 * lines not listed are reset to factory defaults (passwords included);
 * passwords absent keep `current`'s; the admin password is kept.
 * out->nlines = current->nlines. Paths "lines[0].proxy.host". */
int config_from_json(const json_t *in, const struct config *current, struct config *out,
                     struct diag_list *errs);

/* [{"field", "code", "message"}, ...]; entries that did not fit the list end
 * it as one {"field": "", "code": "too_many_errors", ...}. */
json_t *diag_to_json(const struct diag_list *l);

/* The field table for the page and docs: [{"name", "type", "label", "help",
 * "vendors": {"Snom": "Registrar", ...}, "max_length" | "min","max"}, ...]. */
json_t *line_fields_to_json(void);

/* RFC 7396 JSON Merge Patch: the result of applying `patch` to `target` (which
 * may be NULL), as a NEW reference; neither argument is modified, the caller
 * still owns both. NULL only when out of memory. For PATCH /lines/{n}: merge
 * into line_to_json() of the stored line, then line_from_json() the result
 * ("password": null therefore keeps the password; "" clears it). */
json_t *json_merge_patch(json_t *target, const json_t *patch);

#endif

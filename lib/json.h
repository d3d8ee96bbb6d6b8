/* json: jansson <-> the model. Unknown keys are errors (with a hint,
 * json_hint.h), passwords are write-only. The body's syntax (duplicate keys,
 * line and column of an error) is json_body.h's, included here for callers. */
#ifndef SIPCFG_JSON_H
#define SIPCFG_JSON_H
#include <jansson.h>
#include <stddef.h>
#include "config.h"
#include "diag.h"
#include "json_body.h"
#include "line.h"

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

/* The keys of a JSON merge patch (RFC 7396) of a line that the merge would
 * drop unseen: a member set to null that the line does not define ("lable":
 * null, "proxy": {"prot": null}) is unknown_field, as it is in a PUT. Other
 * members are judged by line_from_json on the merged result. 0 or -EINVAL. */
int line_patch_check(const json_t *patch, struct diag_list *errs);

/* The "provenance" a line object carries (an export's), into out->prov for
 * every field with a valid record; the rest is left alone. A record that is
 * not one (an unknown field or member, a source or time that is none) is an
 * error under `prefix`, never skipped: what the file says is what is written.
 * The number taken. For `sipcfg import`, which keeps a clone's history; the
 * API ignores it. */
int line_provenance_from_json(const json_t *in, struct line *out, const char *prefix,
                              struct diag_list *errs);

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

#endif

/* template: a configuration (the JSON of PUT /api/v1/config) with {{column}}
 * placeholders inside JSON strings, filled from one row of the phone list.
 *
 * The rule: a placeholder is "{{name}}" (letters, digits, _ . -; spaces inside
 * the braces are ignored) anywhere in a string value, and the row's value is
 * put there as text, so no value can change the JSON's structure. When a
 * string is exactly one placeholder and its member is a boolean field
 * (enabled, dns_srv, register) the value must be true/false/1/0 and becomes a
 * JSON boolean; for a number member (register_expires, port, format) it must
 * be decimal digits and becomes a JSON integer. Object keys hold no placeholders. */
#ifndef SIPCFG_TEMPLATE_H
#define SIPCFG_TEMPLATE_H
#include <jansson.h>
#include <stddef.h>

#define TMPL_NAME_MAX 64

/* Every placeholder name the template uses, each once, in order of first use:
 * a JSON array of strings. NULL with a message in err when a placeholder is
 * malformed ("lines[0].label: '{{ la bel }}' is not a placeholder ..."). */
json_t *tmpl_names(const json_t *tmpl, char *err, size_t errn);

/* The value of a column for the row being filled, or NULL when there is none. */
typedef const char *(*tmpl_lookup)(const char *name, void *ctx);

/* A new JSON value: the template with every placeholder filled. NULL with a
 * message in err ("lines[0].register_expires: column 'expires' is 'soon', not
 * a number"). */
json_t *tmpl_fill(const json_t *tmpl, tmpl_lookup lookup, void *ctx, char *err, size_t errn);

#endif

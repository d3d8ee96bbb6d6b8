/* json_body: a request body (or an imported file) as JSON: strict syntax with
 * line and column, and the model-free operations on it (merge patch, type
 * words). jansson only; the model's conversions are json.h's. */
#ifndef SIPCFG_JSON_BODY_H
#define SIPCFG_JSON_BODY_H
#include <jansson.h>
#include <stddef.h>

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

/* "an object", "a string", "an integer", "true/false", "null", ...: what a
 * message says a value of the wrong type was. */
const char *json_type_word(const json_t *v);

/* RFC 7396 JSON Merge Patch: the result of applying `patch` to `target` (which
 * may be NULL), as a NEW reference; neither argument is modified, the caller
 * still owns both. NULL only when out of memory. For PATCH /lines/{n}: merge
 * into line_to_json() of the stored line, then line_from_json() the result
 * ("password": null therefore keeps the password; "" clears it). */
json_t *json_merge_patch(json_t *target, const json_t *patch);

#endif

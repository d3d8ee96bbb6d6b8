/* json_body: see json_body.h. Nothing here knows the model: the syntax of a
 * request body (or an imported file), and the JSON-only operations on it. */
#include "json_body.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A number too large for jansson (an integer beyond int64, a real beyond
 * double) is well-formed JSON: the body is valid and only the value is out of
 * range, which is the field's 422, not a 400. jansson stops at the first such
 * number, its end in e->position; in a copy of the body that number is
 * overwritten by the largest value of its kind and sign, padded with spaces
 * (always as short: an overflowing integer has at least 19 digits, an
 * overflowing real an exponent of at least 308), so that lines and columns
 * stay those of the body as sent; then the copy is parsed again, at most
 * NUMBER_FIXES times (a body made of thousands of them stays a 400). */
#define NUMBER_FIXES 32

static bool number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* Overwrites the overflowing number that ends at or before `end`; 0 or -EINVAL. */
static int clamp_number(char *buf, size_t len, size_t end)
{
    if (end > len)
        end = len;
    while (end > 0 && !number_char(buf[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && number_char(buf[start - 1]))
        start--;
    if (start == end || !(buf[start] == '-' || (buf[start] >= '0' && buf[start] <= '9')))
        return -EINVAL;
    bool neg = buf[start] == '-', real = false;
    for (size_t i = start; i < end; i++)
        if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E')
            real = true;
    const char *rep = real ? (neg ? "-1e308" : "1e308")
                           : (neg ? "-9223372036854775808" : "9223372036854775807");
    size_t rl = strlen(rep);
    if (rl > end - start)
        return -EINVAL;
    /* overwrites the digits inside the body: no terminator wanted */
    memcpy(buf + start, rep, rl); // NOLINT(bugprone-not-null-terminated-result)
    memset(buf + start + rl, ' ', end - start - rl);
    return 0;
}

json_t *json_parse_body(const char *buf, size_t len, struct json_syntax_error *err)
{
    json_error_t e;
    memset(err, 0, sizeof *err);
    if (!buf) {
        buf = "";
        len = 0;
    }
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!v && json_error_code(&e) == json_error_numeric_overflow) {
        json_error_t first = e;
        char *copy = malloc(len + 1);
        if (copy) {
            memcpy(copy, buf, len);
            copy[len] = '\0';
            for (int i = 0; i < NUMBER_FIXES && !v &&
                            json_error_code(&e) == json_error_numeric_overflow; i++) {
                if (clamp_number(copy, len, (size_t)e.position) < 0)
                    break;
                v = json_loadb(copy, len, JSON_REJECT_DUPLICATES, &e);
            }
            explicit_bzero(copy, len);     /* it may hold a password */
            free(copy);
        }
        if (!v && json_error_code(&e) == json_error_numeric_overflow)
            e = first;
    }
    if (!v) {
        /* 1-based, also for an empty body (jansson says column 0 there) */
        err->line = e.line > 0 ? e.line : 1;
        err->column = e.column > 0 ? e.column : 1;
        err->position = e.position;
        snprintf(err->code, sizeof err->code, "%s",
                 json_error_code(&e) == json_error_duplicate_key ? "duplicate_key"
                                                                 : "invalid_json");
        /* jansson quotes the offending input ("near '...'"): keep printable
         * ASCII only, so no raw byte of the body reaches a response. */
        size_t o = 0;
        for (const char *p = e.text; *p && o + 1 < sizeof err->text; p++) {
            if (*p >= 0x20 && *p < 0x7f)
                err->text[o++] = *p;
            else
                err->text[o++] = '?';
        }
        err->text[o] = '\0';
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        err->line = 1;
        err->column = 1;
        snprintf(err->code, sizeof err->code, "not_an_object");
        snprintf(err->text, sizeof err->text, "the body must be a JSON object ({...})");
        return NULL;
    }
    return v;
}

const char *json_type_word(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number with a fraction";
    case JSON_TRUE:
    case JSON_FALSE: return "true/false";
    default: return "null";
    }
}

/* ---- RFC 7396 -------------------------------------------------------- */

json_t *json_merge_patch(json_t *target, const json_t *patch)
{
    if (!json_is_object(patch))
        return json_deep_copy(patch);
    json_t *res = json_is_object(target) ? json_deep_copy(target) : json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)patch, key, v) {
        if (!res)
            break;
        if (json_is_null(v)) {
            json_object_del(res, key);
            continue;
        }
        json_t *sub = json_merge_patch(json_object_get(res, key), v);
        if (!sub || json_object_set_new(res, key, sub) != 0) {
            json_decref(res);
            return NULL;
        }
    }
    return res;
}

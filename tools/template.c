/* template: see template.h. The template is parsed once as JSON and filled
 * value by value, never as text: a quote or a brace in a CSV value stays
 * inside its string. */
#include "template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "line.h"

#define PATH_MAX_LEN 160
#define FILLED_MAX 8192             /* bytes of one filled string */

enum slot_type { SLOT_TEXT, SLOT_BOOL, SLOT_NUMBER };

struct walk {
    tmpl_lookup lookup;             /* NULL: only collect names */
    void *ctx;
    json_t *names;
    char *err;
    size_t errn;
};

__attribute__((format(printf, 3, 4)))
static int werr(struct walk *w, const char *path, const char *fmt, ...)
{
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errn, "%s%s%s", path, path[0] ? ": " : "", msg);
    return -EINVAL;
}

/* What a whole-string placeholder becomes under the member `key`. */
static enum slot_type slot_type(const char *key)
{
    if (!key)
        return SLOT_TEXT;
    if (strcmp(key, "port") == 0 || strcmp(key, "format") == 0)
        return SLOT_NUMBER;
    const struct field_desc *d = line_field(key);
    if (d && d->type == FT_BOOL)
        return SLOT_BOOL;
    if (d && d->type == FT_UINT)
        return SLOT_NUMBER;
    return SLOT_TEXT;
}

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* Reads the placeholder at s (which starts with "{{"): its name into name,
 * its length in *used. */
static int read_placeholder(struct walk *w, const char *path, const char *s, char *name,
                            size_t *used)
{
    const char *p = s + 2, *close = strstr(p, "}}");
    if (!close)
        return werr(w, path, "'{{' without its '}}': a placeholder is {{column}}");
    while (*p == ' ')
        p++;
    const char *e = close;
    while (e > p && e[-1] == ' ')
        e--;
    size_t n = (size_t)(e - p);
    bool good = n > 0 && n <= TMPL_NAME_MAX;
    for (size_t i = 0; good && i < n; i++)
        good = name_char(p[i]);
    if (!good)
        return werr(w, path, "'%.*s' is not a placeholder: a column name has 1 to %d letters, "
                             "digits, '_', '.' or '-'",
                    (int)((close + 2 - s) > 60 ? 60 : (close + 2 - s)), s, TMPL_NAME_MAX);
    memcpy(name, p, n);
    name[n] = '\0';
    *used = (size_t)(close + 2 - s);
    return 0;
}

static int note_name(struct walk *w, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(w->names, i, v)
        if (strcmp(json_string_value(v), name) == 0)
            return 0;
    return json_array_append_new(w->names, json_string(name)) == 0 ? 0 : -ENOMEM;
}

static json_t *typed(struct walk *w, const char *path, enum slot_type t, const char *col,
                     const char *v)
{
    if (t == SLOT_BOOL) {
        if (!strcasecmp(v, "true") || !strcmp(v, "1"))
            return json_true();
        if (!strcasecmp(v, "false") || !strcmp(v, "0"))
            return json_false();
        werr(w, path, "column '%s' is '%.40s', not true, false, 1 or 0", col, v);
        return NULL;
    }
    size_t len = strlen(v);
    if (len == 0 || len > 10 || strspn(v, "0123456789") != len) {
        werr(w, path, "column '%s' is '%.40s', not a number", col, v);
        return NULL;
    }
    return json_integer(strtoll(v, NULL, 10));
}

/* A string value: the names it uses, or (filling) its new value. */
static json_t *walk_string(struct walk *w, const char *s, const char *key, const char *path)
{
    char name[TMPL_NAME_MAX + 1];
    char *out = w->lookup ? malloc(FILLED_MAX + 1) : NULL;
    size_t on = 0, used = 0;
    int whole = -1;            /* 1: the string is exactly one placeholder */
    json_t *res = NULL;
    if (w->lookup && !out)
        goto done;
    for (const char *p = s; *p;) {
        const char *open = strstr(p, "{{");
        size_t lit = open ? (size_t)(open - p) : strlen(p);
        if (out) {
            if (on + lit > FILLED_MAX) {
                werr(w, path, "the filled text is longer than %d bytes", FILLED_MAX);
                goto done;
            }
            memcpy(out + on, p, lit);
            on += lit;
        }
        p += lit;
        if (!open)
            break;
        if (read_placeholder(w, path, p, name, &used) < 0)
            goto done;
        whole = (p == s && p[used] == '\0') ? 1 : 0;
        p += used;
        if (!w->lookup) {
            if (note_name(w, name) < 0)
                goto done;
            continue;
        }
        const char *v = w->lookup(name, w->ctx);
        if (!v) {
            werr(w, path, "no column '%s' for the placeholder {{%s}}", name, name);
            goto done;
        }
        enum slot_type t = slot_type(key);
        if (whole == 1 && t != SLOT_TEXT) {
            res = typed(w, path, t, name, v);
            goto done;
        }
        size_t vl = strlen(v);
        if (on + vl > FILLED_MAX) {
            werr(w, path, "the filled text is longer than %d bytes", FILLED_MAX);
            goto done;
        }
        memcpy(out + on, v, vl);
        on += vl;
    }
    if (!w->lookup) {
        res = json_null();         /* a marker: walked without error */
    } else {
        out[on] = '\0';
        res = json_stringn(out, on);
        if (!res)
            werr(w, path, "the filled text is not valid UTF-8");
    }
done:
    free(out);
    return res;
}

static json_t *walk(struct walk *w, const json_t *v, const char *key, const char *path);

static json_t *walk_object(struct walk *w, const json_t *v, const char *path)
{
    json_t *res = json_object();
    const char *k;
    json_t *m;
    char sub[PATH_MAX_LEN];
    json_object_foreach((json_t *)v, k, m) {
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", k);
        if (strstr(k, "{{")) {
            werr(w, sub, "placeholders belong in values, not in member names");
            json_decref(res);
            return NULL;
        }
        json_t *nv = walk(w, m, k, sub);
        if (!nv || !res || json_object_set_new(res, k, nv) < 0) {
            json_decref(res);
            return NULL;
        }
    }
    return res;
}

static json_t *walk(struct walk *w, const json_t *v, const char *key, const char *path)
{
    char sub[PATH_MAX_LEN];
    if (json_is_string(v))
        return walk_string(w, json_string_value(v), key, path);
    if (json_is_object(v))
        return walk_object(w, v, path);
    if (json_is_array(v)) {
        json_t *res = json_array(), *m;
        size_t i;
        json_array_foreach((json_t *)v, i, m) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            json_t *nv = walk(w, m, NULL, sub);
            if (!nv || !res || json_array_append_new(res, nv) < 0) {
                json_decref(res);
                return NULL;
            }
        }
        return res;
    }
    return json_deep_copy(v);
}

json_t *tmpl_names(const json_t *tmpl, char *err, size_t errn)
{
    struct walk w = {.names = json_array(), .err = err, .errn = errn};
    err[0] = '\0';
    json_t *r = w.names ? walk(&w, tmpl, NULL, "") : NULL;
    if (!r) {
        if (!err[0])
            snprintf(err, errn, "out of memory");
        json_decref(w.names);
        return NULL;
    }
    json_decref(r);
    return w.names;
}

json_t *tmpl_fill(const json_t *tmpl, tmpl_lookup lookup, void *ctx, char *err, size_t errn)
{
    struct walk w = {.lookup = lookup, .ctx = ctx, .err = err, .errn = errn};
    err[0] = '\0';
    json_t *r = walk(&w, tmpl, NULL, "");
    if (!r && !err[0])
        snprintf(err, errn, "out of memory");
    return r;
}

/* csv: see csv.h. One pass over the text, one state machine; every field and
 * count is bounded so a hostile file costs at most its own size in memory. */
#include "csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rec_buf {
    size_t n, cap;
    char **f;
};

__attribute__((format(printf, 3, 4)))
static int csv_err(char *err, size_t errn, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static void free_fields(char **f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(f[i]);
    free(f);
}

static int rec_push(struct rec_buf *r, const char *s, size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        char **nf = realloc(r->f, cap * sizeof *nf);
        if (!nf)
            return -ENOMEM;
        r->f = nf;
        r->cap = cap;
    }
    char *v = malloc(len + 1);
    if (!v)
        return -ENOMEM;
    memcpy(v, s, len);
    v[len] = '\0';
    r->f[r->n++] = v;
    return 0;
}

static int add_record(struct csv *c, struct rec_buf *r, unsigned line, size_t *cap)
{
    if (c->nrecords == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct csv_record *nr = realloc(c->record, ncap * sizeof *nr);
        if (!nr)
            return -ENOMEM;
        c->record = nr;
        *cap = ncap;
    }
    c->record[c->nrecords++] = (struct csv_record){.line = line, .nfields = r->n, .field = r->f};
    *r = (struct rec_buf){0};
    return 0;
}

/* Fields are C strings from here on: a NUL would cut a value short (a user
 * "10\0" "01" provisioned as "10"), so the file is refused instead. */
static int nul_err(char *err, size_t errn, unsigned line)
{
    return csv_err(err, errn, "line %u: a NUL byte: the phone list must be text", line);
}

/* Reads one field starting at *pos into buf; sets *end_of_record when a line
 * break or the end of the text follows it. */
static int read_field(const char *t, size_t len, size_t *pos, unsigned *line, char *buf,
                      size_t *blen, bool *end_of_record, char *err, size_t errn)
{
    size_t p = *pos, n = 0;
    unsigned start = *line;
    bool quoted = p < len && t[p] == '"';
    if (quoted) {
        p++;
        for (;;) {
            if (p >= len)
                return csv_err(err, errn, "line %u: a quoted field is not closed", start);
            char ch = t[p++];
            if (ch == '\0')
                return nul_err(err, errn, *line);
            if (ch == '"') {
                if (p < len && t[p] == '"') {
                    p++;
                } else {
                    break;
                }
            } else if (ch == '\n') {
                (*line)++;
            }
            if (n == CSV_MAX_FIELD)
                return csv_err(err, errn, "line %u: a field is longer than %d bytes", start,
                               CSV_MAX_FIELD);
            buf[n++] = ch;
        }
        if (p < len && t[p] != ',' && t[p] != '\n' && !(t[p] == '\r' && p + 1 < len && t[p + 1] == '\n'))
            return csv_err(err, errn, "line %u: text after a quoted field's closing quote "
                                      "(a quote inside a field is written \"\")", *line);
    } else {
        while (p < len && t[p] != ',' && t[p] != '\n' && !(t[p] == '\r' && p + 1 < len && t[p + 1] == '\n')) {
            if (t[p] == '\0')
                return nul_err(err, errn, *line);
            if (t[p] == '"')
                return csv_err(err, errn, "line %u: a quote inside an unquoted field "
                                          "(quote the whole field and write the quote as \"\")", *line);
            if (n == CSV_MAX_FIELD)
                return csv_err(err, errn, "line %u: a field is longer than %d bytes", *line,
                               CSV_MAX_FIELD);
            buf[n++] = t[p++];
        }
    }
    *end_of_record = true;
    if (p < len && t[p] == ',') {
        p++;
        *end_of_record = false;
    } else if (p < len) {
        p += t[p] == '\r' ? 2 : 1;
        (*line)++;
    }
    *pos = p;
    *blen = n;
    return 0;
}

static int parse_body(struct csv *c, const char *t, size_t len, char *err, size_t errn)
{
    char *buf = malloc(CSV_MAX_FIELD);
    struct rec_buf r = {0};
    size_t pos = 0, cap = 0;
    unsigned line = 1;
    int rc = buf ? 0 : -ENOMEM;
    if (len >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0)
        pos = 3;
    while (rc == 0 && pos < len) {
        unsigned start = line;
        if (t[pos] == '\n' || (t[pos] == '\r' && pos + 1 < len && t[pos + 1] == '\n')) {
            pos += t[pos] == '\r' ? 2 : 1;           /* an empty line */
            line++;
            continue;
        }
        bool eor = false;
        while (rc == 0 && !eor) {
            size_t blen = 0;
            rc = read_field(t, len, &pos, &line, buf, &blen, &eor, err, errn);
            if (rc == 0 && r.n == CSV_MAX_COLUMNS)
                rc = csv_err(err, errn, "line %u: more than %d fields", start, CSV_MAX_COLUMNS);
            if (rc == 0)
                rc = rec_push(&r, buf, blen);
        }
        if (rc == 0 && c->nrecords == CSV_MAX_RECORDS + 1)
            rc = csv_err(err, errn, "line %u: more than %d phones", start, CSV_MAX_RECORDS);
        if (rc == 0)
            rc = add_record(c, &r, start, &cap);
    }
    free_fields(r.f, r.n);
    free(buf);
    if (rc == -ENOMEM)
        snprintf(err, errn, "out of memory");
    return rc;
}

int csv_parse(const char *text, size_t len, struct csv **out, char *err, size_t errn)
{
    *out = NULL;
    struct csv *c = calloc(1, sizeof *c);
    if (!c)
        return csv_err(err, errn, "out of memory");
    int rc = parse_body(c, text, len, err, errn);
    if (rc == 0 && c->nrecords == 0)
        rc = csv_err(err, errn, "the file is empty: the first line must name the columns");
    if (rc == 0) {
        /* The header becomes the column list; the rest are the phones. */
        struct csv_record h = c->record[0];
        c->ncolumns = h.nfields;
        c->column = h.field;
        memmove(c->record, c->record + 1, (c->nrecords - 1) * sizeof *c->record);
        c->nrecords--;
        for (size_t i = 0; rc == 0 && i < c->ncolumns; i++) {
            if (!c->column[i][0])
                rc = csv_err(err, errn, "line %u: column %zu has no name", h.line, i + 1);
            for (size_t j = 0; rc == 0 && j < i; j++)
                if (strcmp(c->column[i], c->column[j]) == 0)
                    rc = csv_err(err, errn, "line %u: column '%s' is named twice", h.line,
                                 c->column[i]);
        }
    }
    if (rc < 0) {
        csv_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int csv_column(const struct csv *c, const char *name)
{
    for (size_t i = 0; i < c->ncolumns; i++)
        if (strcmp(c->column[i], name) == 0)
            return (int)i;
    return -1;
}

void csv_free(struct csv *c)
{
    if (!c)
        return;
    free_fields(c->column, c->ncolumns);
    for (size_t i = 0; i < c->nrecords; i++)
        free_fields(c->record[i].field, c->record[i].nfields);
    free(c->record);
    free(c);
}

/* json_hint: see json_hint.h. */
#include "json_hint.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define NAME_MAX_NORM 64

/* "Outbound Proxy", "reg.x.server.1", "Display-Name" -> "outbound_proxy", ... */
static void normalise_name(const char *in, char *out, size_t n)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 1 < n; p++) {
        unsigned char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Optimal string alignment distance (a swap of two neighbours costs 1, so
 * "hots" is 1 from "host"), capped for speed: names are short. */
static unsigned name_distance(const char *a, const char *b)
{
    enum { M = NAME_MAX_NORM };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= M || lb >= M)
        return 99;
    unsigned d[3][M + 1];
    unsigned *pp = d[0], *p = d[1], *c = d[2];
    for (size_t j = 0; j <= lb; j++)
        p[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        c[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] != b[j - 1];
            unsigned v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        unsigned *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[lb];
}

/* A normalised vendor name against a normalised key; Polycom's "reg.x.server.1"
 * stands for "reg.1.server.1" and so on, so an "x" between separators matches
 * a line number. */
static bool vendor_name_match(const char *vn, const char *key)
{
    const char *start = vn;
    while (*vn && *key) {
        bool x = vn > start && vn[-1] == '_' && vn[0] == 'x' && vn[1] == '_';
        if (x && *key >= '0' && *key <= '9') {
            while (*key >= '0' && *key <= '9')
                key++;
            vn++;
            continue;
        }
        if (*vn++ != *key++)
            return false;
    }
    return *vn == *key;
}

/* Vendors (from the table's "Vendor: Name; ..." text) whose name for row d is
 * `norm`; writes "Snom and Grandstream" into buf. */
static bool vendor_match(const struct field_desc *d, const char *norm, char *buf, size_t n)
{
    const char *p = d->vendors;
    char vendor[32], name[NAME_MAX_NORM], vn[NAME_MAX_NORM];
    size_t found = 0;
    buf[0] = '\0';
    while (line_vendor_next(&p, vendor, sizeof vendor, name, sizeof name)) {
        normalise_name(name, vn, sizeof vn);
        if (vendor_name_match(vn, norm)) {
            size_t used = strlen(buf);
            snprintf(buf + used, n - used, "%s%s", found ? " and " : "", vendor);
            found++;
        }
    }
    return found > 0;
}

/* unknown_field at prefix.key, with a hint: the real name for a near miss, or
 * the field a vendor's name stands for. `names` are the members of the object;
 * `rows` (may be NULL) the table rows whose vendor names are known. */
void json_hint_unknown(struct diag_list *errs, const char *prefix, const char *key,
                        const char *what, const char *const *names, size_t nnames,
                        const struct field_desc *rows, size_t nrows)
{
    char path[DIAG_FIELD_MAX], q[DIAG_QUOTE_MAX], norm[NAME_MAX_NORM], vendors[128];
    char hint[1024] = "";   /* cut to DIAG_MESSAGE_MAX by diag_add */
    diag_path(path, sizeof path, prefix, key);
    diag_quote(q, sizeof q, key);
    normalise_name(key, norm, sizeof norm);

    const char *best = NULL;
    unsigned best_d = 99;
    for (size_t i = 0; i < nnames && !best; i++)
        if (strcmp(norm, names[i]) == 0)
            best = names[i], best_d = 0;
    for (size_t i = 0; i < nrows && !best; i++)
        if (vendor_match(&rows[i], norm, vendors, sizeof vendors))
            snprintf(hint, sizeof hint, ": '%s' is what %s %s '%s'", q, vendors,
                     strstr(vendors, " and ") ? "call" : "calls", rows[i].json);
    const char *second = NULL;      /* as close as best: name both */
    if (!best && !hint[0]) {
        size_t kl = strlen(norm);
        for (size_t i = 0; i < nnames; i++) {
            unsigned d = name_distance(norm, names[i]);
            if (kl < 3 || d > (kl >= 6 ? 2u : 1u))
                continue;
            if (d < best_d)
                best = names[i], best_d = d, second = NULL;
            else if (d == best_d && !second)
                second = names[i];
        }
        for (size_t i = 0; i < nnames && !best; i++)
            if (kl >= 4 && strncmp(names[i], norm, kl) == 0)
                best = names[i];
    }
    if (best && second)
        snprintf(hint, sizeof hint, ": did you mean '%s' or '%s'?", best, second);
    else if (best)
        snprintf(hint, sizeof hint, ": did you mean '%s'?", best);
    diag_add(errs, path, "unknown_field", "'%s' is not a field of %s%s", q, what, hint);
}


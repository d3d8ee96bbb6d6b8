/* route: finding a request's route in the table api/ registers (deny by
 * default: a path no row matches is 404, a method it lacks 405 with Allow). */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* {n}: 1..9 ASCII digits (the handler decides the range, so "0" and "01" reach it
 * and get 404 there). Everything else must match byte for byte: no decoding,
 * no "//" or "/./" folding, no trailing slash. */
static bool pattern_match(const char *pat, const char *path)
{
    while (*pat) {
        if (strncmp(pat, "{n}", 3) == 0) {
            size_t d = 0;
            while (path[d] >= '0' && path[d] <= '9')
                d++;
            if (d == 0 || d > 9)
                return false;
            pat += 3;
            path += d;
            continue;
        }
        if (*pat != *path)
            return false;
        pat++;
        path++;
    }
    return *path == '\0';
}

static void allow_add(char *allow, size_t n, size_t *used, const char *m)
{
    if (!allow || n == 0)
        return;
    /* each method once */
    char tok[16];
    snprintf(tok, sizeof tok, "%s", m);
    const char *p = allow;
    size_t tl = strlen(tok);
    while ((p = strstr(p, tok)) != NULL) {
        if ((p == allow || p[-1] == ' ') && (p[tl] == ',' || p[tl] == '\0'))
            return;
        p += tl;
    }
    int w = snprintf(allow + *used, n - *used, "%s%s", *used ? ", " : "", m);
    if (w > 0 && (size_t)w < n - *used)
        *used += (size_t)w;
}

int http_route_find(const struct http_route *table, const char *method, const char *path,
                    const struct http_route **route, char *allow, size_t allow_n)
{
    if (allow && allow_n)
        allow[0] = '\0';
    if (!method || !path)
        return -ENOENT;
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_found = false;
    size_t used = 0;
    for (const struct http_route *r = table; r->method; r++) {
        if (!pattern_match(r->pattern, path))
            continue;
        path_found = true;
        if (strcmp(r->method, want) == 0) {
            *route = r;
            return 0;
        }
    }
    if (!path_found)
        return -ENOENT;
    for (const struct http_route *r = table; r->method; r++) {
        if (!pattern_match(r->pattern, path))
            continue;
        allow_add(allow, allow_n, &used, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(allow, allow_n, &used, "HEAD");
    }
    return -EPERM;
}

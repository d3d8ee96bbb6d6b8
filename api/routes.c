/* routes: the deny-by-default route table of API.md section 3 (paths below /api/v1). */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const struct route api_routes[] = {
    {"POST", "/session", session_post, ROUTE_PUBLIC, NULL},
    {"DELETE", "/session", session_delete, 0, NULL},
    {"GET", "/lines", lines_get_all, 0, NULL},
    {"GET", "/lines/{n}", lines_get, 0, NULL},
    {"PUT", "/lines/{n}", lines_put, 0, "dns"},
    {"PATCH", "/lines/{n}", lines_patch, 0, "dns"},
    /* A reset sets no server, so it checks nothing; "dns" is accepted (and
     * must be valid) because API.md calls DELETE a write with a DNS policy. */
    {"DELETE", "/lines/{n}", lines_delete, 0, "dns"},
    {"GET", "/lines/{n}/routing", routing_get, 0, NULL},
    {"POST", "/routing", routing_post, 0, NULL},
    {"POST", "/resolve", resolve_post, 0, NULL},
    {"GET", "/config", config_get, 0, NULL},
    {"PUT", "/config", config_put, 0, "dns dry_run"},
    {"PUT", "/admin/password", admin_password_put, 0, NULL},
    {"GET", "/status", status_get, 0, NULL},
    {"GET", "/openapi.json", openapi_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

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

int api_route(const char *method, const char *path, const struct route **route,
              char *allow, size_t allow_n)
{
    if (allow && allow_n)
        allow[0] = '\0';
    if (!method || !path)
        return -ENOENT;
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    bool path_found = false;
    size_t used = 0;
    for (const struct route *r = api_routes; r->method; r++) {
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
    for (const struct route *r = api_routes; r->method; r++) {
        if (!pattern_match(r->pattern, path))
            continue;
        allow_add(allow, allow_n, &used, r->method);
        if (strcmp(r->method, "GET") == 0)
            allow_add(allow, allow_n, &used, "HEAD");
    }
    return -EPERM;
}

unsigned api_line_number(const struct req *rq, const struct app *app)
{
    const char *p = req_path(rq);
    static const char pre[] = "/lines/";
    if (!p || strncmp(p, pre, sizeof pre - 1) != 0)
        return 0;
    p += sizeof pre - 1;
    if (*p < '1' || *p > '9')          /* "0", "01": not a line */
        return 0;
    unsigned n = 0;
    for (int i = 0; p[i] >= '0' && p[i] <= '9'; i++) {
        if (i >= 2)
            return 0;
        n = n * 10 + (unsigned)(p[i] - '0');
    }
    if (n < 1 || n > app->nlines)
        return 0;
    return n;
}

void api_line_not_found(struct resp *rs, const struct app *app)
{
    char d[96];
    snprintf(d, sizeof d, "no such line: lines are numbered 1 to %u", app->nlines);
    api_problem(rs, 404, NULL, d);
}

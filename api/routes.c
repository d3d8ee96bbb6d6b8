/* routes: the route table of API.md section 3 (paths below /api/v1), which
 * server/ is handed at start (http_options.routes) and matches requests against. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const struct http_route api_routes[] = {
    {"POST", "/session", session_post, HTTP_ROUTE_PUBLIC, NULL},
    {"DELETE", "/session", session_delete, 0, NULL},
    {"GET", "/lines", lines_get_all, 0, NULL},
    {"GET", "/lines/{n}", lines_get, 0, NULL},
    {"PUT", "/lines/{n}", lines_put, 0, "dns"},
    {"PATCH", "/lines/{n}", lines_patch, 0, "dns"},
    /* A reset sets no server, so it checks nothing; "dns" is accepted (and
     * must be valid) because API.md calls DELETE a write with a DNS policy. */
    {"DELETE", "/lines/{n}", lines_delete, 0, "dns"},
    {"GET", "/lines/{n}/routing", routing_get, 0, NULL},
    {"GET", "/lines/{n}/resolutions", resolutions_get, 0, NULL},
    {"POST", "/routing", routing_post, 0, NULL},
    {"POST", "/resolve", resolve_post, 0, NULL},
    {"GET", "/config", config_get, 0, NULL},
    {"PUT", "/config", config_put, 0, "dns dry_run"},
    {"PUT", "/admin/password", admin_password_put, 0, NULL},
    {"GET", "/status", status_get, 0, NULL},
    {"GET", "/openapi.json", openapi_get, 0, NULL},
    {NULL, NULL, NULL, 0, NULL},
};

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
    resp_problem(rs, 404, NULL, d);
}

unsigned api_line_or_404(const struct req *rq, struct resp *rs)
{
    const struct app *app = req_app(rq);
    unsigned n = api_line_number(rq, app);
    if (!n)
        api_line_not_found(rs, app);
    return n;
}

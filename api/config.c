/* config: GET/PUT /config (the write itself: write.c). */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "check.h"
#include "hostport.h"

/* ---- GET /config ---- */

void config_get(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    char etag[24];
    pthread_mutex_lock(&app->lock);
    json_t *j = config_to_json(app->cfg);
    api_config_etag(app->cfg, etag);
    pthread_mutex_unlock(&app->lock);
    if (!j) {
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_header(rs, "ETag", etag);
    resp_json(rs, 200, j);
}

/* ---- PUT /config ---- */

void config_put(struct req *rq, struct resp *rs)
{
    struct api_write *x = req_ctx(rq);
    if (x) {                          /* resumed after the DNS checks */
        api_write_finish(rq, rs, x);
        return;
    }
    struct app *app = req_app(rq);
    enum api_dns_policy policy;
    if (api_dns_policy(rq, rs, &policy) < 0)
        return;
    bool dry_run = false;
    const char *dr = req_query(rq, "dry_run");
    if (dr) {
        /* "?dry_run=" (and "?dry_run" where the HTTP layer reports it as "")
         * asks for a dry run: never commit what the client meant to test. */
        if (!dr[0] || strcasecmp(dr, "true") == 0 || strcmp(dr, "1") == 0)
            dry_run = true;
        else if (strcasecmp(dr, "false") != 0 && strcmp(dr, "0") != 0) {
            resp_bad_parameter(rs, "dry_run", "query parameter 'dry_run' must be true or false");
            return;
        }
    }
    json_t *in = api_body_json(rq, rs);
    if (!in)
        return;
    x = api_write_begin(rq, rs, 0, policy, dry_run);
    if (!x) {
        json_decref(in);
        return;
    }
    config_defaults(&x->next, app->nlines);
    int rc = config_from_json(in, &x->current, &x->next, &x->errs);
    json_decref(in);
    x->next.nlines = app->nlines;
    memcpy(x->next.admin_ha1, x->current.admin_ha1, sizeof x->next.admin_ha1);
    api_write_run(rq, rs, x, rc);
}

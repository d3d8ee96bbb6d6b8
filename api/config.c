/* config: GET/PUT /config, and storing a new configuration for every write. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "check.h"
#include "hostport.h"

/* ---- resolved values ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static int cmp_target(const void *pa, const void *pb)
{
    const struct dns_target *a = pa, *b = pb;
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    int c = strcmp(a->host, b->host);
    if (c)
        return c;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return (int)a->transport - (int)b->transport;
}

/* Two lineN.F.resolved values that name the same targets and addresses, in any order. */
static bool resolved_same(const char *x, const char *y)
{
    if (strcmp(x, y) == 0)
        return true;
    if (!x[0] || !y[0])
        return false;
    struct dns_target *a = calloc((size_t)2 * DNS_MAX_TARGETS, sizeof *a);
    if (!a)
        return false;
    struct dns_target *b = a + DNS_MAX_TARGETS;
    unsigned na = 0, nb = 0;
    bool same = false;
    if (dns_targets_from_flash(x, a, DNS_MAX_TARGETS, &na) == 0 &&
        dns_targets_from_flash(y, b, DNS_MAX_TARGETS, &nb) == 0 && na == nb) {
        for (unsigned i = 0; i < na; i++) {
            qsort(a[i].addrs, a[i].naddrs, DNS_ADDR_MAX, cmp_str);
            qsort(b[i].addrs, b[i].naddrs, DNS_ADDR_MAX, cmp_str);
        }
        qsort(a, na, sizeof *a, cmp_target);
        qsort(b, nb, sizeof *b, cmp_target);
        same = true;
        for (unsigned i = 0; same && i < na; i++) {
            same = cmp_target(&a[i], &b[i]) == 0 && a[i].naddrs == b[i].naddrs;
            for (unsigned j = 0; same && j < a[i].naddrs; j++)
                same = strcmp(a[i].addrs[j], b[i].addrs[j]) == 0;
        }
    }
    free(a);
    return same;
}

void api_apply_resolved(struct config *next, const struct config *old,
                        const struct api_checks *c)
{
    for (unsigned i = 0; i < next->nlines; i++) {
        struct line *l = &next->line[i];
        const struct line *o = i < old->nlines ? &old->line[i] : NULL;
        for (int f = 0; f < SF_COUNT; f++) {
            char *res = l->resolved[f];
            bool unchanged = o && l->srv[f].set && o->srv[f].set &&
                             server_equal(&l->srv[f], &o->srv[f]) && l->dns_srv == o->dns_srv;
            const struct dns_result *r = c ? api_checks_find(c, i, (enum server_field)f) : NULL;
            char buf[RESOLVED_MAX + 1];
            if (l->srv[f].set && r && r->status == DNS_OK &&
                dns_result_to_flash(r, buf, sizeof buf) >= 0 && buf[0]) {
                if (unchanged && resolved_same(buf, o->resolved[f]))
                    snprintf(res, RESOLVED_MAX + 1, "%s", o->resolved[f]);
                else
                    snprintf(res, RESOLVED_MAX + 1, "%s", buf);
            } else if (unchanged) {
                snprintf(res, RESOLVED_MAX + 1, "%s", o->resolved[f]);   /* last good stays */
            } else {
                res[0] = '\0';
            }
        }
    }
}

/* ---- commit ---- */

void api_write_answer(struct resp *rs, const char *key, json_t *value, unsigned diff,
                      bool dry_run, const struct api_checks *checks,
                      const struct diag_list *warns, const char *etag)
{
    json_t *out = json_object();
    if (!out || !value) {
        json_decref(out);
        json_decref(value);
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    json_object_set_new(out, key, value);
    json_object_set_new(out, "changed", json_boolean(diff & CONFIG_DIFF_SETTINGS));
    json_object_set_new(out, "resolutions_updated", json_boolean(diff & CONFIG_DIFF_RESOLVED));
    if (dry_run)
        json_object_set_new(out, "dry_run", json_true());
    json_object_set_new(out, "checks", api_checks_json(checks));
    json_object_set_new(out, "warnings", diag_to_json(warns));
    if (etag)
        resp_header(rs, "ETag", etag);
    resp_json(rs, 200, out);
}

bool api_reload(struct app *app)
{
    struct store_info info;
    struct config *c = malloc(sizeof *c);
    if (!c)
        return false;
    bool admin_changed = false;
    if (config_load(app->store, app->nlines, c, NULL, NULL, &info) == 0 &&
        info.state == STORE_OK) {
        if (!c->admin_ha1[0])        /* never lock the admin out: keep the known one */
            memcpy(c->admin_ha1, app->cfg->admin_ha1, sizeof c->admin_ha1);
        admin_changed = strcmp(c->admin_ha1, app->cfg->admin_ha1) != 0;
        *app->cfg = *c;
        app->generation = info.generation;
        fprintf(stderr, "sipcfgd: flash was changed by another program: reloaded generation %u\n",
                (unsigned)info.generation);
    }
    explicit_bzero(c, sizeof *c);           /* passwords */
    free(c);
    return admin_changed;
}

int api_commit(struct app *app, struct resp *rs, const struct config *next, unsigned *diff)
{
    unsigned d = config_diff(app->cfg, next);
    if (diff)
        *diff = 0;
    if (d == 0)
        return 0;                  /* nothing changed: flash is not touched */
    struct store_info info;
    memset(&info, 0, sizeof info);
    uint32_t expect = app->generation;
    int rc = config_commit(app->store, next, &expect, &info);
    if (rc == 0 || rc == 1) {
        *app->cfg = *next;
        if (rc == 0)
            app->generation = info.generation;
        if (diff)
            *diff = rc == 0 ? d : 0;
        return 0;
    }
    if (rc == -ESTALE) {
        if (api_reload(app))
            auth_sessions_end_all(app->auth);
        api_problem(rs, 409, NULL,
                    "the configuration in flash was changed by someone else meanwhile; "
                    "read it again and retry");
    } else if (rc == -ENOSPC) {
        api_problem(rs, 507, NULL,
                    "the configuration does not fit in a flash bank; nothing was stored");
    } else if (rc == -EIO || rc == -EPERM) {
        char why[160];
        snprintf(why, sizeof why, "writing flash failed (%s); the previous configuration is kept",
                 strerror(-rc));
        api_problem(rs, 507, NULL, why);
    } else {
        api_problem(rs, 500, NULL, "the configuration could not be encoded for flash");
    }
    return rc;
}

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
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_header(rs, "ETag", etag);
    resp_json(rs, 200, j);
}

/* ---- PUT /config ---- */

struct config_ctx {
    bool dry_run;
    bool if_match;
    enum api_dns_policy policy;
    uint32_t generation;          /* what the body was read against */
    struct config next;
    struct diag_list errs, warns;
    struct api_checks checks;
};

static void config_ctx_free(void *p)
{
    struct config_ctx *x = p;
    api_checks_free(&x->checks);
    explicit_bzero(&x->next, sizeof x->next);   /* passwords */
    free(x);
}

static void config_finish(struct req *rq, struct resp *rs, struct config_ctx *x)
{
    struct app *app = req_app(rq);
    if (api_checks_refused(rs, &x->checks, x->policy, &x->errs, &x->warns))
        return;
    unsigned diff = 0;
    pthread_mutex_lock(&app->lock);
    if (app->generation != x->generation) {
        pthread_mutex_unlock(&app->lock);
        if (x->if_match)
            api_problem(rs, 412, NULL, "the configuration changed meanwhile (If-Match)");
        else
            api_problem(rs, 409, NULL,
                        "the configuration changed while this request was checked; retry");
        return;
    }
    memcpy(x->next.admin_ha1, app->cfg->admin_ha1, sizeof x->next.admin_ha1);
    api_apply_resolved(&x->next, app->cfg, &x->checks);
    int rc = 0;
    if (x->dry_run)
        diff = config_diff(app->cfg, &x->next);
    else
        rc = api_commit(app, rs, &x->next, &diff);
    pthread_mutex_unlock(&app->lock);
    if (rc < 0)
        return;
    json_t *cj = config_to_json(&x->next);
    json_t *lines = cj ? json_incref(json_object_get(cj, "lines")) : NULL;
    json_decref(cj);
    char etag[24];
    api_config_etag(&x->next, etag);
    api_write_answer(rs, "lines", lines, diff, x->dry_run, &x->checks, &x->warns,
                     x->dry_run ? NULL : etag);
}

void config_put(struct req *rq, struct resp *rs)
{
    struct config_ctx *x = req_ctx(rq);
    if (x) {                          /* resumed after the DNS checks */
        config_finish(rq, rs, x);
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
            api_bad_parameter(rs, "dry_run", "query parameter 'dry_run' must be true or false");
            return;
        }
    }
    json_t *in = api_body_json(rq, rs);
    if (!in)
        return;
    x = calloc(1, sizeof *x);
    struct config *cur = malloc(sizeof *cur);
    if (!x || !cur) {
        free(x);
        free(cur);
        json_decref(in);
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    api_checks_init(&x->checks);
    req_set_ctx(rq, x, config_ctx_free);
    x->dry_run = dry_run;
    x->policy = policy;
    diag_init(&x->errs);
    diag_init(&x->warns);
    char etag[24];
    pthread_mutex_lock(&app->lock);
    *cur = *app->cfg;
    x->generation = app->generation;
    pthread_mutex_unlock(&app->lock);
    api_config_etag(cur, etag);
    x->if_match = req_header(rq, "If-Match") != NULL;
    if (!api_if_match(rq, etag)) {
        explicit_bzero(cur, sizeof *cur);
        free(cur);
        json_decref(in);
        api_problem(rs, 412, NULL, "If-Match does not match the current configuration's ETag");
        return;
    }
    config_defaults(&x->next, app->nlines);
    int rc = config_from_json(in, cur, &x->next, &x->errs);
    json_decref(in);
    x->next.nlines = app->nlines;
    memcpy(x->next.admin_ha1, cur->admin_ha1, sizeof cur->admin_ha1);
    explicit_bzero(cur, sizeof *cur);
    free(cur);
    if (rc < 0 && x->errs.n == 0)
        diag_add(&x->errs, "", "invalid", "the configuration is not valid");
    if (rc == 0 && x->errs.n == 0)
        check_config(&x->next, &x->errs, &x->warns);
    if (x->errs.n || x->errs.dropped) {
        api_validation_failed_w(rs, &x->errs, &x->warns, NULL);
        return;
    }
    for (unsigned i = 0; i < x->next.nlines; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "lines[%u]", i);
        api_checks_add_line(&x->checks, &x->next.line[i], i, prefix);
    }
    if (policy == API_DNS_SKIP)
        api_checks_skip(&x->checks);
    else if (api_checks_start(&x->checks, rq, app->dns))
        return;
    config_finish(rq, rs, x);
}

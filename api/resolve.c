/* resolve: live DNS checks for a request (many servers in parallel while the
 * request is suspended), the DNS policy of writes, and POST /resolve. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns_verdict.h"
#include "hostport.h"

int api_dns_policy(const struct req *rq, struct resp *rs, enum api_dns_policy *out)
{
    const char *v = req_query(rq, "dns");
    *out = API_DNS_REQUIRE;
    if (!v)
        return 0;
    if (strcasecmp(v, "require") == 0)
        *out = API_DNS_REQUIRE;
    else if (strcasecmp(v, "warn") == 0)
        *out = API_DNS_WARN;
    else if (strcasecmp(v, "skip") == 0)
        *out = API_DNS_SKIP;
    else {
        resp_bad_parameter(rs, "dns", "query parameter 'dns' must be require, warn or skip");
        return -EINVAL;
    }
    return 0;
}

void api_checks_init(struct api_checks *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
}

void api_checks_free(struct api_checks *c)
{
    for (size_t i = 0; i < c->n; i++) {
        dns_result_free(c->item[i].result);
        c->item[i].result = NULL;
    }
    pthread_mutex_destroy(&c->mu);
}

void api_checks_add_line(struct api_checks *c, const struct line *l, unsigned line_idx,
                         const char *prefix)
{
    for (int f = 0; f < SF_COUNT; f++) {
        if (!l->srv[f].set || c->n >= API_CHECKS_MAX)
            continue;
        struct api_check *k = &c->item[c->n++];
        memset(k, 0, sizeof *k);
        diag_path(k->field, sizeof k->field, prefix ? prefix : "",
                  server_field_name((enum server_field)f));
        k->line_idx = line_idx;
        k->sf = (enum server_field)f;
        k->server = l->srv[f];
        k->dns_srv = l->dns_srv;
    }
}

/* A result for a check that could not even start (no memory, resolver gone). */
static struct dns_result *failed_result(const struct server *s)
{
    struct dns_result *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->server = *s;
    r->status = DNS_SERVFAIL;
    r->method = DNS_METHOD_A;
    return r;
}

void api_checks_skip(struct api_checks *c)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct api_check *k = &c->item[i];
        struct dns_result *r = calloc(1, sizeof *r);
        if (!r)
            continue;                     /* reported as not checked at all */
        r->server = k->server;
        r->status = DNS_SKIPPED;
        /* the method the phone would start with; nothing was looked up */
        if (host_ip_family(k->server.host) != 0)
            r->method = DNS_METHOD_LITERAL;
        else if (k->server.port != 0 || !k->dns_srv)
            r->method = DNS_METHOD_A;
        else
            r->method = k->server.transport == TRANSPORT_AUTO ? DNS_METHOD_NAPTR : DNS_METHOD_SRV;
        c->item[i].result = r;
    }
}

struct check_arg {
    struct api_checks *c;
    size_t i;
};

static void done_one(struct api_checks *c)
{
    /* called with c->mu held; unlocks */
    bool last = --c->pending == 0;
    struct req *rq = c->rq;
    pthread_mutex_unlock(&c->mu);
    /* After resume the handler may run and free c: touch nothing after this. */
    if (last && rq)
        req_resume(rq);
}

static void check_cb(void *arg, const struct dns_result *r)
{
    struct check_arg *a = arg;
    struct api_checks *c = a->c;
    size_t i = a->i;
    free(a);
    struct dns_result *copy = dns_result_dup(r);
    if (!copy)
        copy = failed_result(&c->item[i].server);
    pthread_mutex_lock(&c->mu);
    c->item[i].result = copy;
    done_one(c);
}

bool api_checks_start(struct api_checks *c, struct req *rq, struct dns *d)
{
    bool literals_only = true;
    for (size_t i = 0; i < c->n; i++)
        if (host_ip_family(c->item[i].server.host) == 0)
            literals_only = false;
    if (literals_only) {
        /* nothing to wait for: an IP literal needs no lookup */
        for (size_t i = 0; i < c->n; i++) {
            struct dns_result *r = NULL;
            if (dns_check(d, &c->item[i].server, c->item[i].dns_srv, &r) < 0 || !r)
                r = failed_result(&c->item[i].server);
            c->item[i].result = r;
        }
        return false;
    }
    /* Suspend first: a callback may run before dns_check_start returns. One extra
     * count for this starter, so the request resumes only after every start. */
    c->rq = rq;
    c->pending = (unsigned)c->n + 1;
    req_suspend(rq);
    for (size_t i = 0; i < c->n; i++) {
        struct check_arg *a = malloc(sizeof *a);
        int rc = -ENOMEM;
        if (a) {
            a->c = c;
            a->i = i;
            rc = dns_check_start(d, &c->item[i].server, c->item[i].dns_srv, check_cb, a);
            if (rc < 0)
                free(a);
        }
        if (rc < 0) {
            struct dns_result *r = failed_result(&c->item[i].server);
            pthread_mutex_lock(&c->mu);
            c->item[i].result = r;
            done_one(c);
        }
    }
    pthread_mutex_lock(&c->mu);
    done_one(c);
    return true;
}

json_t *api_checks_json(const struct api_checks *c)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < c->n; i++)
        if (c->item[i].result)
            json_array_append_new(a, dns_result_to_json(c->item[i].result, c->item[i].field));
    return a;
}

bool api_checks_refused(struct resp *rs, const struct api_checks *c, enum api_dns_policy policy,
                        struct diag_list *errs, struct diag_list *warns)
{
    api_checks_diag(c, policy, errs, warns);
    if (errs->n == 0 && errs->dropped == 0)
        return false;
    api_validation_failed_w(rs, errs, warns, api_checks_json(c));
    return true;
}

const struct dns_result *api_checks_find(const struct api_checks *c, unsigned line_idx,
                                         enum server_field sf)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->item[i].line_idx == line_idx && c->item[i].sf == sf)
            return c->item[i].result;
    return NULL;
}

void api_checks_diag(const struct api_checks *c, enum api_dns_policy policy,
                     struct diag_list *errs, struct diag_list *warns)
{
    for (size_t i = 0; i < c->n; i++) {
        const struct api_check *k = &c->item[i];
        if (!k->result)
            continue;
        dns_result_diag(k->result, k->field, policy == API_DNS_REQUIRE, errs, warns);
    }
    /* a backup that resolves to its primary's addresses protects nothing */
    for (size_t i = 0; i < c->n; i++) {
        const struct api_check *b = &c->item[i];
        const struct field_desc *d = line_server_row(b->sf);
        if (!d || d->backup_of < 0 || !b->result || b->result->status != DNS_OK)
            continue;
        const struct dns_result *pr =
            api_checks_find(c, b->line_idx, (enum server_field)d->backup_of);
        if (pr && pr->status == DNS_OK)
            dns_compare_backup(pr, b->result, b->field, warns);
    }
}

/* ---- POST /resolve ---- */

struct resolve_ctx {
    struct api_checks checks;
};

static void resolve_ctx_free(void *p)
{
    struct resolve_ctx *x = p;
    api_checks_free(&x->checks);
    free(x);
}

static void resolve_answer(struct resp *rs, struct resolve_ctx *x)
{
    const struct dns_result *r = x->checks.item[0].result;
    if (!r) {
        resp_problem(rs, 500, NULL, "the check did not complete");
        return;
    }
    resp_json(rs, 200, dns_result_to_json(r, NULL));
}

void resolve_post(struct req *rq, struct resp *rs)
{
    struct resolve_ctx *x = req_ctx(rq);
    if (x) {                       /* resumed: the check is done */
        resolve_answer(rs, x);
        return;
    }
    json_t *in = api_body_json(rq, rs);
    if (!in)
        return;
    struct diag_list *errs = malloc(sizeof *errs);
    if (!errs) {
        json_decref(in);
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    diag_init(errs);
    struct server s;
    memset(&s, 0, sizeof s);
    bool dns_srv = true;
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v) {
        char q[64];
        if (strcmp(key, "server") == 0) {
            if (json_is_null(v))
                diag_add(errs, "server", "required", "a server to check is required");
            else
                server_from_json(v, &s, "server", errs);
        } else if (strcmp(key, "dns_srv") == 0) {
            if (json_is_boolean(v))
                dns_srv = json_is_true(v);
            else
                diag_add(errs, "dns_srv", "invalid_type", "dns_srv must be true or false");
        } else {
            diag_add(errs, diag_quote(q, sizeof q, key), "unknown_field",
                     "'%s' is not a member of a resolve request (server, dns_srv)",
                     diag_quote(q, sizeof q, key));
        }
    }
    if (!json_object_get(in, "server"))
        diag_add(errs, "server", "required", "a server to check is required");
    json_decref(in);
    if (errs->n == 0 && !s.set)
        diag_add(errs, "server", "required", "a server to check is required");
    if (errs->n || errs->dropped) {
        api_validation_failed(rs, errs, NULL);
        free(errs);
        return;
    }
    free(errs);

    x = calloc(1, sizeof *x);
    if (!x) {
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    api_checks_init(&x->checks);
    struct api_check *k = &x->checks.item[0];
    snprintf(k->field, sizeof k->field, "server");
    k->server = s;
    k->dns_srv = dns_srv;
    x->checks.n = 1;
    req_set_ctx(rq, x, resolve_ctx_free);
    if (api_checks_start(&x->checks, rq, req_app(rq)->dns))
        return;
    resolve_answer(rs, x);
}

/* routing: where a line's REGISTER and INVITE go, in order, with live resolutions
 * (GET /lines/{n}/routing for a saved line, POST /routing for an unsaved one).
 *
 * Rules (API.md sections 1 and 3; docs/API-NOTES.md):
 *  - outbound_proxy, when set, is the first hop of every request (primary);
 *  - then the server the request is addressed to, which is still listed behind
 *    an outbound proxy, since the request travels through it toward that server:
 *      REGISTER: registrar if set, else proxy (primary);
 *                backup_registrar if set, else backup_proxy (backup);
 *      INVITE:   proxy (primary), backup_proxy (backup);
 *  - unset fields are left out; a line with "register": false sends no REGISTER. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

struct routing_ctx {
    unsigned n;
    struct line line;
    struct diag_list warns;
    struct api_checks checks;
};

static void routing_ctx_free(void *p)
{
    struct routing_ctx *x = p;
    api_checks_free(&x->checks);
    explicit_bzero(x, sizeof *x);
    free(x);
}

static void add_hop(json_t *arr, const struct routing_ctx *x, enum server_field f,
                    const char *role)
{
    if (!x->line.srv[f].set)
        return;
    const char *name = server_field_name(f);
    const struct dns_result *r = api_checks_find(&x->checks, 0, f);
    json_t *hop = json_object();
    if (!hop)
        return;
    json_object_set_new(hop, "field", json_string(name));
    json_object_set_new(hop, "role", json_string(role));
    json_object_set_new(hop, "resolution", r ? dns_result_to_json(r, name) : json_null());
    json_array_append_new(arr, hop);
}

static void routing_answer(struct resp *rs, struct routing_ctx *x)
{
    const struct line *l = &x->line;
    json_t *reg = json_array(), *inv = json_array();
    json_t *out = json_object();
    if (!reg || !inv || !out) {
        json_decref(reg);
        json_decref(inv);
        json_decref(out);
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    if (l->reg) {
        add_hop(reg, x, SF_OUTBOUND_PROXY, "primary");
        /* an unset registrar's job is done by its fallback (line.c's table) */
        add_hop(reg, x, line_server_effective(l, SF_REGISTRAR), "primary");
        add_hop(reg, x, line_server_effective(l, SF_BACKUP_REGISTRAR), "backup");
    }
    add_hop(inv, x, SF_OUTBOUND_PROXY, "primary");
    add_hop(inv, x, SF_PROXY, "primary");
    add_hop(inv, x, SF_BACKUP_PROXY, "backup");
    struct diag_list *errs = malloc(sizeof *errs);
    if (errs) {
        diag_init(errs);
        /* here every DNS problem is information, never a refusal */
        api_checks_diag(&x->checks, API_DNS_WARN, errs, &x->warns);
        free(errs);
    }
    if (x->n)
        json_object_set_new(out, "line", json_integer(x->n));
    json_object_set_new(out, "register", reg);
    json_object_set_new(out, "invite", inv);
    json_object_set_new(out, "warnings", diag_to_json(&x->warns));
    resp_json(rs, 200, out);
}

static void routing_start(struct req *rq, struct resp *rs, struct routing_ctx *x)
{
    /* only the fields a request can use: all five may appear */
    api_checks_add_line(&x->checks, &x->line, 0, "");
    if (api_checks_start(&x->checks, rq, req_app(rq)->dns))
        return;
    routing_answer(rs, x);
}

static struct routing_ctx *routing_new(struct req *rq, struct resp *rs)
{
    struct routing_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        resp_problem(rs, 500, NULL, "out of memory");
        return NULL;
    }
    api_checks_init(&x->checks);
    diag_init(&x->warns);
    req_set_ctx(rq, x, routing_ctx_free);
    return x;
}

/* The handler runs again once the checks are in: answer from the context. */
static bool routing_resumed(struct req *rq, struct resp *rs)
{
    struct routing_ctx *x = req_ctx(rq);
    if (x)
        routing_answer(rs, x);
    return x != NULL;
}

void routing_get(struct req *rq, struct resp *rs)
{
    if (routing_resumed(rq, rs))
        return;
    struct app *app = req_app(rq);
    unsigned n = api_line_or_404(rq, rs);
    if (!n)
        return;
    struct routing_ctx *x = routing_new(rq, rs);
    if (!x)
        return;
    x->n = n;
    pthread_mutex_lock(&app->lock);
    x->line = app->cfg->line[n - 1];
    pthread_mutex_unlock(&app->lock);
    routing_start(rq, rs, x);
}

void routing_post(struct req *rq, struct resp *rs)
{
    if (routing_resumed(rq, rs))
        return;
    struct app *app = req_app(rq);
    json_t *in = api_body_json(rq, rs);
    if (!in)
        return;
    /* The preview is of the line the body names ("line"), else of line 1; the
     * number matters only for the read-only "line" member. */
    unsigned n = 1;
    json_t *ln = json_object_get(in, "line");
    if (json_is_integer(ln) && json_integer_value(ln) >= 1 &&
        json_integer_value(ln) <= (json_int_t)app->nlines)
        n = (unsigned)json_integer_value(ln);
    struct routing_ctx *x = routing_new(rq, rs);
    if (!x) {
        json_decref(in);
        return;
    }
    struct line *cur = malloc(sizeof *cur);
    struct diag_list *errs = malloc(sizeof *errs);
    if (!cur || !errs) {
        free(cur);
        free(errs);
        json_decref(in);
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    line_defaults(cur);
    diag_init(errs);
    int rc = line_from_json(in, n, cur, &x->line, "", errs);
    json_decref(in);
    free(cur);
    bool refused = api_refuse_invalid(rs, rc, &x->line, NULL, errs, &x->warns);
    free(errs);
    if (refused)
        return;
    routing_start(rq, rs, x);
}

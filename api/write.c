/* write: the one path of every write (PUT/PATCH/DELETE /lines/{n}, PUT
 * /config): the resource parses its body into a configuration, and this file
 * does the rest the same way for all: checks (422), live DNS checks of every
 * server (suspending the request while they run), "changed meanwhile"
 * (412/409), the stored resolutions, the commit (409/507) and the answer. */
#include "api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "check.h"
#include "hostport.h"
#include "provenance.h"
#include "sipcfg.h"

/* ---- resolved values ---- */

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
                if (unchanged && dns_resolved_same(buf, o->resolved[f]))
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
        resp_problem(rs, 500, NULL, "out of memory");
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
    kv_free(app->kept_above);      /* another program wrote: read them again when needed */
    app->kept_above = NULL;
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

void api_admin_ha1(void *arg, char out[65])
{
    struct app *app = arg;
    pthread_mutex_lock(&app->lock);
    snprintf(out, ADMIN_HA1_HEX + 1, "%s", app->cfg->admin_ha1);
    pthread_mutex_unlock(&app->lock);
}

void api_follow_flash(struct app *app)
{
    /* store_generation reads no bank while the image is unchanged (a stat);
     * the daemon's own commits keep app->generation equal, so this reloads
     * only after someone else wrote. */
    uint32_t gen;
    enum store_state state;
    bool ended = false;
    pthread_mutex_lock(&app->lock);
    if (store_generation(app->store, &gen, &state) == 0 && state == STORE_OK &&
        gen != app->generation)
        ended = api_reload(app);
    pthread_mutex_unlock(&app->lock);
    if (ended)
        auth_sessions_end_all(app->auth);
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
    int rc = config_commit_kept(app->store, next, &expect, &app->kept_above, &info);
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
        resp_problem(rs, 409, NULL,
                    "the configuration in flash was changed by someone else meanwhile; "
                    "read it again and retry");
    } else if (rc == -EFBIG || rc == -ENOSPC || rc == -EDQUOT || rc == -EROFS || rc == -EIO ||
               rc == -EPERM || rc == -EUCLEAN) {
        /* The words are the reader library's, so the API, the CLI and a SIP
         * core say the same thing about the same storage failure. */
        char why[160];
        snprintf(why, sizeof why, "%s; the previous configuration is kept", sipcfg_strerror(rc));
        resp_problem(rs, 507, NULL, why);
    } else {
        resp_problem(rs, 500, NULL, "the configuration could not be encoded for flash");
    }
    return rc;
}

/* ---- the pipeline ---- */

static void write_free(void *p)
{
    struct api_write *x = p;
    api_checks_free(&x->checks);
    explicit_bzero(x, sizeof *x);     /* passwords */
    free(x);
}

struct api_write *api_write_begin(struct req *rq, struct resp *rs, unsigned line,
                                  enum api_dns_policy policy, bool dry_run)
{
    struct app *app = req_app(rq);
    struct api_write *x = calloc(1, sizeof *x);
    if (!x) {
        resp_problem(rs, 500, NULL, "out of memory");
        return NULL;
    }
    api_checks_init(&x->checks);
    req_set_ctx(rq, x, write_free);
    x->line = line;
    x->policy = policy;
    x->dry_run = dry_run;
    /* who is who (docs/API-NOTES.md): the page has a session, scripts digest */
    x->source = !line ? PROV_PROVISIONING : req_by_session(rq) ? PROV_PAGE : PROV_API;
    x->keep_locks = line != 0;
    diag_init(&x->errs);
    diag_init(&x->warns);
    char etag[24];
    /* What the body is read against: a line write needs only its line (the
     * other lines are taken from what is stored when it commits), PUT /config
     * the whole configuration. The resource's parser fills x->next. */
    pthread_mutex_lock(&app->lock);
    if (line)
        x->current.line[line - 1] = app->cfg->line[line - 1];
    else
        x->current = *app->cfg;
    x->current.nlines = app->cfg->nlines;
    x->generation = app->generation;
    pthread_mutex_unlock(&app->lock);
    x->next.nlines = x->current.nlines;
    if (line)
        api_line_etag(&x->current.line[line - 1], line, etag);
    else
        api_config_etag(&x->current, etag);
    x->if_match = req_header(rq, "If-Match") != NULL;
    if (!api_if_match(rq, etag)) {
        resp_problem(rs, 412, NULL, line ? "If-Match does not match the line's current ETag"
                                        : "If-Match does not match the current configuration's ETag");
        return NULL;
    }
    return x;
}

/* Whether what the body was read against is still what is stored: the line
 * for a line write (other lines may change meanwhile), the generation for the
 * whole configuration. Call with app->lock held. */
static bool still_current(const struct app *app, const struct api_write *x)
{
    if (!x->line)
        return app->generation == x->generation;
    return !(config_line_diff(&app->cfg->line[x->line - 1], &x->current.line[x->line - 1]) &
             CONFIG_DIFF_SETTINGS);
}

void api_write_finish(struct req *rq, struct resp *rs, struct api_write *x)
{
    struct app *app = req_app(rq);
    if (api_checks_refused(rs, &x->checks, x->policy, &x->errs, &x->warns))
        return;
    unsigned diff = 0;
    int rc = 0;
    pthread_mutex_lock(&app->lock);
    if (!still_current(app, x)) {
        /* someone changed it while its servers were checked */
        pthread_mutex_unlock(&app->lock);
        if (x->if_match)
            resp_problem(rs, 412, NULL, x->line
                ? "the line changed meanwhile (If-Match no longer matches)"
                : "the configuration changed meanwhile (If-Match)");
        else
            resp_problem(rs, 409, NULL, x->line
                ? "the line changed while this request was checked; retry"
                : "the configuration changed while this request was checked; retry");
        return;
    }
    /* x->next becomes the configuration to store: a line write changes only
     * its line, on top of what is stored now; PUT /config brings every line
     * and keeps the admin password. */
    struct config *next = &x->next;
    if (x->line) {
        struct line *l = malloc(sizeof *l);
        if (!l) {
            pthread_mutex_unlock(&app->lock);
            resp_problem(rs, 500, NULL, "out of memory");
            return;
        }
        *l = next->line[x->line - 1];
        *next = *app->cfg;
        next->line[x->line - 1] = *l;
        explicit_bzero(l, sizeof *l);     /* a password */
        free(l);
    } else {
        next->nlines = app->cfg->nlines;
        memcpy(next->admin_ha1, app->cfg->admin_ha1, sizeof next->admin_ha1);
    }
    api_apply_resolved(next, app->cfg, &x->checks);
    int64_t now = (int64_t)time(NULL);
    for (unsigned i = 0; i < next->nlines; i++)
        prov_stamp(&next->line[i], &app->cfg->line[i], x->source, now, x->keep_locks);
    if (x->dry_run)
        diff = config_diff(app->cfg, next);
    else
        rc = api_commit(app, rs, next, &diff);
    pthread_mutex_unlock(&app->lock);
    if (rc < 0)
        return;
    char etag[24];
    json_t *value;
    if (x->line) {
        api_line_etag(&next->line[x->line - 1], x->line, etag);
        value = line_to_json(&next->line[x->line - 1], x->line);
    } else {
        api_config_etag(next, etag);
        json_t *cj = config_to_json(next);
        value = cj ? json_incref(json_object_get(cj, "lines")) : NULL;
        json_decref(cj);
    }
    api_write_answer(rs, x->line ? "line" : "lines", value, diff, x->dry_run, &x->checks,
                     &x->warns, x->dry_run ? NULL : etag);
}

bool api_refuse_invalid(struct resp *rs, int parse_rc, const struct line *l,
                        const struct config *c, struct diag_list *errs, struct diag_list *warns)
{
    if (parse_rc < 0 && errs->n == 0)
        diag_add(errs, "", "invalid", l ? "the line is not valid"
                                        : "the configuration is not valid");
    if (parse_rc == 0 && errs->n == 0) {
        if (l)
            check_line(l, "", errs, warns);
        else
            check_config(c, errs, warns);
    }
    if (!errs->n && !errs->dropped)
        return false;
    api_validation_failed_w(rs, errs, warns, NULL);
    return true;
}

/* A change to a locked field (API.md section 2): 409 with an errors[] item
 * per field, code "locked", and since when and by what it is locked. Only
 * PUT /config (provisioning) may change or unlock such a field. True when
 * the write was refused and answered. */
static bool refused_locked(struct resp *rs, const struct line *old, const struct line *next)
{
    uint32_t bits = prov_locked_changes(old, next);
    if (!bits)
        return false;
    json_t *errs = json_array();
    size_t n = 0;
    for (size_t i = 0; errs && i < line_nfields; i++) {
        if (!(bits & (UINT32_C(1) << i)))
            continue;
        const char *name = line_field_member(&line_fields[i]), *by = prov_source_name(old->lock[i].source);
        char at[PROV_TIME_LEN + 1], msg[DIAG_MESSAGE_MAX];
        prov_time_format(old->lock[i].at, at);
        by = by ? by : "default";
        snprintf(msg, sizeof msg,
                 "%s is locked (by %s%s%s): only provisioning (PUT /api/v1/config) may change it",
                 name, by, at[0] ? " on " : "", at);
        json_array_append_new(errs, json_pack("{s:s, s:s, s:s, s:s, s:o}", "field", name, "code",
                                              "locked", "message", msg, "locked_by", by,
                                              "locked_at", at[0] ? json_string(at) : json_null()));
        n++;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "%zu locked field%s would change; nothing was stored", n,
             n == 1 ? "" : "s");
    json_t *p = resp_problem_new(409, "Locked", detail);
    if (!p || !errs) {
        json_decref(p);
        json_decref(errs);
        resp_problem(rs, 500, NULL, "out of memory");
        return true;
    }
    json_object_set_new(p, "errors", errs);
    resp_problem_json(rs, 409, p);
    return true;
}

void api_write_run(struct req *rq, struct resp *rs, struct api_write *x, int parse_rc)
{
    if (api_refuse_invalid(rs, parse_rc, x->line ? &x->next.line[x->line - 1] : NULL, &x->next,
                           &x->errs, &x->warns))
        return;
    /* a line write may not change a locked field: refused before any lookup */
    if (x->line &&
        refused_locked(rs, &x->current.line[x->line - 1], &x->next.line[x->line - 1]))
        return;
    for (unsigned i = 0; i < x->next.nlines; i++) {
        char prefix[32] = "";
        if (x->line && i != x->line - 1)
            continue;
        if (!x->line)
            snprintf(prefix, sizeof prefix, "lines[%u]", i);
        api_checks_add_line(&x->checks, &x->next.line[i], i, prefix);
    }
    if (x->policy == API_DNS_SKIP)
        api_checks_skip(&x->checks);
    else if (api_checks_start(&x->checks, rq, req_app(rq)->dns))
        return;                        /* resumed in api_write_finish */
    api_write_finish(rq, rs, x);
}

/* api: the REST resources of API.md section 3, and the daemon state they share. */
#ifndef SIPCFG_API_H
#define SIPCFG_API_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "config.h"
#include "dns.h"
#include "http.h"
#include "json.h"
#include "store.h"

struct auth;

struct app {
    pthread_mutex_t lock;        /* guards cfg, generation and the store */
    struct store *store;
    struct config *cfg;          /* what flash holds now (admin HA1 included) */
    uint32_t generation;
    struct kv *kept_above;       /* flash's lines above nlines (config_commit_kept) */
    struct dns *dns;
    struct auth *auth;
    unsigned nlines;
    time_t started;
    const char *version;
};

/* The route table server/ is handed (http_options.routes), terminated by a NULL
 * method; the OpenAPI check of api.sh holds the document to it. */
extern const struct http_route api_routes[];

/* {n} of a matched path: the line number, or 0 when out of range or not in
 * canonical form ("0", "01", "7" with 6 lines -> 404). */
unsigned api_line_number(const struct req *rq, const struct app *app);
/* 404 "no such line: lines are numbered 1 to N". */
void api_line_not_found(struct resp *rs, const struct app *app);
/* {n} of a line's path, or 0 once it has answered the 404: the start of every
 * /lines/{n} handler. */
unsigned api_line_or_404(const struct req *rq, struct resp *rs);

/* ---- problem.c: problem+json helpers (API.md section 6) ---- */

/* 422 with errors and checks (checks may be NULL = []; it is stolen). */
void api_validation_failed(struct resp *rs, const struct diag_list *errs, json_t *checks);
/* The same with "warnings" as well (may be NULL). */
void api_validation_failed_w(struct resp *rs, const struct diag_list *errs,
                             const struct diag_list *warns, json_t *checks);
/* 400 for a body json_parse_body refused: "detail" and members "line", "column". */
void api_bad_json(struct resp *rs, const struct json_syntax_error *err);
/* The request's body as a JSON object (duplicate keys rejected); NULL after
 * answering 400 with line and column. */
json_t *api_body_json(const struct req *rq, struct resp *rs);
/* ---- resolve.c: live DNS checks of many servers at once, for one request ---- */

enum api_dns_policy { API_DNS_REQUIRE = 0, API_DNS_WARN, API_DNS_SKIP };

/* Reads ?dns=require|warn|skip (default require). -EINVAL: a 400 was answered. */
int api_dns_policy(const struct req *rq, struct resp *rs, enum api_dns_policy *out);

#define API_CHECKS_MAX ((size_t)LINE_MAX_LINES * SF_COUNT)

struct api_check {
    char field[DIAG_FIELD_MAX];   /* "proxy", or "lines[2].backup_proxy" in a config */
    unsigned line_idx;            /* 0-based line index */
    enum server_field sf;
    struct server server;
    bool dns_srv;
    struct dns_result *result;    /* NULL until it completed */
};

struct api_checks {
    pthread_mutex_t mu;           /* guards pending and the results while checks run */
    struct req *rq;
    unsigned pending;
    size_t n;
    struct api_check item[API_CHECKS_MAX];
};

void api_checks_init(struct api_checks *c);
void api_checks_free(struct api_checks *c);     /* results only; not the struct */
/* Adds every set server field of a line; fields named prefix + "." + name (or name). */
void api_checks_add_line(struct api_checks *c, const struct line *l, unsigned line_idx,
                         const char *prefix);
/* Starts every check. Returns true when the request was suspended (the handler
 * must return now and runs again, with its ctx, once all are done); false when
 * every result is already there (nothing to check, or IP literals only). */
bool api_checks_start(struct api_checks *c, struct req *rq, struct dns *d);
/* ?dns=skip: every check answered "skipped" (with the method the phone would
 * start with), nothing looked up. */
void api_checks_skip(struct api_checks *c);
/* The resolutions, in the order added, each with its "field". */
json_t *api_checks_json(const struct api_checks *c);
/* A non-ok outcome as an error (require) or a warning (warn) with code
 * "dns_<status>"; the checks' own warnings (backup equal to primary...) go to warns. */
void api_checks_diag(const struct api_checks *c, enum api_dns_policy policy,
                     struct diag_list *errs, struct diag_list *warns);
/* api_checks_diag, then the 422 (with the checks) when there is any error:
 * true when the write was refused and answered. */
bool api_checks_refused(struct resp *rs, const struct api_checks *c, enum api_dns_policy policy,
                        struct diag_list *errs, struct diag_list *warns);
const struct dns_result *api_checks_find(const struct api_checks *c, unsigned line_idx,
                                         enum server_field sf);

/* ---- write.c: the one path of every write, and storing a configuration ---- */

struct api_write {
    unsigned line;                /* 1..16: a write of that line; 0: the whole configuration */
    bool dry_run, if_match;
    enum api_dns_policy policy;
    uint32_t generation;          /* what the body was read against: the generation, */
    struct config current;        /* and the configuration */
    struct config next;           /* the resource's parser fills it (a line write: its line) */
    struct diag_list errs, warns;
    struct api_checks checks;
    enum prov_source source;      /* who writes (provenance.h): begin sets page or api for a
                                     line (by how the request was authenticated),
                                     provisioning for the configuration */
    bool keep_locks;              /* a line write never changes the locks */
};

/* Starts a write of line `line` (0: the whole configuration) once the body has
 * been read: its state becomes the request's ctx, x->current and x->next are
 * what is stored now, and If-Match is checked against the line's or the
 * configuration's ETag. NULL when answered (412, 500). */
struct api_write *api_write_begin(struct req *rq, struct resp *rs, unsigned line,
                                  enum api_dns_policy policy, bool dry_run);
/* The syntax checks of a parsed line (l) or configuration (c, when l is NULL):
 * check_line / check_config after a parser's result `parse_rc`, and the 422
 * when there is any error: true when refused and answered. */
bool api_refuse_invalid(struct resp *rs, int parse_rc, const struct line *l,
                        const struct config *c, struct diag_list *errs, struct diag_list *warns);
/* After the resource filled x->next (parse_rc: its parser's result): the
 * checks (422), the live DNS checks per x->policy, then api_write_finish,
 * unless the request was suspended for DNS. */
void api_write_run(struct req *rq, struct resp *rs, struct api_write *x, int parse_rc);
/* The rest, also where a resumed request (req_ctx) picks up: DNS refusal
 * (422), changed meanwhile (412 with If-Match, else 409), stored resolutions,
 * commit (or dry run), and the answer {"line"|"lines", "changed", ...}. */
void api_write_finish(struct req *rq, struct resp *rs, struct api_write *x);

/* Sets line->resolved[F] of every line of `next` from the checks: the ok
 * resolution; else the old value when the server is unchanged; else "".
 * An ok resolution equal to the old one up to order keeps the old text, so a
 * re-ordered DNS answer does not cost a flash write. */
void api_apply_resolved(struct config *next, const struct config *old,
                        const struct api_checks *c);
/* Commits `next` unless it equals what is stored (then *diff = 0 and flash
 * is not touched); *diff (may be NULL) gets config_diff's bits of what was
 * written. Call with app->lock held. On success app->cfg and app->generation
 * follow. Errors are answered (409 stale, 507 storage) and -errno returned;
 * RAM and flash are then unchanged (409: RAM reloaded). */
int api_commit(struct app *app, struct resp *rs, const struct config *next, unsigned *diff);
/* The answer of a write (API.md section 3): {key: value, "changed",
 * "resolutions_updated" (the bits of diff), ["dry_run"], "checks", "warnings"},
 * with the ETag when etag is non-NULL. Steals value. */
void api_write_answer(struct resp *rs, const char *key, json_t *value, unsigned diff,
                      bool dry_run, const struct api_checks *checks,
                      const struct diag_list *warns, const char *etag);
/* Loads what flash holds into app->cfg (someone else committed: the CLI, or
 * another writer). Call with app->lock held. Flash without an admin password
 * keeps the known one. True when the admin password changed: the caller then
 * ends every session, as PUT /admin/password does. */
bool api_reload(struct app *app);
/* The hook server/ runs before judging any API request (http_options.before_api):
 * when another process committed to flash, api_reload, and when the admin
 * password changed with it, end every session. */
void api_follow_flash(struct app *app);
/* The admin's HA1 for server/auth.c's digest check (auth_ha1_fn; arg: the app). */
void api_admin_ha1(void *arg, char out[65]);

/* ---- lines.c ---- */

/* Strong ETag ("\"<16 hex>\"") of a line's settings, password included (keyed
 * with a per-process random key, so it is no password oracle). */
void api_line_etag(const struct line *l, unsigned n, char out[24]);
void api_config_etag(const struct config *c, char out[24]);
/* true when If-Match is absent, "*", or lists `etag`; false when stale or malformed. */
bool api_if_match(const struct req *rq, const char *etag);

/* ---- handlers ---- */
void lines_get_all(struct req *rq, struct resp *rs);
void lines_get(struct req *rq, struct resp *rs);
void lines_put(struct req *rq, struct resp *rs);
void lines_patch(struct req *rq, struct resp *rs);
void lines_delete(struct req *rq, struct resp *rs);
void config_get(struct req *rq, struct resp *rs);
void config_put(struct req *rq, struct resp *rs);
void resolve_post(struct req *rq, struct resp *rs);
void routing_get(struct req *rq, struct resp *rs);
void routing_post(struct req *rq, struct resp *rs);
void resolutions_get(struct req *rq, struct resp *rs);
void status_get(struct req *rq, struct resp *rs);
void openapi_get(struct req *rq, struct resp *rs);
/* api/session.c (the server engineer's) */
void session_post(struct req *rq, struct resp *rs);
void session_delete(struct req *rq, struct resp *rs);
void admin_password_put(struct req *rq, struct resp *rs);

/* build/gen/openapi_json.c: api/openapi.yaml as JSON, generated at build time. */
extern const char openapi_json[];
extern const unsigned long openapi_json_len;

#endif

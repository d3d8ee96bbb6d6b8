/* lines: GET /lines, GET/PUT/PATCH/DELETE /lines/{n}, ETags and JSON merge patch. */
#include "api.h"

#include <errno.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "check.h"

/* ---- ETag ---- */

/* The ETag must change when the password changes, but an ETag is no place to
 * leak anything about the password: a keyed hash with a key that lives only in
 * this process (ETags therefore change across restarts, which If-Match tolerates
 * as "stale": the client reads again). */
static uint8_t etag_key[32];
static pthread_once_t etag_once = PTHREAD_ONCE_INIT;

static void etag_key_init(void)
{
    if (admin_random_bytes(etag_key, sizeof etag_key) < 0) {
        /* no randomness: still correct as an ETag, only weaker against guessing */
        memset(etag_key, 0x5a, sizeof etag_key);
    }
}

static void etag_hex(struct hmac_sha256_ctx *h, char out[24])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    hmac_sha256_digest(h, sizeof d, d);
    static const char hex[] = "0123456789abcdef";
    out[0] = '"';
    for (int i = 0; i < 8; i++) {
        out[1 + 2 * i] = hex[d[i] >> 4];
        out[2 + 2 * i] = hex[d[i] & 15];
    }
    out[17] = '"';
    out[18] = '\0';
}

static void etag_add_line(struct hmac_sha256_ctx *h, const struct line *l, unsigned n)
{
    json_t *j = line_to_json(l, n);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    if (s) {
        hmac_sha256_update(h, strlen(s) + 1, (const uint8_t *)s);
        free(s);
    }
    hmac_sha256_update(h, strlen(l->password) + 1, (const uint8_t *)l->password);
}

/* ---- the last answer of each line ----
 * A GET of a line used to cost mostly encoding it: JSON for the body, JSON
 * again and an HMAC for the ETag, about 110,000 instructions per request.
 * Lines rarely change, so the last body and ETag of each line are kept with a
 * copy of the line they were made from, and reused while the line is byte for
 * byte the same. Keyed by content, not by a generation number: whatever
 * changes app->cfg (a write, a reload after another process committed)
 * changes the bytes, and no write path has to remember to invalidate
 * anything. A false "changed" (padding bytes) only costs a recomputation. */
struct line_answer {
    bool valid;
    struct line line;
    char etag[24];
    char *body;                       /* JSON, compact, as resp_json would send it */
    size_t len;
};
static struct line_answer answers[LINE_MAX_LINES];
static pthread_mutex_t answers_lock = PTHREAD_MUTEX_INITIALIZER;

static void line_etag_compute(const struct line *l, unsigned n, char out[24])
{
    pthread_once(&etag_once, etag_key_init);
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, sizeof etag_key, etag_key);
    etag_add_line(&h, l, n);
    etag_hex(&h, out);
}

/* The answer for line n, made now unless the kept one is of these very bytes.
 * Call with answers_lock held; NULL when out of memory. */
static const struct line_answer *line_answer(const struct line *l, unsigned n)
{
    if (n < 1 || n > LINE_MAX_LINES)
        return NULL;
    struct line_answer *a = &answers[n - 1];
    /* Bytes, not line_equal(): equal bytes are equal content whatever fields
     * struct line grows; unequal padding only costs a recomputation. */
    if (a->valid && memcmp(&a->line, l, sizeof *l) == 0) // NOLINT(bugprone-suspicious-memory-comparison,cert-exp42-c,cert-flp37-c)
        return a;
    a->valid = false;
    free(a->body);
    json_t *j = line_to_json(l, n);
    a->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!a->body)
        return NULL;
    a->len = strlen(a->body);
    line_etag_compute(l, n, a->etag);
    memcpy(&a->line, l, sizeof *l);
    a->valid = true;
    return a;
}

void api_line_etag(const struct line *l, unsigned n, char out[24])
{
    pthread_mutex_lock(&answers_lock);
    const struct line_answer *a = line_answer(l, n);
    if (a)
        memcpy(out, a->etag, sizeof a->etag);
    pthread_mutex_unlock(&answers_lock);
    if (!a)
        line_etag_compute(l, n, out);
}

void api_config_etag(const struct config *c, char out[24])
{
    pthread_once(&etag_once, etag_key_init);
    struct hmac_sha256_ctx h;
    hmac_sha256_set_key(&h, sizeof etag_key, etag_key);
    for (unsigned i = 0; i < c->nlines; i++)
        etag_add_line(&h, &c->line[i], i + 1);
    etag_hex(&h, out);
}

bool api_if_match(const struct req *rq, const char *etag)
{
    const char *v = req_header(rq, "If-Match");
    if (!v)
        return true;
    size_t el = strlen(etag);
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '*') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                return true;
            return false;
        }
        bool weak = false;
        if (p[0] == 'W' && p[1] == '/') {
            weak = true;
            p += 2;
        }
        if (*p != '"')
            return false;                         /* malformed: treated as stale */
        const char *q = strchr(p + 1, '"');
        if (!q)
            return false;
        size_t tl = (size_t)(q - p) + 1;
        if (!weak && tl == el && memcmp(p, etag, el) == 0)
            return true;                          /* strong comparison (RFC 9110 13.1.1) */
        p = q + 1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return false;
        if (*p != ',')
            return false;
        p++;
    }
}

/* ---- reads ---- */

void lines_get_all(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    json_t *arr = json_array();
    pthread_mutex_lock(&app->lock);
    for (unsigned i = 0; arr && i < app->cfg->nlines; i++)
        json_array_append_new(arr, line_to_json(&app->cfg->line[i], i + 1));
    pthread_mutex_unlock(&app->lock);
    json_t *out = arr ? json_pack("{s:o}", "lines", arr) : NULL;
    if (!out) {
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_json(rs, 200, out);
}

static void not_found(struct resp *rs, const struct app *app)
{
    char d[96];
    snprintf(d, sizeof d, "no such line: lines are numbered 1 to %u", app->nlines);
    api_problem(rs, 404, NULL, d);
}

void lines_get(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    unsigned n = api_line_number(rq, app);
    if (!n) {
        not_found(rs, app);
        return;
    }
    char etag[24];
    char *body = NULL;
    size_t len = 0;
    pthread_mutex_lock(&app->lock);
    pthread_mutex_lock(&answers_lock);
    const struct line_answer *a = line_answer(&app->cfg->line[n - 1], n);
    if (a) {
        body = malloc(a->len);
        if (body)
            memcpy(body, a->body, a->len);
        len = a->len;
        memcpy(etag, a->etag, sizeof etag);
    }
    pthread_mutex_unlock(&answers_lock);
    pthread_mutex_unlock(&app->lock);
    if (!body) {
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_header(rs, "ETag", etag);
    resp_json_text(rs, 200, body, len);
}

/* ---- writes ---- */

enum write_kind { W_PUT, W_PATCH, W_DELETE };

struct line_write {
    unsigned n;
    bool if_match;
    enum api_dns_policy policy;
    struct line old;               /* the line the body was read against */
    struct line next;
    struct diag_list errs, warns;
    struct api_checks checks;
};

static void line_write_free(void *p)
{
    struct line_write *x = p;
    api_checks_free(&x->checks);
    explicit_bzero(x, sizeof *x);     /* passwords */
    free(x);
}

static void write_finish(struct req *rq, struct resp *rs, struct line_write *x)
{
    struct app *app = req_app(rq);
    if (api_checks_refused(rs, &x->checks, x->policy, &x->errs, &x->warns))
        return;
    struct config *next = malloc(sizeof *next);
    if (!next) {
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    unsigned diff = 0;
    int rc = 0;
    pthread_mutex_lock(&app->lock);
    const struct line *cur = &app->cfg->line[x->n - 1];
    if (!line_equal(cur, &x->old, false) || strcmp(cur->password, x->old.password) != 0) {
        /* someone changed this line while its servers were checked */
        pthread_mutex_unlock(&app->lock);
        free(next);
        if (x->if_match)
            api_problem(rs, 412, NULL, "the line changed meanwhile (If-Match no longer matches)");
        else
            api_problem(rs, 409, NULL, "the line changed while this request was checked; retry");
        return;
    }
    *next = *app->cfg;
    next->line[x->n - 1] = x->next;
    api_apply_resolved(next, app->cfg, &x->checks);
    rc = api_commit(app, rs, next, &diff);
    x->next = next->line[x->n - 1];
    pthread_mutex_unlock(&app->lock);
    explicit_bzero(next, sizeof *next);
    free(next);
    if (rc < 0)
        return;
    char etag[24];
    api_line_etag(&x->next, x->n, etag);
    api_write_answer(rs, "line", line_to_json(&x->next, x->n), diff, false, &x->checks,
                     &x->warns, etag);
}

static void line_write(struct req *rq, struct resp *rs, enum write_kind kind)
{
    struct line_write *x = req_ctx(rq);
    if (x) {                          /* resumed after the DNS checks */
        write_finish(rq, rs, x);
        return;
    }
    struct app *app = req_app(rq);
    unsigned n = api_line_number(rq, app);
    if (!n) {
        not_found(rs, app);
        return;
    }
    enum api_dns_policy policy = API_DNS_SKIP;
    if (api_dns_policy(rq, rs, &policy) < 0)
        return;
    if (kind == W_DELETE)
        policy = API_DNS_SKIP;         /* a reset has no server to check */
    json_t *in = NULL;
    if (kind != W_DELETE) {
        in = api_body_json(rq, rs);
        if (!in)
            return;
    }
    x = calloc(1, sizeof *x);
    if (!x) {
        json_decref(in);
        api_problem(rs, 500, NULL, "out of memory");
        return;
    }
    api_checks_init(&x->checks);
    req_set_ctx(rq, x, line_write_free);
    x->n = n;
    x->policy = policy;
    diag_init(&x->errs);
    diag_init(&x->warns);
    pthread_mutex_lock(&app->lock);
    x->old = app->cfg->line[n - 1];
    pthread_mutex_unlock(&app->lock);

    char etag[24];
    api_line_etag(&x->old, n, etag);
    x->if_match = req_header(rq, "If-Match") != NULL;
    if (!api_if_match(rq, etag)) {
        json_decref(in);
        api_problem(rs, 412, NULL, "If-Match does not match the line's current ETag");
        return;
    }

    if (kind == W_DELETE) {
        line_defaults(&x->next);
    } else {
        json_t *body = in;
        if (kind == W_PATCH) {
            json_t *cur = line_to_json(&x->old, n);
            body = cur ? json_merge_patch(cur, in) : NULL;
            json_decref(cur);
            json_decref(in);
            if (!body) {
                api_problem(rs, 500, NULL, "out of memory");
                return;
            }
        }
        int rc = line_from_json(body, n, &x->old, &x->next, "", &x->errs);
        json_decref(body);
        if (rc < 0 && x->errs.n == 0)
            diag_add(&x->errs, "", "invalid", "the line is not valid");
        if (x->errs.n == 0)
            check_line(&x->next, "", &x->errs, &x->warns);
        if (x->errs.n || x->errs.dropped) {
            api_validation_failed_w(rs, &x->errs, &x->warns, NULL);
            return;
        }
    }
    if (kind != W_DELETE)
        api_checks_add_line(&x->checks, &x->next, n - 1, "");
    if (policy == API_DNS_SKIP)
        api_checks_skip(&x->checks);
    else if (api_checks_start(&x->checks, rq, app->dns))
        return;
    write_finish(rq, rs, x);
}

void lines_put(struct req *rq, struct resp *rs)
{
    line_write(rq, rs, W_PUT);
}

void lines_patch(struct req *rq, struct resp *rs)
{
    line_write(rq, rs, W_PATCH);
}

void lines_delete(struct req *rq, struct resp *rs)
{
    line_write(rq, rs, W_DELETE);
}

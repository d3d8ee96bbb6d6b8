/* lines: GET /lines, GET/PUT/PATCH/DELETE /lines/{n}, ETags and JSON merge patch. */
#include "api.h"

#include <errno.h>
#include <stddef.h>
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
/* The bytes compared: all of struct line but `resolved`. */
#define RES_OFF offsetof(struct line, resolved)
#define RES_END (RES_OFF + sizeof(((struct line *)0)->resolved))
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
     * struct line grows; unequal padding only costs a recomputation. All but
     * `resolved` (5 of its 7 KiB: fewer cache lines per GET): the last DNS
     * answers are in neither the JSON nor the ETag (test_json.c:
     * test_json_ignores_resolved). */
    const char *ka = (const char *)&a->line, *kl = (const char *)l;
    if (a->valid && memcmp(ka, kl, RES_OFF) == 0 &&
        memcmp(ka + RES_END, kl + RES_END, sizeof *l - RES_END) == 0)
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
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_json(rs, 200, out);
}

void lines_get(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    unsigned n = api_line_or_404(rq, rs);
    if (!n)
        return;
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
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    resp_header(rs, "ETag", etag);
    resp_json_text(rs, 200, body, len);
}

/* ---- writes (the pipeline: write.c) ---- */

enum write_kind { W_PUT, W_PATCH, W_DELETE };

static void line_write(struct req *rq, struct resp *rs, enum write_kind kind)
{
    struct api_write *x = req_ctx(rq);
    if (x) {                          /* resumed after the DNS checks */
        api_write_finish(rq, rs, x);
        return;
    }
    unsigned n = api_line_or_404(rq, rs);
    if (!n)
        return;
    enum api_dns_policy policy = API_DNS_SKIP;
    if (api_dns_policy(rq, rs, &policy) < 0)
        return;
    if (kind == W_DELETE)
        policy = API_DNS_SKIP;         /* a reset has no server to check */
    json_t *in = NULL;
    size_t body_len = 0;
    req_body(rq, &body_len);
    if (kind != W_DELETE || body_len) {
        in = api_body_json(rq, rs);
        if (!in)
            return;
    }
    if (kind == W_DELETE && in) {
        /* A reset takes no fields: a body such as {"proxy": null}, meant to
         * clear one field, would otherwise be ignored and the whole line
         * reset (API.md section 3: nothing that could change what gets
         * written is ignored). An empty object asks for nothing. */
        size_t members = json_object_size(in);
        json_decref(in);
        in = NULL;
        if (members) {
            resp_problem(rs, 400, "Body not allowed",
                         "DELETE /lines/{n} takes no body: it resets every field of the line "
                         "to its factory default; to change some fields use PATCH; nothing "
                         "was done.");
            return;
        }
    }
    x = api_write_begin(rq, rs, n, policy, false);
    if (!x) {
        json_decref(in);
        return;
    }
    const struct line *old = &x->current.line[n - 1];
    struct line *next = &x->next.line[n - 1];
    int rc = 0;
    if (kind == W_DELETE) {
        line_defaults(next);
        x->source = PROV_DEFAULT;      /* a reset: the values are the factory's again */
    } else {
        json_t *body = in;
        int patch_rc = 0;
        if (kind == W_PATCH) {
            /* the merge drops a null it has nowhere to apply: a misspelt key
             * ("lable": null) is judged before it goes */
            patch_rc = line_patch_check(in, &x->errs);
            /* GET has no "password" for null to remove, yet null in a merge
             * patch means "back to the default": no password, as "" does */
            bool clear_password = json_is_null(json_object_get(in, "password"));
            json_t *cur = line_to_json(old, n);
            body = cur ? json_merge_patch(cur, in) : NULL;
            json_decref(cur);
            json_decref(in);
            if (body && clear_password &&
                json_object_set_new(body, "password", json_string("")) != 0) {
                json_decref(body);
                body = NULL;
            }
            if (!body) {
                resp_problem(rs, 500, NULL, "out of memory");
                return;
            }
        }
        rc = line_from_json(body, n, old, next, "", &x->errs);
        if (patch_rc < 0)
            rc = patch_rc;
        json_decref(body);
        if (next->locked != old->locked)
            diag_add(&x->errs, "locked", "read_only",
                     "'locked' is read-only here: only PUT /api/v1/config (provisioning) "
                     "locks and unlocks fields");
    }
    api_write_run(rq, rs, x, rc);
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

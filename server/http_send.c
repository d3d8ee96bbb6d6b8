/* http_send: a response on the wire: the security headers every answer
 * gets, and whole answers kept for reuse. */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "guard.h"

static const char CSP[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

void http_security_headers(struct http *h, struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    if (h->tls) MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
}

/* ---- answers kept whole ----
 * A GET answered 200 with exactly the bytes of a recent answer (a line
 * nobody changed) reuses that libmicrohttpd response, security headers
 * included, instead of building it again (8 headers: 6,000 instructions):
 * libmicrohttpd queues one response on many connections, counting
 * references. Compared byte for byte (status, type, every header, body), so
 * a kept answer is never a stale one. Used by libmicrohttpd's one thread only. */
static bool flatten_headers(const struct resp *rs, char *buf, size_t n, size_t *len)
{
    size_t used = 0;
    for (unsigned i = 0; i < rs->nhdr; i++) {
        size_t a = strlen(rs->hname[i]) + 1, b = strlen(rs->hvalue[i]) + 1;
        if (used + a + b > n) return false;
        memcpy(buf + used, rs->hname[i], a);
        memcpy(buf + used + a, rs->hvalue[i], b);
        used += a + b;
    }
    *len = used;
    return true;
}

static struct kept *kept_find(struct http *h, const struct resp *rs, const char *hb, size_t hl)
{
    for (unsigned i = 0; i < HTTP_KEPT; i++) {
        struct kept *k = &h->kept[i];
        if (k->r && k->len == rs->len && k->hlen == hl && k->status == rs->status &&
            k->ctype == rs->ctype && memcmp(k->hdrs, hb, hl) == 0 &&
            memcmp(k->body, rs->body, rs->len) == 0)
            return k;
    }
    return NULL;
}

void http_kept_drop(struct kept *k)
{
    if (k->r) MHD_destroy_response(k->r);
    free(k->hdrs);
    memset(k, 0, sizeof *k);
}

/* Keeps r (and our reference to it) in the next slot; false when it cannot. */
static bool kept_store(struct http *h, struct MHD_Response *r, const struct resp *rs,
                       const char *body, const char *hb, size_t hl)
{
    char *copy = malloc(hl ? hl : 1);
    if (!copy) return false;
    if (hl) memcpy(copy, hb, hl);
    struct kept *k = &h->kept[h->kept_next];
    h->kept_next = (h->kept_next + 1) % HTTP_KEPT;
    http_kept_drop(k);
    *k = (struct kept){.r = r, .status = rs->status, .ctype = rs->ctype, .hdrs = copy,
                       .hlen = hl, .body = body, .len = rs->len};
    return true;
}

enum MHD_Result http_send_resp(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    rq->phase = P_DONE;
    if (!rs->set) {
        /* A handler that neither answered nor suspended is a bug: say so, safely. */
        fprintf(stderr, "sipcfgd: %s %s: handler gave no answer\n", rq->method, rq->path);
        resp_problem(rs, 500, NULL, "The request was not answered.");
    }
    char hb[1024];
    size_t hl = 0;
    bool keep = rs->status == 200 && rs->body && !strcmp(rq->method, "GET") &&
                flatten_headers(rs, hb, sizeof hb, &hl);
    guard_answer_queued(rq->c);        /* an early answer ends the request too */
    if (keep) {
        struct kept *k = kept_find(h, rs, hb, hl);
        if (k) {
            enum MHD_Result ret = MHD_queue_response(rq->c, rs->status, k->r);
            http_resp_reset(rs);
            return ret;
        }
    }
    struct MHD_Response *r;
    const char *body = rs->body;
    if (rs->body) {
        r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
        if (r) rs->body = NULL;        /* MHD frees it (default jansson allocator) */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        http_resp_reset(rs);
        return MHD_NO;
    }
    http_security_headers(h, r);
    if (rs->ctype) MHD_add_response_header(r, "Content-Type", rs->ctype);
    for (unsigned i = 0; i < rs->nhdr; i++) MHD_add_response_header(r, rs->hname[i], rs->hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(rq->c, rs->status, r);
    if (!keep || !kept_store(h, r, rs, body, hb, hl)) MHD_destroy_response(r);
    http_resp_reset(rs);
    return ret;
}

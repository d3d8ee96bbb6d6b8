/* http: libmicrohttpd 0.9.75 under the API. One internal epoll thread serves
 * every connection; DNS work suspends a request instead of blocking it.
 *
 * Every request goes through the same gate, in this order:
 *   1. Host check (DNS rebinding): a name that is not localhost and not
 *      --allow-host gets 421, the page included; HTTP/1.1 without Host gets 400.
 *   2. Paths not under /api/ are the page: the compiled-in table only, by the
 *      raw (undecoded) path, GET/HEAD only.
 *   3. /api/...: authentication first (all but POST /api/v1/session), so an
 *      unauthenticated client learns nothing about which paths exist; then the
 *      raw path must be canonical ([A-Za-z0-9/_.-], no "//", "/./", "/../"),
 *      else 404; then the route table (404 / 405 with Allow).
 *   4. A body must be JSON (415), at most HTTP_BODY_MAX bytes (413).
 *   5. The handler; it may suspend and is called again after req_resume.
 * Every response, ours or a handler's, gets the security headers. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "auth.h"
#include "guard.h"
#include "www_assets.h"

/* Connection limits and request deadlines are server/guard.c's (a
 * provisioning script may open dozens of parallel connections from one
 * address; GUARD_CONN_HARD x 8 KiB bounds libmicrohttpd's pools at 2.5 MiB).
 * The idle timeout covers a client that does not read its answer.
 * The 8 KiB pool holds a request line and headers of about 6 KB (431 beyond:
 * a browser's are under 2 KB) plus our answer's headers; bodies do not live
 * there (they are copied out as they arrive, up to HTTP_BODY_MAX).
 * libmicrohttpd zeroes the whole pool for every request, so its size is also
 * time: 32 KiB cost 49,000 instructions per request. */
#define HTTP_TIMEOUT_S 15u
#define HTTP_CONN_MEMORY ((size_t)8 * 1024)
#define HTTP_DISCARD_MAX ((size_t)256 * 1024)  /* read past the cap before we hang up */
#define HTTP_MAX_HEADERS 16
#define HTTP_PATH_MAX 1024
#define HTTP_KEPT 8                     /* whole answers kept for reuse (send_resp) */              /* longer paths are "" (404) */
#define HTTP_QUERY_MAX 4                /* more than any route defines */
#define HTTP_WWW_FILE_MAX ((size_t)1 << 20)

static const char CSP[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct http {
    struct app *app;                  /* api/'s, handed on to handlers */
    const struct http_route *routes;
    struct auth *auth;
    void (*before_api)(struct app *app);
    struct MHD_Daemon *d;
    struct guard *guard;
    bool tls;
    char url[96];
    char www_dir[512];
    bool use_www_dir;
    const char *const *allow_hosts;
    size_t n_allow_hosts;
    pthread_mutex_t handler_lock;       /* held while a handler runs; guards stopping */
    bool stopping;
    pthread_mutex_t susp_lock;          /* guards the suspended list and req->suspended */
    struct req *suspended;
    unsigned waiting;                   /* requests that suspended and are not finished yet */
    struct kept {                       /* see send_resp; libmicrohttpd's thread only */
        struct MHD_Response *r;         /* our reference */
        unsigned status;
        const char *ctype;
        char *hdrs;                     /* "name\0value\0..." as handed to libmicrohttpd */
        size_t hlen;
        const char *body;               /* r's buffer */
        size_t len;
    } kept[HTTP_KEPT];
    unsigned kept_next;
};

enum phase { P_NEW = 0, P_BODY, P_SUSPENDED, P_DONE };

struct req {
    struct http *h;
    struct MHD_Connection *c;
    enum phase phase;
    char *raw;                          /* the request target as sent, query included */
    const char *path;                   /* raw path (before '?'), "" when too long; in raw's block */
    const char *method;
    const char *version;
    const char *api_path;               /* below /api/v1, or NULL */
    const struct http_route *route;
    struct { char name[16]; char value[64]; } q[HTTP_QUERY_MAX];   /* checked, decoded */
    unsigned nq;
    char *body;
    size_t body_len, body_cap, discarded;
    bool too_large;
    bool gated;                         /* the gate has run */
    char ip[INET6_ADDRSTRLEN];
    bool by_session;
    char sid[SESSION_ID_HEX + 1];
    void *ctx;
    void (*ctx_free)(void *);
    bool suspended;
    bool suspended_now;                 /* req_suspend ran during this handler call */
    bool counted;                       /* counted in http.waiting */
    struct req *next_susp, *prev_susp;
};

/* on_uri's comment: under 1 KiB, a per-request calloc does not make malloc
 * consolidate its free lists. */
_Static_assert(sizeof(struct req) < 1000, "struct req grew past malloc's small bins");

struct resp {
    bool set;
    unsigned status;
    char *body;                         /* malloc'ed (json_dumps) */
    size_t len;
    const char *ctype;
    unsigned nhdr;
    char *hname[HTTP_MAX_HEADERS], *hvalue[HTTP_MAX_HEADERS];
};

/* ---- req accessors (http.h) ---- */

const char *req_method(const struct req *rq) { return rq->method; }
const char *req_path(const struct req *rq) { return rq->api_path ? rq->api_path : ""; }

const char *req_query(const struct req *rq, const char *name)
{
    /* Only what query_check parsed and the route defines ("?dry_run" without
     * "=" is present with the value "", never "absent"). */
    for (unsigned i = 0; i < rq->nq; i++)
        if (!strcmp(rq->q[i].name, name)) return rq->q[i].value;
    return NULL;
}

const char *req_header(const struct req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->c, MHD_HEADER_KIND, name);
}

const char *req_body(const struct req *rq, size_t *len)
{
    if (len) *len = rq->body_len;
    return rq->body ? rq->body : "";
}

/* The address as text, made on first use: most requests (a session's GET)
 * never ask, and inet_ntop cost 1,700 instructions per request. */
const char *req_client_ip(const struct req *rq)
{
    struct req *mrq = (struct req *)rq;     /* a cache inside the request, not a change of it */
    if (mrq->ip[0] || !mrq->c) return mrq->ip;
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mrq->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) {
            inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, mrq->ip, sizeof mrq->ip);
        } else if (sa->sa_family == AF_INET6) {
            const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
            if (IN6_IS_ADDR_V4MAPPED(a6)) inet_ntop(AF_INET, &a6->s6_addr[12], mrq->ip, sizeof mrq->ip);
            else inet_ntop(AF_INET6, a6, mrq->ip, sizeof mrq->ip);
        }
    }
    return mrq->ip;
}
bool req_is_tls(const struct req *rq) { return rq->h->tls; }
bool req_by_session(const struct req *rq) { return rq->by_session; }
const char *req_session_id(const struct req *rq) { return rq->by_session ? rq->sid : ""; }
struct app *req_app(const struct req *rq) { return rq->h->app; }
void *req_ctx(const struct req *rq) { return rq->ctx; }

void req_set_ctx(struct req *rq, void *ctx, void (*free_fn)(void *))
{
    if (rq->ctx && rq->ctx_free && rq->ctx != ctx) rq->ctx_free(rq->ctx);
    rq->ctx = ctx;
    rq->ctx_free = free_fn;
}

void req_suspend(struct req *rq)
{
    struct http *h = rq->h;
    pthread_mutex_lock(&h->susp_lock);
    if (!rq->suspended) {
        MHD_suspend_connection(rq->c);
        rq->suspended = true;
        rq->suspended_now = true;
        rq->phase = P_SUSPENDED;
        if (!rq->counted) {
            rq->counted = true;
            h->waiting++;
        }
        rq->prev_susp = NULL;
        rq->next_susp = h->suspended;
        if (h->suspended) h->suspended->prev_susp = rq;
        h->suspended = rq;
    }
    pthread_mutex_unlock(&h->susp_lock);
}

static void unlink_suspended(struct http *h, struct req *rq)
{
    if (rq->prev_susp) rq->prev_susp->next_susp = rq->next_susp;
    else h->suspended = rq->next_susp;
    if (rq->next_susp) rq->next_susp->prev_susp = rq->prev_susp;
    rq->next_susp = rq->prev_susp = NULL;
}

void req_resume(struct req *rq)
{
    struct http *h = rq->h;
    struct MHD_Connection *c = NULL;
    pthread_mutex_lock(&h->susp_lock);
    if (rq->suspended) {
        rq->suspended = false;
        unlink_suspended(h, rq);
        c = rq->c;
    }
    pthread_mutex_unlock(&h->susp_lock);
    /* Outside our lock (libmicrohttpd takes its own; no lock-order questions).
     * The request cannot end before this resume, and the MHD thread runs the
     * handler again only after it: rq may be gone right after, so it is not
     * touched again. */
    if (c) MHD_resume_connection(c);
}

/* ---- for auth.c ---- */

struct MHD_Connection *http_req_connection(const struct req *rq) { return rq->c; }

void http_req_set_auth(struct req *rq, bool by_session, const char *sid)
{
    rq->by_session = by_session;
    /* A copy per request: memcpy, not snprintf (a tenth of the cost). */
    size_t n = by_session && sid ? strnlen(sid, sizeof rq->sid - 1) : 0;
    if (n) memcpy(rq->sid, sid, n);
    rq->sid[n] = '\0';
}

const char *http_req_target(const struct req *rq) { return rq->raw ? rq->raw : ""; }

/* ---- responses (http.h) ---- */

static void resp_reset(struct resp *rs)
{
    free(rs->body);
    for (unsigned i = 0; i < rs->nhdr; i++) {
        free(rs->hname[i]);
        free(rs->hvalue[i]);
    }
    memset(rs, 0, sizeof *rs);
}

static void resp_body(struct resp *rs, unsigned status, json_t *body, const char *ctype)
{
    /* A second answer replaces the first (headers stay). */
    free(rs->body);
    rs->body = NULL;
    rs->len = 0;
    rs->set = true;
    rs->status = status;
    rs->ctype = NULL;
    if (!body) return;
    rs->body = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!rs->body) {
        rs->status = 500;
        return;
    }
    rs->len = strlen(rs->body);
    rs->ctype = ctype;
}

void resp_json(struct resp *rs, unsigned status, json_t *body)
{
    resp_body(rs, status, body, "application/json");
}

void resp_problem_json(struct resp *rs, unsigned status, json_t *problem)
{
    resp_body(rs, status, problem, "application/problem+json");
}

void resp_json_text(struct resp *rs, unsigned status, char *body, size_t len)
{
    resp_body(rs, status, NULL, NULL);
    rs->body = body;
    rs->len = len;
    rs->ctype = "application/json";
}

void resp_empty(struct resp *rs, unsigned status)
{
    resp_body(rs, status, NULL, NULL);
}

void resp_header(struct resp *rs, const char *name, const char *value)
{
    if (!name || !value || rs->nhdr >= HTTP_MAX_HEADERS) return;
    /* Header injection: a value with CR/LF never leaves the daemon. */
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    rs->hname[rs->nhdr] = n;
    rs->hvalue[rs->nhdr] = v;
    rs->nhdr++;
}

static void problem(struct resp *rs, unsigned status, const char *detail)
{
    resp_problem(rs, status, NULL, detail);
}

static void add_security_headers(struct http *h, struct MHD_Response *r)
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

static void kept_drop(struct kept *k)
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
    kept_drop(k);
    *k = (struct kept){.r = r, .status = rs->status, .ctype = rs->ctype, .hdrs = copy,
                       .hlen = hl, .body = body, .len = rs->len};
    return true;
}

static enum MHD_Result send_resp(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    rq->phase = P_DONE;
    if (!rs->set) {
        /* A handler that neither answered nor suspended is a bug: say so, safely. */
        fprintf(stderr, "sipcfgd: %s %s: handler gave no answer\n", rq->method, rq->path);
        problem(rs, 500, "The request was not answered.");
    }
    char hb[1024];
    size_t hl = 0;
    bool keep = rs->status == 200 && rs->body && !strcmp(rq->method, "GET") &&
                flatten_headers(rs, hb, sizeof hb, &hl);
    guard_request_received(rq->c);     /* an early answer ends the request too */
    if (keep) {
        struct kept *k = kept_find(h, rs, hb, hl);
        if (k) {
            enum MHD_Result ret = MHD_queue_response(rq->c, rs->status, k->r);
            resp_reset(rs);
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
        resp_reset(rs);
        return MHD_NO;
    }
    add_security_headers(h, r);
    if (rs->ctype) MHD_add_response_header(r, "Content-Type", rs->ctype);
    for (unsigned i = 0; i < rs->nhdr; i++) MHD_add_response_header(r, rs->hname[i], rs->hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(rq->c, rs->status, r);
    if (!keep || !kept_store(h, r, rs, body, hb, hl)) MHD_destroy_response(r);
    resp_reset(rs);
    return ret;
}

/* ---- following flash ----
 *
 * The CLI (sipcfg import, passwd) may commit to the image while the daemon
 * runs: before any API request is judged, api/'s hook (api_follow_flash)
 * reloads what flash holds when another process committed, so the request
 * is judged, authentication included, against what flash says. */
static void follow_flash(struct http *h)
{
    if (h->before_api)
        h->before_api(h->app);
}

/* ---- the gate ---- */

static bool host_allowed(struct http *h, const char *host, bool *bad)
{
    *bad = false;
    char name[256];
    size_t len = strlen(host);
    if (len == 0 || len >= sizeof name) {
        *bad = true;
        return false;
    }
    const char *port = NULL;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end) { *bad = true; return false; }
        size_t n = (size_t)(end - host - 1);
        memcpy(name, host + 1, n);
        name[n] = '\0';
        if (end[1] == ':') port = end + 2;
        else if (end[1]) { *bad = true; return false; }
        struct in6_addr a6;
        if (inet_pton(AF_INET6, name, &a6) != 1) { *bad = true; return false; }
    } else {
        const char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':')) { *bad = true; return false; }
        size_t n = colon ? (size_t)(colon - host) : len;
        memcpy(name, host, n);
        name[n] = '\0';
        if (colon) port = colon + 1;
    }
    if (port) {
        size_t pl = strlen(port);
        if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl || strtoul(port, NULL, 10) > 65535) {
            *bad = true;
            return false;
        }
    }
    if (host[0] == '[') return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, name, &a4) == 1) return true;
    if (!strcasecmp(name, "localhost")) return true;
    for (size_t i = 0; i < h->n_allow_hosts; i++)
        if (!strcasecmp(name, h->allow_hosts[i])) return true;
    return false;
}

/* A canonical API path: [A-Za-z0-9/_.-] only, no empty, "." or ".." segment. */
static bool path_canonical(const char *p)
{
    if (p[0] != '/') return false;
    for (const char *s = p; *s; s++) {
        char ch = *s;
        bool okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '/' || ch == '_' || ch == '.' || ch == '-';
        if (!okc) return false;
        if (ch == '/') {
            const char *seg = s + 1;
            size_t n = strcspn(seg, "/");
            if (n == 0 && seg[0] == '/') return false;                 /* "//" */
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;                                          /* "/./", "/../" */
        }
    }
    return true;
}

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* A cross-site write never passes, whatever authenticated it (defence in
 * depth besides SameSite, CSRF tokens and the JSON-only rule). */
static bool cross_site(struct req *rq)
{
    const char *site = req_header(rq, "Sec-Fetch-Site");
    if (site && !strcasecmp(site, "cross-site")) return true;
    const char *origin = req_header(rq, "Origin");
    if (!origin) return false;
    const char *host = req_header(rq, "Host");
    if (!host) return true;
    char want[300];
    snprintf(want, sizeof want, "%s://%s", rq->h->tls ? "https" : "http", host);
    return strcasecmp(origin, want) != 0;
}

static bool json_content_type(const char *ct, bool merge_patch_ok)
{
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    bool type_ok = (n == 16 && !strncasecmp(ct, "application/json", n)) ||
                   (merge_patch_ok && n == 28 && !strncasecmp(ct, "application/merge-patch+json", n));
    if (!type_ok) return false;
    const char *p = ct + strcspn(ct, ";");
    if (!*p) return true;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    /* The only parameter we accept is the one JSON already implies. */
    if (strncasecmp(p, "charset=", 8) != 0) return false;
    p += 8;
    if (*p == '"') {
        return !strcasecmp(p, "\"utf-8\"");
    }
    size_t m = strcspn(p, " \t");
    if (m != 5 || strncasecmp(p, "utf-8", 5) != 0) return false;
    p += m;
    while (*p == ' ' || *p == '\t') p++;
    return *p == '\0';
}

static bool has_body(struct req *rq)
{
    if (req_header(rq, "Transfer-Encoding")) return true;
    const char *cl = req_header(rq, "Content-Length");
    return cl && strspn(cl, "0") != strlen(cl);
}

static enum MHD_Result serve_asset(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    const char *p = rq->path;
    if (!strcmp(p, "/")) p = "/index.html";
    const struct www_asset *a = NULL;
    for (const struct www_asset *w = www_assets; w->path; w++)
        if (!strcmp(w->path, p)) { a = w; break; }
    if (!a) {
        problem(rs, 404, "No such page.");
        return send_resp(rq, rs);
    }
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        problem(rs, 405, "The page is read-only.");
        resp_header(rs, "Allow", "GET, HEAD");
        return send_resp(rq, rs);
    }
    struct MHD_Response *r = NULL;
    /* /fields.json is generated at build time (tools/gen/fields.c), never in
     * the --www directory: always from memory. */
    if (h->use_www_dir && strcmp(a->path, "/fields.json") != 0) {
        /* Development: the same names, read from disk. The name comes from
         * the table, never from the request. */
        char file[600];
        snprintf(file, sizeof file, "%s%s", h->www_dir, a->path);
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (size_t)st.st_size <= HTTP_WWW_FILE_MAX) {
            char *buf = malloc((size_t)st.st_size + 1);
            size_t got = 0;
            while (buf && got < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
                if (k <= 0) break;
                got += (size_t)k;
            }
            if (buf && got == (size_t)st.st_size)
                r = MHD_create_response_from_buffer(got, buf, MHD_RESPMEM_MUST_FREE);
            else
                free(buf);
        }
        if (fd >= 0) close(fd);
        if (!r) {
            problem(rs, 404, "No such page in --www.");
            return send_resp(rq, rs);
        }
    } else {
        r = MHD_create_response_from_buffer(a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    }
    if (!r) return MHD_NO;
    add_security_headers(h, r);
    MHD_add_response_header(r, "Content-Type", a->content_type);
    rq->phase = P_DONE;
    guard_request_received(rq->c);
    enum MHD_Result ret = MHD_queue_response(rq->c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Headers read, no body yet: everything that can be decided without the
 * body. Returns true when the request goes on to read its body and run its
 * handler; otherwise rs holds the answer. */
/* ---- query parameters (API.md section 3) ----
 * Each route accepts only the parameters it defines, each at most once, read
 * from the raw request target (names byte for byte, no decoding; values
 * percent-decoded here, a NUL or a broken escape refused). Anything else is a
 * 400 naming the parameter before the handler runs: a misspelt "dry_run" must
 * never commit, and "dns=skip&dns=require" has no first or last that wins. */

static bool route_defines(const struct http_route *route, const char *name, size_t n)
{
    const char *p = route->query;
    while (p && *p) {
        size_t len = strcspn(p, " ");
        if (len == n && !strncmp(p, name, n)) return true;
        p += len;
        while (*p == ' ') p++;
    }
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes [v, v+n) into out; false on a NUL, a broken escape or overflow. */
static bool query_decode(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            int hi = i + 2 < n ? hexval(v[i + 1]) : -1;
            int lo = hi >= 0 ? hexval(v[i + 2]) : -1;
            if (hi < 0 || lo < 0) return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap) return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static bool query_check(struct req *rq, struct resp *rs)
{
    const char *q = rq->raw ? strchr(rq->raw, '?') : NULL;
    rq->nq = 0;
    if (!q) return true;
    q++;
    char detail[192], shown[48];
    while (*q) {
        size_t seg = strcspn(q, "&");
        size_t nlen = strcspn(q, "=&");
        if (nlen > seg) nlen = seg;
        if (seg == 0) {                  /* "a=1&&b=2", a trailing "&": nothing there */
            q++;
            continue;
        }
        /* The name as sent, printable, for the answer. */
        size_t k = 0;
        for (size_t i = 0; i < nlen && k + 4 < sizeof shown; i++)
            shown[k++] = q[i] > 0x20 && q[i] < 0x7f ? q[i] : '?';
        if (nlen > k) { memcpy(shown + k, "...", 3); k += 3; }
        shown[k] = '\0';
        const char *m = rq->route->method;
        if (!route_defines(rq->route, q, nlen)) {
            if (rq->route->query)
                snprintf(detail, sizeof detail, "query parameter '%s' is not defined for %s %s "
                         "(it takes: %s); nothing was done.", shown, m, rq->route->pattern, rq->route->query);
            else
                snprintf(detail, sizeof detail, "query parameter '%s' is not defined for %s %s "
                         "(it takes none); nothing was done.", shown, m, rq->route->pattern);
            resp_bad_parameter(rs, shown, detail);
            return false;
        }
        for (unsigned i = 0; i < rq->nq; i++) {
            if (strlen(rq->q[i].name) == nlen && !strncmp(rq->q[i].name, q, nlen)) {
                snprintf(detail, sizeof detail, "query parameter '%s' is given more than once; "
                         "nothing was done.", shown);
                resp_bad_parameter(rs, shown, detail);
                return false;
            }
        }
        if (rq->nq >= HTTP_QUERY_MAX || nlen >= sizeof rq->q[0].name) {
            resp_bad_parameter(rs, shown, "too many query parameters; nothing was done.");
            return false;
        }
        memcpy(rq->q[rq->nq].name, q, nlen);
        rq->q[rq->nq].name[nlen] = '\0';
        const char *v = nlen < seg ? q + nlen + 1 : q + seg;
        size_t vlen = (size_t)(q + seg - v);
        if (!query_decode(v, vlen, rq->q[rq->nq].value, sizeof rq->q[0].value)) {
            snprintf(detail, sizeof detail, "query parameter '%s' has a malformed value "
                     "(a NUL, a broken %%-escape, or too long); nothing was done.", shown);
            resp_bad_parameter(rs, shown, detail);
            return false;
        }
        rq->nq++;
        q += seg;
        if (*q == '&') q++;
    }
    return true;
}

static bool gate(struct req *rq, struct resp *rs, bool *is_asset)
{
    struct http *h = rq->h;
    *is_asset = false;
    const char *host = req_header(rq, "Host");
    if (!host) {
        if (!rq->version || strcmp(rq->version, MHD_HTTP_VERSION_1_0) != 0) {
            problem(rs, 400, "HTTP/1.1 requires a Host header.");
            return false;
        }
    } else {
        bool bad;
        if (!host_allowed(h, host, &bad)) {
            if (bad) problem(rs, 400, "The Host header is malformed.");
            else problem(rs, 421, "This device does not answer to that host name "
                                  "(start sipcfgd with --allow-host NAME to allow it).");
            return false;
        }
    }
    if (rq->path[0] != '/') {           /* too long, or not origin-form ("*", absolute URI) */
        problem(rs, 404, "No such page.");
        return false;
    }
    if (strncmp(rq->path, "/api/", 5) != 0) {
        *is_asset = true;
        return false;
    }

    /* The API. The public route is found first only to skip authentication
     * for it; nothing is told about other paths before authentication. */
    bool canonical = path_canonical(rq->path);
    const char *sub = NULL;
    if (canonical && !strncmp(rq->path, "/api/v1/", 8)) sub = rq->path + 7;
    const struct http_route *route = NULL;
    char allow[96] = "";
    int rc = sub ? http_route_find(h->routes, rq->method, sub, &route, allow, sizeof allow) : -ENOENT;
    bool public_route = rc == 0 && route && (route->flags & HTTP_ROUTE_PUBLIC);
    follow_flash(h);
    if (!public_route && auth_request(h->auth, rq, rs) != 0) return false;
    if (!sub || rc == -ENOENT) {
        problem(rs, 404, "No such resource.");
        return false;
    }
    if (rc != 0) {
        problem(rs, 405, "This resource does not support that method.");
        resp_header(rs, "Allow", allow);
        return false;
    }
    rq->api_path = sub;
    rq->route = route;
    if (!query_check(rq, rs)) return false;
    if (unsafe_method(rq->method) && cross_site(rq)) {
        problem(rs, 403, "Cross-site requests may not change anything.");
        return false;
    }
    if (has_body(rq)) {
        if (!json_content_type(req_header(rq, "Content-Type"), !strcmp(rq->method, "PATCH"))) {
            problem(rs, 415, !strcmp(rq->method, "PATCH")
                                 ? "The body must be application/json or application/merge-patch+json."
                                 : "The body must be application/json.");
            return false;
        }
        const char *cl = req_header(rq, "Content-Length");
        if (cl) {
            errno = 0;
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > HTTP_BODY_MAX) {
                problem(rs, 413, "The body is larger than 64 KiB.");
                return false;
            }
        }
    }
    return true;
}

static void run_handler(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    rq->suspended_now = false;
    pthread_mutex_lock(&h->handler_lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->handler_lock);
        problem(rs, 503, "sipcfgd is shutting down.");
        return;
    }
    rq->route->handler(rq, rs);
    pthread_mutex_unlock(&h->handler_lock);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    struct req *rq = *con_cls;
    if (!rq) return MHD_NO;             /* no URI callback ran: cannot happen */
    struct resp rs = {0};

    if (rq->phase == P_NEW) {
        rq->c = c;
        rq->method = method;
        rq->version = version;
        rq->phase = P_BODY;
        if (guard_rejected(c)) {
            problem(&rs, 503, "Too many connections: try again in a second.");
            resp_header(&rs, "Retry-After", "1");
            resp_header(&rs, "Connection", "close");
            return send_resp(rq, &rs);
        }
        /* A request with a body is judged now, before the body is read; one
         * without is judged at its end, so that a refusal need not close a
         * keep-alive connection (MHD closes when it answers early). */
        if (!has_body(rq)) return MHD_YES;
        rq->gated = true;
        bool is_asset;
        if (!gate(rq, &rs, &is_asset)) {
            if (is_asset) return serve_asset(rq, &rs);
            return send_resp(rq, &rs);
        }
        return MHD_YES;
    }

    if (rq->phase == P_BODY) {
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            if (rq->too_large || rq->body_len + n > HTTP_BODY_MAX) {
                /* Chunked (or lying) bodies: count, drop, answer 413 at the end;
                 * a client that keeps sending long after that is cut off. */
                rq->too_large = true;
                rq->discarded += n;
                return rq->discarded > HTTP_DISCARD_MAX ? MHD_NO : MHD_YES;
            }
            if (rq->body_len + n + 1 > rq->body_cap) {
                size_t cap = rq->body_cap ? rq->body_cap : 1024;
                while (cap < rq->body_len + n + 1) cap *= 2;
                if (cap > HTTP_BODY_MAX + 1) cap = HTTP_BODY_MAX + 1;
                char *nb = realloc(rq->body, cap);
                if (!nb) return MHD_NO;
                rq->body = nb;
                rq->body_cap = cap;
            }
            memcpy(rq->body + rq->body_len, upload_data, n);
            rq->body_len += n;
            rq->body[rq->body_len] = '\0';
            return MHD_YES;
        }
        guard_request_received(c);      /* the whole request is in */
        if (rq->too_large) {
            problem(&rs, 413, "The body is larger than 64 KiB.");
            return send_resp(rq, &rs);
        }
        if (!rq->gated) {
            rq->gated = true;
            bool is_asset;
            if (!gate(rq, &rs, &is_asset)) {
                if (is_asset) return serve_asset(rq, &rs);
                return send_resp(rq, &rs);
            }
        }
        run_handler(rq, &rs);
    } else if (rq->phase == P_SUSPENDED) {
        if (*upload_data_size) {            /* cannot happen: the body was complete */
            *upload_data_size = 0;
            return MHD_YES;
        }
        run_handler(rq, &rs);
    } else {
        return MHD_YES;                     /* P_DONE: already answered */
    }

    if (rq->suspended_now && !rs.set) return MHD_YES;   /* resumes later */
    if (rq->suspended_now) {
        /* Answered and suspended in one call: the answer waits for the resume. */
        fprintf(stderr, "sipcfgd: %s %s: handler suspended and answered\n", rq->method, rq->path);
        resp_reset(&rs);
        return MHD_YES;
    }
    return send_resp(rq, &rs);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    struct http *h = cls;
    struct req *rq = calloc(1, sizeof *rq);
    if (!rq) return NULL;
    rq->h = h;
    rq->c = c;
    /* The target and its path in one block. struct req stays under 1 KiB:
     * a larger calloc per request made malloc consolidate its free lists
     * every time (1,000 instructions). */
    const char *u = uri ? uri : "";
    size_t len = strlen(u), n = strcspn(u, "?");
    rq->path = "";
    rq->raw = malloc(2 * len + 2);
    if (rq->raw) {
        memcpy(rq->raw, u, len + 1);
        if (n < HTTP_PATH_MAX) {
            char *p = rq->raw + len + 1;
            memcpy(p, u, n);
            p[n] = '\0';
            rq->path = p;
        }
    }
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    struct http *h = cls;
    struct req *rq = *con_cls;
    guard_request_done(c);              /* the next request's deadline starts now */
    if (!rq) return;
    *con_cls = NULL;
    pthread_mutex_lock(&h->susp_lock);
    if (rq->suspended) {                /* cannot happen: MHD does not end suspended requests */
        rq->suspended = false;
        unlink_suspended(h, rq);
    }
    if (rq->counted) h->waiting--;
    pthread_mutex_unlock(&h->susp_lock);
    if (rq->ctx && rq->ctx_free) rq->ctx_free(rq->ctx);
    free(rq->body);
    free(rq->raw);
    explicit_bzero(rq->sid, sizeof rq->sid);
    free(rq);
}

/* ---- libmicrohttpd's messages, rate-limited ----
 * Anyone can make libmicrohttpd log ("closed by remote side with incomplete
 * request", "reached connection limit", ...) without logging in: 95,621
 * half-sent connections once wrote 8 MB in 5 s. So its messages share a
 * token bucket (a burst of HTTP_LOG_BURST lines, then HTTP_LOG_PER_S a
 * second); what does not fit is counted and summarised as "N similar
 * messages suppressed" before the next line that is written, and at stop. */
#define HTTP_LOG_BURST 20u
#define HTTP_LOG_PER_S 2u

static struct {
    pthread_mutex_t mu;
    unsigned tokens;
    int64_t at;
    unsigned long suppressed;
    char like[96];
} log_rl = {PTHREAD_MUTEX_INITIALIZER, HTTP_LOG_BURST, 0, 0, ""};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Says how many were suppressed, if any; with log_rl.mu held. */
static void log_summary_locked(void)
{
    if (!log_rl.suppressed) return;
    fprintf(stderr, "sipcfgd: libmicrohttpd: %lu similar messages suppressed (the first: %s)\n",
            log_rl.suppressed, log_rl.like);
    log_rl.suppressed = 0;
    log_rl.like[0] = '\0';
}

__attribute__((format(printf, 2, 0))) static void on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    pthread_mutex_lock(&log_rl.mu);
    int64_t now = mono_s();
    if (now > log_rl.at) {
        int64_t add = (now - log_rl.at) * HTTP_LOG_PER_S;
        log_rl.tokens = add >= (int64_t)(HTTP_LOG_BURST - log_rl.tokens) ? HTTP_LOG_BURST
                                                                         : log_rl.tokens + (unsigned)add;
        log_rl.at = now;
    }
    if (log_rl.tokens) {
        log_rl.tokens--;
        log_summary_locked();
        fprintf(stderr, "sipcfgd: libmicrohttpd: %s\n", msg);
    } else {
        if (!log_rl.suppressed++) {
            size_t k = n < sizeof log_rl.like - 1 ? n : sizeof log_rl.like - 1;
            memcpy(log_rl.like, msg, k);
            log_rl.like[k] = '\0';
        }
    }
    pthread_mutex_unlock(&log_rl.mu);
}

static void log_flush(void)
{
    pthread_mutex_lock(&log_rl.mu);
    log_summary_locked();
    pthread_mutex_unlock(&log_rl.mu);
}

/* ---- start and stop ---- */

int http_parse_listen(const char *s, struct sockaddr_storage *out, char *host, size_t host_n,
                      unsigned *port)
{
    if (!s || !*s) return -EINVAL;
    memset(out, 0, sizeof *out);
    char addr[INET6_ADDRSTRLEN + 2];
    const char *p;
    bool v6 = s[0] == '[';
    if (v6) {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof addr) return -EINVAL;
        memcpy(addr, s + 1, (size_t)(end - s - 1));
        addr[end - s - 1] = '\0';
        p = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof addr) return -EINVAL;
        memcpy(addr, s, (size_t)(colon - s));
        addr[colon - s] = '\0';
        p = colon + 1;
    }
    size_t pl = strlen(p);
    if (pl == 0 || pl > 5 || strspn(p, "0123456789") != pl) return -EINVAL;
    unsigned long pv = strtoul(p, NULL, 10);
    if (pv > 65535) return -EINVAL;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
        if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1) return -EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)pv);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)out;
        /* "localhost:8080" is what people type; it means the IPv4 loopback. */
        if (!strcasecmp(addr, "localhost")) snprintf(addr, sizeof addr, "127.0.0.1");
        if (inet_pton(AF_INET, addr, &a->sin_addr) != 1) return -EINVAL;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)pv);
    }
    if (host) snprintf(host, host_n, "%s", addr);
    if (port) *port = (unsigned)pv;
    return 0;
}

int http_start(struct app *app, const struct http_options *o, struct http **out)
{
    struct sockaddr_storage ss;
    char host[INET6_ADDRSTRLEN + 2];
    unsigned port;
    if (http_parse_listen(o->listen ? o->listen : "127.0.0.1:8080", &ss, host, sizeof host, &port))
        return -EINVAL;
    if (!o->tls_cert_pem != !o->tls_key_pem) return -EINVAL;
    /* An embedded build may link a libmicrohttpd configured without TLS
     * (docs/BENCHMARKS.md): then --tls-cert is refused by name. */
    if (o->tls_cert_pem && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) return -ENOTSUP;
    struct http *h = calloc(1, sizeof *h);
    if (!h) return -ENOMEM;
    h->app = app;
    h->routes = o->routes;
    h->auth = o->auth;
    h->before_api = o->before_api;
    h->tls = o->tls_cert_pem != NULL;
    h->allow_hosts = o->allow_hosts;
    h->n_allow_hosts = o->n_allow_hosts;
    if (o->www_dir) {
        snprintf(h->www_dir, sizeof h->www_dir, "%s", o->www_dir);
        h->use_www_dir = true;
    }
    pthread_mutex_init(&h->handler_lock, NULL);
    pthread_mutex_init(&h->susp_lock, NULL);
    int grc = guard_new(h->tls, &h->guard);
    if (grc) {
        pthread_mutex_destroy(&h->handler_lock);
        pthread_mutex_destroy(&h->susp_lock);
        free(h);
        return grc;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) {
        /* "[::]:PORT" means every address, IPv4 included (client addresses
         * then arrive v4-mapped and are shown as plain IPv4). */
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)&ss)->sin6_addr;
        flags |= IN6_IS_ADDR_UNSPECIFIED(a6) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    if (h->tls) flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)o->tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)o->tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    if (!h->tls) tls_opts[0].option = MHD_OPTION_END;
    h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, on_log, (void *)NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, GUARD_CONN_HARD,
                            MHD_OPTION_NOTIFY_CONNECTION, guard_notify, (void *)h->guard,
                            MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)h,
                            MHD_OPTION_ARRAY, tls_opts,
                            MHD_OPTION_END);
    if (!h->d) {
        guard_free(h->guard);
        pthread_mutex_destroy(&h->handler_lock);
        pthread_mutex_destroy(&h->susp_lock);
        free(h);
        return -EADDRNOTAVAIL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    if (di && di->port) port = di->port;
    snprintf(h->url, sizeof h->url, "%s://%s%s%s:%u/", h->tls ? "https" : "http",
             ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "", port);
    *out = h;
    return 0;
}

const char *http_url(const struct http *h) { return h->url; }

void http_quiesce(struct http *h)
{
    if (!h) return;
    pthread_mutex_lock(&h->handler_lock);   /* waits for a running handler */
    h->stopping = true;
    pthread_mutex_unlock(&h->handler_lock);
}

void http_stop(struct http *h)
{
    if (!h) return;
    http_quiesce(h);
    /* Whatever is still suspended is resumed; with stopping set it gets 503. */
    for (;;) {
        struct MHD_Connection *c = NULL;
        pthread_mutex_lock(&h->susp_lock);
        struct req *rq = h->suspended;
        if (rq) {
            rq->suspended = false;
            unlink_suspended(h, rq);
            c = rq->c;
        }
        pthread_mutex_unlock(&h->susp_lock);
        if (!c) break;
        MHD_resume_connection(c);
    }
    /* Let the MHD thread send the answers of resumed requests (bounded: a
     * client that does not read its answer is not waited for long). */
    for (int i = 0; i < 200; i++) {
        pthread_mutex_lock(&h->susp_lock);
        unsigned n = h->waiting;
        pthread_mutex_unlock(&h->susp_lock);
        if (!n) break;
        usleep(10 * 1000);
    }
    guard_stop(h->guard);
    MHD_stop_daemon(h->d);
    for (unsigned i = 0; i < HTTP_KEPT; i++) kept_drop(&h->kept[i]);
    guard_free(h->guard);
    log_flush();
    pthread_mutex_destroy(&h->handler_lock);
    pthread_mutex_destroy(&h->susp_lock);
    free(h);
}

/* http: libmicrohttpd 0.9.75 under the API. One thread of ours (loop_main)
 * drives libmicrohttpd's epoll and serves every connection; DNS work
 * suspends a request instead of blocking it.
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
 * Every response, ours or a handler's, gets the security headers.
 * The gate is http_gate.c, the page's files http_assets.c, the response on
 * the wire http_send.c, libmicrohttpd's messages http_log.c. */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "auth.h"
#include "guard.h"
#include "www_assets.h"

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

/* Wakes loop_main (a resume, the stop). */
static void http_wake(struct http *h)
{
    uint64_t one = 1;
    ssize_t n;
    do n = write(h->wake_fd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the counter is full, so the loop is awake anyway */
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
    if (c) {
        MHD_resume_connection(c);
        http_wake(h);
    }
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

void http_resp_reset(struct resp *rs)
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

static void run_handler(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    rq->suspended_now = false;
    pthread_mutex_lock(&h->handler_lock);
    if (h->stopping) {
        pthread_mutex_unlock(&h->handler_lock);
        resp_problem(rs, 503, NULL, "sipcfgd is shutting down.");
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
        if (!http_framing_ok(rq, &rs, version)) {
            resp_header(&rs, "Connection", "close");
            return http_send_resp(rq, &rs);
        }
        if (guard_rejected(c)) {
            resp_problem(&rs, 503, NULL, "Too many connections: try again in a second.");
            resp_header(&rs, "Retry-After", "1");
            resp_header(&rs, "Connection", "close");
            return http_send_resp(rq, &rs);
        }
        /* A request with a body is judged now, before the body is read; one
         * without is judged at its end, so that a refusal need not close a
         * keep-alive connection (MHD closes when it answers early). */
        if (!http_has_body(rq)) return MHD_YES;
        rq->gated = true;
        bool is_asset;
        if (!http_gate(rq, &rs, &is_asset)) {
            if (is_asset) return http_serve_asset(rq, &rs);
            return http_send_resp(rq, &rs);
        }
        return MHD_YES;
    }

    if (rq->phase == P_BODY) {
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            if (rq->too_large || rq->body_len + n > HTTP_BODY_MAX) {
                /* Chunked (or lying) bodies: count, drop, answer 413 at the
                 * end (libmicrohttpd cannot answer in the middle of a body);
                 * one that never ends meets the guard's deadline. */
                rq->too_large = true;
                rq->discarded += n;
                return MHD_YES;
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
            resp_problem(&rs, 413, NULL, "The body is larger than 64 KiB.");
            return http_send_resp(rq, &rs);
        }
        if (!rq->gated) {
            rq->gated = true;
            bool is_asset;
            if (!http_gate(rq, &rs, &is_asset)) {
                if (is_asset) return http_serve_asset(rq, &rs);
                return http_send_resp(rq, &rs);
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
        http_resp_reset(&rs);
        return MHD_YES;
    }
    return http_send_resp(rq, &rs);
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
    /* Called before libmicrohttpd cuts the query off or decodes: the target
     * still ends at the space before the version (http_framing_ok). */
    rq->uri_at = uri;
    rq->uri_len = len;
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

static unsigned http_connections(struct http *h)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i ? i->num_connections : 0;
}

/* libmicrohttpd's epoll_wait takes at most this many events at a time
 * (daemon.c MAX_EVENTS, 0.9.75 to 1.0.1); when a call fills them it calls
 * again, with the same timeout, before serving any (see loop_main). */
#define HTTP_MHD_EPOLL_EVENTS 128u

/* libmicrohttpd's thread: its passes, and the guard's deadlines between
 * them (guard.h: so the guard never writes while libmicrohttpd is inside a
 * send). What 0.9.75's internal epoll thread does, plus guard_tick and a
 * wake-up for resumes and the stop (wake_fd, in libmicrohttpd's epoll set:
 * http_start).
 * A pass waits in one of two ways. Below HTTP_MHD_EPOLL_EVENTS - 2
 * connections (with the listening socket and wake_fd, its epoll set cannot
 * fill one epoll_wait), MHD_run_wait blocks in libmicrohttpd's own
 * epoll_wait: one system call per pass, as its internal thread makes.
 * With more, a call that filled its events would wait again, for the whole
 * timeout, while those requests (already taken from the edge-triggered set)
 * wait unserved: 128 busy keep-alive clients stalled for up to the next
 * deadline (seconds) again and again (attack.sh "busy").
 * So there the loop polls the epoll fd (poll takes no event) and runs a
 * pass that does not block, one system call more per pass, shared by the
 * many requests a pass then serves. */
static void *loop_main(void *arg)
{
    struct http *h = arg;
    int wait = 0;
    for (;;) {
        unsigned before = http_connections(h);
        if (before + 2 < HTTP_MHD_EPOLL_EVENTS) {
            (void)MHD_run_wait(h->d, wait);
        } else {
            MHD_UNSIGNED_LONG_LONG mt;
            if (MHD_get_timeout(h->d, &mt) == MHD_YES && (wait < 0 || mt < (MHD_UNSIGNED_LONG_LONG)wait))
                wait = mt > INT_MAX ? INT_MAX : (int)mt;
            struct pollfd p = {.fd = h->epoll_fd, .events = POLLIN};
            (void)poll(&p, 1, wait);
            (void)MHD_run(h->d);
        }
        wait = guard_tick(h->guard);
        if (h->loop_stop) break;
        /* At its limit libmicrohttpd takes the listening socket out of its
         * epoll set and puts it back only at the start of a pass: when this
         * pass made room, run the next one now, or newcomers would wait for
         * some other event (its internal thread loops at once too). */
        if (before >= GUARD_CONN_HARD && http_connections(h) < GUARD_CONN_HARD) wait = 0;
    }
    return NULL;
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
    h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (h->wake_fd < 0) {
        int e = -errno;
        guard_free(h->guard);
        pthread_mutex_destroy(&h->handler_lock);
        pthread_mutex_destroy(&h->susp_lock);
        free(h);
        return e;
    }
    /* No internal thread: loop_main drives libmicrohttpd (http_conn.h). */
    unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
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
                            MHD_OPTION_EXTERNAL_LOGGER, http_on_log, (void *)NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, GUARD_CONN_HARD,
                            MHD_OPTION_NOTIFY_CONNECTION, guard_notify, (void *)h->guard,
                            MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)h,
                            MHD_OPTION_ARRAY, tls_opts,
                            MHD_OPTION_END);
    int rc = h->d ? 0 : -EADDRNOTAVAIL;
    if (!rc) {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
        if (di && di->port) port = di->port;
        snprintf(h->url, sizeof h->url, "%s://%s%s%s:%u/", h->tls ? "https" : "http",
                 ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "", port);
        const union MHD_DaemonInfo *ei = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
        h->epoll_fd = ei ? ei->epoll_fd : -1;
        /* The wake-up in libmicrohttpd's own epoll set: its passes skip an
         * event whose pointer is NULL (0.9.75 to 1.0.1: "shutdown signal"),
         * and edge-triggered, each write wakes one wait (or makes the epoll
         * fd readable for loop_main's poll until a pass takes the event)
         * without ever being read (the counter needs 2^64 writes to fill). */
        struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
        if (h->epoll_fd < 0 || epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->wake_fd, &ev) != 0) rc = -EINVAL;
    }
    /* Nothing is served before the loop runs, so h is complete by then. */
    if (!rc) rc = -pthread_create(&h->loop, NULL, loop_main, h);
    if (rc) {
        if (h->d) MHD_stop_daemon(h->d);
        close(h->wake_fd);
        guard_free(h->guard);
        pthread_mutex_destroy(&h->handler_lock);
        pthread_mutex_destroy(&h->susp_lock);
        free(h);
        return rc;
    }
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
        http_wake(h);
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
    h->loop_stop = true;
    http_wake(h);
    pthread_join(h->loop, NULL);
    MHD_stop_daemon(h->d);                  /* in this thread now: the loop is gone */
    close(h->wake_fd);
    for (unsigned i = 0; i < HTTP_KEPT; i++) http_kept_drop(&h->kept[i]);
    guard_free(h->guard);
    http_log_flush();
    pthread_mutex_destroy(&h->handler_lock);
    pthread_mutex_destroy(&h->susp_lock);
    free(h);
}

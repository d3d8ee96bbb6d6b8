/* http_conn: the state of the daemon and of one request, shared by the
 * files of server/http*.c (http.c: libmicrohttpd, requests and responses,
 * start and stop; http_gate.c; http_assets.c; http_send.c; http_log.c).
 * Private to them. */
#ifndef SIPCFG_HTTP_CONN_H
#define SIPCFG_HTTP_CONN_H
#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include "http.h"
#include "session.h"

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
#define HTTP_MAX_HEADERS 16
#define HTTP_PATH_MAX 1024
#define HTTP_KEPT 8                     /* whole answers kept for reuse (send_resp) */              /* longer paths are "" (404) */
#define HTTP_QUERY_MAX 4                /* more than any route defines */
#define HTTP_WWW_FILE_MAX ((size_t)1 << 20)

struct http {
    struct app *app;                  /* api/'s, handed on to handlers */
    const struct http_route *routes;
    struct auth *auth;
    void (*before_api)(struct app *app);
    struct MHD_Daemon *d;
    struct guard *guard;
    /* libmicrohttpd runs in "external polling" mode on our own thread
     * (http.c, loop_main), so that guard_tick runs in the same thread
     * between its passes; wake_fd (an eventfd in libmicrohttpd's epoll set)
     * wakes that thread for a resume or the stop: 0.9.75 has no wake-up of
     * its own in this mode. */
    pthread_t loop;
    _Atomic bool loop_stop;
    int wake_fd;
    int epoll_fd;                       /* libmicrohttpd's */
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
    const char *uri_at;                 /* libmicrohttpd's copy of the target, and its strlen */
    size_t uri_len;
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

/* http.c: frees what a response holds and makes it empty again. */
void http_resp_reset(struct resp *rs);
/* http_gate.c: true when the request may reach its handler; otherwise rs
 * holds the answer, or *is_asset says the page's file is wanted. */
bool http_gate(struct req *rq, struct resp *rs, bool *is_asset);
/* Whether the request comes with a body (judged before it is read). */
bool http_has_body(struct req *rq);
/* 400 for a NUL in the target or a header, a repeated framing header or a
 * body framed twice; 501 for a transfer coding other than chunked. False
 * after answering. version: the request line's (where the target ended). */
bool http_framing_ok(struct req *rq, struct resp *rs, const char *version);
/* http_assets.c: answers a request for the page's files. */
enum MHD_Result http_serve_asset(struct req *rq, struct resp *rs);
/* http_send.c */
void http_security_headers(struct http *h, struct MHD_Response *r);
enum MHD_Result http_send_resp(struct req *rq, struct resp *rs);
void http_kept_drop(struct kept *k);
/* http_log.c: MHD_OPTION_EXTERNAL_LOGGER, and what is held back, at stop. */
void http_on_log(void *cls, const char *fmt, va_list ap);
void http_log_flush(void);

#endif

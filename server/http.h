/* http: the small request/response type that api/ sees. http.c owns
 * libmicrohttpd; nothing in api/ includes <microhttpd.h>. */
#ifndef SIPCFG_HTTP_H
#define SIPCFG_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define HTTP_BODY_MAX ((size_t)64 * 1024)

struct req;
struct resp;
struct app;                       /* api/'s state: server/ only hands the pointer on */
struct auth;

const char *req_method(const struct req *rq);            /* "GET", ... */
const char *req_path(const struct req *rq);              /* below /api/v1: "/lines/1" */
const char *req_query(const struct req *rq, const char *name);   /* NULL if absent; "" if given without "=" */
const char *req_header(const struct req *rq, const char *name);  /* NULL if absent */
/* The whole body (NUL-terminated for convenience; len excludes the NUL). */
const char *req_body(const struct req *rq, size_t *len);
const char *req_client_ip(const struct req *rq);
bool req_is_tls(const struct req *rq);
/* True when the request was authenticated by a session cookie (not digest). */
bool req_by_session(const struct req *rq);
/* The id of the request's session ("" for digest), for logout. */
const char *req_session_id(const struct req *rq);
struct app *req_app(const struct req *rq);

/* Per-request state of the handler, freed with free_fn when the request ends. */
void *req_ctx(const struct req *rq);
void req_set_ctx(struct req *rq, void *ctx, void (*free_fn)(void *));

/* Async work (DNS): the handler calls req_suspend() before it starts the work
 * and returns without a response; the work's completion calls req_resume()
 * exactly once, from any thread; the handler then runs again with the same ctx. */
void req_suspend(struct req *rq);
void req_resume(struct req *rq);

/* Responses. The body is stolen. Security headers are added by http.c. */
void resp_json(struct resp *rs, unsigned status, json_t *body);
void resp_problem_json(struct resp *rs, unsigned status, json_t *problem); /* problem+json */
void resp_empty(struct resp *rs, unsigned status);
/* JSON already encoded (malloc'ed, stolen; freed here on failure). */
void resp_json_text(struct resp *rs, unsigned status, char *body, size_t len);
void resp_header(struct resp *rs, const char *name, const char *value);

typedef void (*api_handler)(struct req *rq, struct resp *rs);

/* problem+json (RFC 9457, API.md section 6): {"type":"about:blank","title",
 * "status","detail"}; title NULL = the status's reason phrase. */
void resp_problem(struct resp *rs, unsigned status, const char *title, const char *detail);
/* The same object, to add members to before resp_problem_json. */
json_t *resp_problem_new(unsigned status, const char *title, const char *detail);
/* "Not Found", "Method Not Allowed", ... for any status sipcfgd answers. */
const char *resp_status_title(unsigned status);
/* 400 naming a bad query parameter ("parameter" member). */
void resp_bad_parameter(struct resp *rs, const char *name, const char *detail);

/* ---- Routes: the table api/ registers, matched here ---- */

enum { HTTP_ROUTE_PUBLIC = 1 };  /* no authentication (POST /session only) */

struct http_route {
    const char *method;
    const char *pattern;          /* "/lines/{n}" : {n} matches 1..9 digits */
    api_handler handler;
    int flags;
    /* The query parameters the route defines, space-separated ("dns dry_run"),
     * NULL for none: any other, or one given twice, is refused by http.c with
     * 400 before the handler runs (API.md section 3). */
    const char *query;
};

/* Finds the route of method + path (below /api/v1) in table (terminated by a
 * NULL method). 0 and *route; -ENOENT (404) when no pattern matches; -EPERM
 * (405) when the path matches but not the method, with `allow` filled ("GET,
 * HEAD, PUT, PATCH, DELETE"). HEAD is answered by the GET handler. */
int http_route_find(const struct http_route *table, const char *method, const char *path,
                    const struct http_route **route, char *allow, size_t allow_n);

/* ---- The daemon side, for server/main.c ---- */

struct http;

struct http_options {
    const char *listen;                 /* "127.0.0.1:8080" or "[::1]:8080" (NULL = that default) */
    const char *www_dir;                /* NULL = the compiled-in page; else the same names from disk */
    const char *tls_cert_pem;           /* PEM contents (not file names); both or neither */
    const char *tls_key_pem;
    const char *const *allow_hosts;     /* --allow-host names, besides localhost and IP literals */
    size_t n_allow_hosts;
    const struct http_route *routes;    /* the API's table (api/routes.c) */
    struct auth *auth;                  /* who may use the API (auth.c) */
    /* Runs before any API request is judged (api/: follow what another
     * process committed to flash), with the app pointer of http_start. */
    void (*before_api)(struct app *app);
};

/* Parses "A.B.C.D:PORT" or "[v6]:PORT" (PORT 0..65535). 0 or -EINVAL. */
int http_parse_listen(const char *s, struct sockaddr_storage *out, char *host, size_t host_n,
                      unsigned *port);
/* Starts libmicrohttpd on its own thread. 0, -EINVAL (bad options), -errno. */
int http_start(struct app *app, const struct http_options *o, struct http **out);
/* "http://127.0.0.1:8080/" (https with TLS; the bound port when 0 was asked). */
const char *http_url(const struct http *h);
/* Shutdown, step 1: no handler runs after this returns (a request that would
 * reach one gets 503), so the resolver can be freed safely. */
void http_quiesce(struct http *h);
/* Shutdown, step 2 (after dns_free resumed its requests): resumes any request
 * still suspended, stops libmicrohttpd and frees h. */
void http_stop(struct http *h);

#endif

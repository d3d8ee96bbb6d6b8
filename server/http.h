/* http: the small request/response type that api/ sees. http.c owns
 * libmicrohttpd; nothing in api/ includes <microhttpd.h>. */
#ifndef SIPCFG_HTTP_H
#define SIPCFG_HTTP_H
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_BODY_MAX (64 * 1024)

struct req;
struct resp;
struct app;

const char *req_method(const struct req *rq);            /* "GET", ... */
const char *req_path(const struct req *rq);              /* below /api/v1: "/lines/1" */
const char *req_query(const struct req *rq, const char *name);   /* NULL if absent */
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
void resp_header(struct resp *rs, const char *name, const char *value);

typedef void (*api_handler)(struct req *rq, struct resp *rs);

#endif

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
#include "store.h"

struct auth;

struct app {
    pthread_mutex_t lock;        /* guards cfg, generation and the store */
    struct store *store;
    struct config *cfg;          /* what flash holds now (admin HA1 included) */
    uint32_t generation;
    struct dns *dns;
    struct auth *auth;
    unsigned nlines;
    time_t started;
    const char *version;
};

/* Route flags */
enum { ROUTE_PUBLIC = 1 };       /* no authentication (POST /session only) */

struct route {
    const char *method;
    const char *pattern;          /* "/lines/{n}" : {n} matches 1..99 digits */
    api_handler handler;
    int flags;
};

/* Finds the handler for method + path (below /api/v1). Returns 0 and sets
 * *route; -ENOENT (404) when no pattern matches; -EPERM (405) when the path
 * matches but not the method, with `allow` filled ("GET, PUT, PATCH, DELETE"). */
int api_route(const char *method, const char *path, const struct route **route,
              char *allow, size_t allow_n);

/* problem.c: problem+json helpers (API.md section 6). */
void api_problem(struct resp *rs, unsigned status, const char *title, const char *detail);
/* 422 with errors (and checks, may be NULL). */
void api_validation_failed(struct resp *rs, const struct diag_list *errs, json_t *checks);

/* {n} of a matched path: the line number, or 0 when out of range (-> 404). */
unsigned api_line_number(const struct req *rq, const struct app *app);

#endif

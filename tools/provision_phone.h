/* provision_phone: one phone of `sipcfg provision` over its REST API with
 * libcurl: read (GET /config, for the ETag and what changes), dry run, apply
 * (PUT /config with If-Match), each answer turned into the phone's outcome,
 * its error in words and its receipt. The run (options, input, threads,
 * report) is provision.c's. */
#ifndef SIPCFG_PROVISION_PHONE_H
#define SIPCFG_PROVISION_PHONE_H
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>

#define ADDRESS_MAX 255

enum outcome { OUT_FAILED, OUT_CHANGED, OUT_UNCHANGED, OUT_WOULD_CHANGE };

/* The options of a run (sipcfg provision's command line). */
struct opts {
    const char *tmpl_path, *phones_path, *receipts_path, *cacert;
    const char *dns;
    unsigned jobs;
    bool dry_run, insecure;
};

struct phone {
    unsigned csv_line;
    const char *address;            /* as written in the CSV */
    char url[ADDRESS_MAX + 16];     /* base URL, no trailing '/' */
    const char *password;
    char *body;                     /* the filled template as JSON text */
    char input_error[400];          /* a bad row: never contacted */
    /* results */
    enum outcome outcome;
    char error[600];
    json_t *receipt;
    unsigned requests;              /* HTTP requests sent to it, challenges included */
};

/* Read, dry run, apply (or only the first two with --dry-run) on handle h,
 * which may have served another phone before: its options are set afresh
 * here, once per phone, so that the digest state of this phone's first
 * answer serves its next requests (no second 401 round trip). Fills
 * p->outcome, p->error and the receipt (its "http_requests" counts every
 * HTTP request sent, the digest challenges included). */
void provision_phone_run(CURL *h, const struct opts *o, struct phone *p);

#endif

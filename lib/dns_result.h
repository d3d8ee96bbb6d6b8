/* dns_result: what one live check of a server found (status, method, targets,
 * TTL, the queries made, warnings) and its forms: the resolution object of
 * API.md section 4 as JSON, and the stored form (dns_target.h). */
#ifndef SIPCFG_DNS_RESULT_H
#define SIPCFG_DNS_RESULT_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "diag.h"
#include "dns_target.h"
#include "line.h"

#define DNS_MAX_LOOKUPS 48              /* 6 first-round queries, NAPTR follow-ups, 2 per target */

enum dns_status {
    DNS_OK = 0, DNS_NXDOMAIN, DNS_NO_RECORDS, DNS_UNAVAILABLE, DNS_SERVFAIL, DNS_REFUSED,
    DNS_TIMEOUT, DNS_SKIPPED
};
enum dns_method { DNS_METHOD_LITERAL = 0, DNS_METHOD_NAPTR, DNS_METHOD_SRV, DNS_METHOD_A };

/* One query made, for a person ("_sip._udp.example.test SRV: 2 records"). */
struct dns_lookup {
    char name[HOST_MAX + 16];
    char type[8];                    /* "NAPTR", "SRV", "A", "AAAA" */
    char outcome[96];
};

struct dns_result {
    struct server server;            /* what was checked */
    enum dns_status status;
    enum dns_method method;
    unsigned ntargets;
    struct dns_target targets[DNS_MAX_TARGETS]; /* priority asc, then weight desc */
    uint32_t ttl;                    /* smallest TTL seen, seconds */
    uint32_t elapsed_ms;
    bool from_cache;
    bool tcp_refused;                /* DNS_REFUSED came from a refused TCP retry, not a REFUSED answer */
    unsigned nlookups;
    struct dns_lookup lookups[DNS_MAX_LOOKUPS];
    struct diag_list *warnings;      /* owned by the result; may be NULL when none */
};

struct dns_result *dns_result_dup(const struct dns_result *r);
void dns_result_free(struct dns_result *r);

const char *dns_status_name(enum dns_status s);   /* "ok", "nxdomain", ... */
/* A status in words: before + the quoted host + after ("'", "' resolves"). */
void dns_status_words(enum dns_status s, const char **before, const char **after);
const char *dns_method_name(enum dns_method m);   /* "literal", "naptr", "srv", "a" */

/* The resolution object of API.md section 4; `field` may be NULL (then no "field"). */
/* One target as the resolution object shows it (API.md section 4). */
json_t *dns_target_json(const struct dns_target *t);
json_t *dns_result_to_json(const struct dns_result *r, const char *field);

/* Warnings across servers of one line: a backup that resolves to the same
 * addresses as its primary (`field` names the backup). */
void dns_compare_backup(const struct dns_result *primary, const struct dns_result *backup,
                        const char *field, struct diag_list *warns);

/* The stored form of an ok result (lineN.F.resolved); -EINVAL (and "") otherwise. */
int dns_result_to_flash(const struct dns_result *r, char *buf, size_t n);

#endif

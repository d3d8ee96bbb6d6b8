/* dns: the live check of one server, as RFC 3263 says a SIP core locates it
 * (NAPTR -> SRV -> A/AAAA), on c-ares. Asynchronous: the resolver owns one
 * c-ares channel on its own thread; dns_check_start may be called from any
 * thread and the callback runs on the resolver thread. A small cache honours
 * TTLs, and identical checks in flight share one set of queries. */
#ifndef SIPCFG_DNS_H
#define SIPCFG_DNS_H
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "diag.h"
#include "line.h"

#define DNS_MAX_TARGETS 16
#define DNS_MAX_ADDRS 8
#define DNS_MAX_LOOKUPS 48              /* 6 first-round queries, NAPTR follow-ups, 2 per target */
#define DNS_ADDR_MAX 46              /* INET6_ADDRSTRLEN */
#define DNS_DEFAULT_TIMEOUT_MS 2000

enum dns_status {
    DNS_OK = 0, DNS_NXDOMAIN, DNS_NO_RECORDS, DNS_UNAVAILABLE, DNS_SERVFAIL, DNS_REFUSED,
    DNS_TIMEOUT, DNS_SKIPPED
};
enum dns_method { DNS_METHOD_LITERAL = 0, DNS_METHOD_NAPTR, DNS_METHOD_SRV, DNS_METHOD_A };

struct dns_target {
    uint16_t priority, weight, port;
    enum transport transport;        /* never AUTO */
    char host[HOST_MAX + 1];
    unsigned naddrs;
    char addrs[DNS_MAX_ADDRS][DNS_ADDR_MAX];
};

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
    unsigned nlookups;
    struct dns_lookup lookups[DNS_MAX_LOOKUPS];
    struct diag_list *warnings;      /* owned by the result; may be NULL when none */
};

struct dns_options {
    const char *servers;             /* "HOST:PORT[,HOST:PORT]" (IP literals), NULL = system's */
    unsigned timeout_ms;             /* whole check deadline; 0 = DNS_DEFAULT_TIMEOUT_MS */
    unsigned cache_max;              /* entries; 0 = a small default */
    unsigned max_active;             /* checks with queries out at once; 0 = 64. More
                                        wait in arrival order (their deadline runs) */
};

struct dns;

typedef void (*dns_callback)(void *arg, const struct dns_result *r);

int dns_new(const struct dns_options *o, struct dns **out);  /* -EINVAL for a bad server list */
/* Pending checks complete with DNS_TIMEOUT before this returns. */
void dns_free(struct dns *d);

/* Starts a check; `cb` runs exactly once, on the resolver thread (or before this
 * returns for an IP literal), with a result valid only during the call. */
int dns_check_start(struct dns *d, const struct server *s, bool dns_srv, dns_callback cb,
                    void *arg);
/* Blocking convenience for the CLI and tests: *out filled, free with dns_result_free. */
int dns_check(struct dns *d, const struct server *s, bool dns_srv, struct dns_result **out);
struct dns_result *dns_result_dup(const struct dns_result *r);
void dns_result_free(struct dns_result *r);

/* Counters: queries sent to DNS since dns_new (the cache test reads this). */
unsigned long dns_queries_sent(const struct dns *d);
/* TCP connections c-ares opened (a truncated UDP answer is retried over TCP). */
unsigned long dns_tcp_connections(const struct dns *d);

const char *dns_status_name(enum dns_status s);   /* "ok", "nxdomain", ... */
const char *dns_method_name(enum dns_method m);   /* "literal", "naptr", "srv", "a" */

/* The resolution object of API.md section 4; `field` may be NULL (then no "field"). */
json_t *dns_result_to_json(const struct dns_result *r, const char *field);

/* Warnings across servers of one line: a backup that resolves to the same
 * addresses as its primary (`field` names the backup). */
void dns_compare_backup(const struct dns_result *primary, const struct dns_result *backup,
                        const char *field, struct diag_list *warns);

/* lineN.F.resolved: "prio weight port transport host addr[,addr]" entries separated by ';'. */
int dns_result_to_flash(const struct dns_result *r, char *buf, size_t n);
/* Parses such a value into targets (for the SIP core); -EINVAL if malformed. */
int dns_targets_from_flash(const char *value, struct dns_target *targets, unsigned max,
                           unsigned *ntargets);

/* True for an LDH host name as a SIP core can use it (RFC 1123: labels 1..63 of
 * letters, digits and inner hyphens, at most 253 in all; one trailing dot allowed).
 * Every SRV target is checked with it: c-ares hands odd bytes on escaped ("a\;b"). */
bool dns_name_valid(const char *name);
/* Display order: priority ascending, then weight descending (stable). */
void dns_targets_sort(struct dns_target *t, unsigned n);

/* RFC 2782 weighted random order within each priority, for the SIP core;
 * `rnd` returns a uniform value in [0, bound]. */
void dns_rfc2782_order(struct dns_target *t, unsigned n, uint32_t (*rnd)(uint32_t bound, void *),
                       void *arg);

#endif

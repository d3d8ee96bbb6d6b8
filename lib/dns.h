/* dns: the live check of one server, as RFC 3263 says a SIP core locates it
 * (NAPTR -> SRV -> A/AAAA), on c-ares. Asynchronous: the resolver owns one
 * c-ares channel on its own thread; dns_check_start may be called from any
 * thread and the callback runs on the resolver thread. A small cache honours
 * TTLs, and identical checks in flight share one set of queries. */
#ifndef SIPCFG_DNS_H
#define SIPCFG_DNS_H
#include <stdbool.h>
#include "dns_result.h"

#define DNS_DEFAULT_TIMEOUT_MS 2000

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

/* Counters: queries sent to DNS since dns_new (the cache test reads this). */
unsigned long dns_queries_sent(const struct dns *d);
/* TCP connections c-ares opened (a truncated UDP answer is retried over TCP). */
unsigned long dns_tcp_connections(const struct dns *d);

#endif

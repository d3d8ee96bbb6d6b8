/* dns_target: one place a SIP core can send to (priority, weight, port,
 * transport, host, addresses) and the stored form of a resolution, the
 * lineN.F.resolved value: "prio weight port transport host addr[,addr]"
 * entries separated by ';' (API.md section 8). Parsing, formatting, display
 * order and RFC 2782 order. Pure: no c-ares, no jansson, so the SIP core's
 * reader links it without the resolver. */
#ifndef SIPCFG_DNS_TARGET_H
#define SIPCFG_DNS_TARGET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "line.h"

#define DNS_MAX_TARGETS 16
#define DNS_MAX_ADDRS 8
#define DNS_ADDR_MAX 46              /* INET6_ADDRSTRLEN */

struct dns_target {
    uint16_t priority, weight, port;
    enum transport transport;        /* never AUTO */
    char host[HOST_MAX + 1];
    unsigned naddrs;
    char addrs[DNS_MAX_ADDRS][DNS_ADDR_MAX];
};

/* The stored form of targets[0..n) into buf (at most RESOLVED_MAX bytes; whole
 * targets only, a target without an address is left out). 0, or -EINVAL. */
int dns_targets_to_flash(const struct dns_target *targets, unsigned n, char *buf, size_t len);
/* Parses a stored value into targets (the first `max` of them, in stored order).
 * Strict (single spaces, no empty entries), so a damaged value is noticed: -EINVAL. */
int dns_targets_from_flash(const char *value, struct dns_target *targets, unsigned max,
                           unsigned *ntargets);
/* One entry e[0..len) of a stored value; 0 or -EINVAL. */
int dns_target_parse(const char *e, size_t len, struct dns_target *t);

/* True for an LDH host name as a SIP core can use it (RFC 1123: labels 1..63 of
 * letters, digits and inner hyphens, at most 253 in all; one trailing dot allowed).
 * Every SRV target is checked with it: c-ares hands odd bytes on escaped ("a\;b"). */
bool dns_name_valid(const char *name);
/* The same, also allowing leading "_label"s (the _sip._udp part of a NAPTR replacement). */
bool dns_owner_name_valid(const char *name);

/* Display order: priority ascending, then weight descending (stable). */
void dns_targets_sort(struct dns_target *t, unsigned n);
/* The display order, then host, port and transport: a total order (<0, 0, >0). */
int dns_target_cmp(const struct dns_target *a, const struct dns_target *b);
/* Two stored values (lineN.F.resolved) that name the same targets with the
 * same addresses, in any order (a fresh check that found what is stored). */
bool dns_resolved_same(const char *x, const char *y);

/* RFC 2782 weighted random order within each priority, for the SIP core;
 * `rnd` returns a uniform value in [0, bound]. */
void dns_rfc2782_order(struct dns_target *t, unsigned n, uint32_t (*rnd)(uint32_t bound, void *),
                       void *arg);

#endif

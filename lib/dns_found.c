/* dns_found: turning the answers of a finished check into its dns_result
 * (targets in order, status, TTL, warnings); see dns_check.h. */
#include "dns_check.h"

#include <ares.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"
#include "text.h"

/* The transport of a target found without SRV: auto -> udp (RFC 3263 4.1). */
static enum transport plain_transport(enum transport t)
{
    return t == TRANSPORT_AUTO ? TRANSPORT_UDP : t;
}

static uint16_t default_port(enum transport t)
{
    return t == TRANSPORT_TLS ? 5061 : 5060;
}

/* The dns_status a query's ares status stands for, when it is an error of the
 * server (not an answer about the name); DNS_OK when it is an answer. */
static enum dns_status error_status(const struct query *q)
{
    if (q->tcp_refused)                /* it answered (truncated), then refused TCP */
        return DNS_REFUSED;
    switch (q->status) {
    case ARES_SUCCESS:
    case ARES_ENODATA:
    case ARES_ENOTFOUND:
        return DNS_OK;
    case ARES_EREFUSED:
    case ARES_ENOTIMP:
        return DNS_REFUSED;
    case ARES_ECONNREFUSED:            /* the transport's (NOCHECKRESP): nothing listens */
    case ARES_ETIMEOUT:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION:
        return DNS_TIMEOUT;
    default:                          /* SERVFAIL, FORMERR, bad answers */
        return DNS_SERVFAIL;
    }
}

void dns_found_init(struct dns_result *r, const struct server *s)
{
    memset(r, 0, sizeof *r);
    r->server = *s;
    r->server.set = true;
}

struct diag_list *dns_found_warnings(struct dns_result *r)
{
    if (!r->warnings) {
        r->warnings = malloc(sizeof *r->warnings);
        if (r->warnings)
            diag_init(r->warnings);
    }
    return r->warnings;
}

/* "loopback", "link-local", "unspecified" or NULL. */
static const char *local_kind(const char *addr)
{
    unsigned char b[16];
    if (inet_pton(AF_INET, addr, b) == 1) {
v4:
        if (b[0] == 127)
            return "a loopback";
        if (b[0] == 169 && b[1] == 254)
            return "a link-local";
        if (b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] == 0)
            return "the unspecified";
        return NULL;
    }
    if (inet_pton(AF_INET6, addr, b) != 1)
        return NULL;
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(b, mapped, 12) == 0) {
        memmove(b, b + 12, 4);
        goto v4;
    }
    static const unsigned char zero[16] = { 0 };
    if (memcmp(b, zero, 15) == 0)
        return b[15] == 1 ? "a loopback" : b[15] == 0 ? "the unspecified" : NULL;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "a link-local";
    return NULL;
}

void dns_found_warn_local(struct dns_result *r)
{
    for (unsigned i = 0; i < r->ntargets; i++) {
        const struct dns_target *t = &r->targets[i];
        for (unsigned k = 0; k < t->naddrs; k++) {
            const char *kind = local_kind(t->addrs[k]);
            if (!kind)
                continue;
            struct diag_list *w = dns_found_warnings(r);
            if (w)
                diag_add(w, "host", "local_address",
                         "%s resolves to %s, %s address: the phone would send its SIP "
                         "requests to %s", t->host, t->addrs[k], kind,
                         strcmp(kind, "a loopback") == 0 ? "itself" : "no server");
            break;                      /* one warning per target */
        }
    }
}

static const char *type_name(int type)
{
    return type == T_NAPTR ? "NAPTR" : type == T_SRV ? "SRV" : type == T_A ? "A" : "AAAA";
}

void dns_found_lookups(struct dns_result *r, const struct check *c)
{
    r->nlookups = 0;
    for (unsigned i = 0; i < c->nq && r->nlookups < DNS_MAX_LOOKUPS; i++) {
        const struct query *q = &c->q[i];
        struct dns_lookup *l = &r->lookups[r->nlookups++];
        text_copy(l->name, sizeof l->name, q->name);
        text_copy(l->type, sizeof l->type, type_name(q->type));
        text_copy(l->outcome, sizeof l->outcome, q->outcome);
    }
}

void dns_found_tcp_refused(struct dns_result *r, const struct check *c)
{
    if (r->status != DNS_REFUSED)
        return;
    for (unsigned i = 0; i < c->nq; i++) {
        const struct query *q = &c->q[i];
        if (!q->tcp_refused)
            continue;
        r->tcp_refused = true;
        struct diag_list *w = dns_found_warnings(r);
        if (w)
            diag_add(w, "host", "dns_tcp_refused",
                     "the DNS server's answer for %s %s was too large for UDP (truncated), and "
                     "its TCP port refused the connection needed for the whole answer",
                     q->name, type_name(q->type));
        return;
    }
}

static void ttl_min(uint32_t *best, bool *have, int64_t ttl)
{
    if (ttl < 0)
        return;
    if (!*have || (uint32_t)ttl < *best)
        *best = (uint32_t)ttl;
    *have = true;
}

/* Adds the addresses of `name` (A first, then AAAA) to t. */
static void target_addresses(const struct check *c, const char *name, struct dns_target *t,
                             uint32_t *ttl, bool *have_ttl)
{
    static const int types[] = { T_A, T_AAAA };
    for (size_t k = 0; k < 2; k++) {
        int qi = dns_check_find_query(c, types[k], name);
        if (qi < 0)
            continue;
        const struct query *q = &c->q[qi];
        for (unsigned a = 0; a < q->naddrs && t->naddrs < DNS_MAX_ADDRS; a++)
            text_copy(t->addrs[t->naddrs++], DNS_ADDR_MAX, q->addrs[a]);
        if (q->naddrs)
            ttl_min(ttl, have_ttl, q->ttl);
    }
}

/* The status the host's own A/AAAA give: ok, nxdomain, no_records or an error. */
static enum dns_status host_status(const struct check *c)
{
    const struct query *qs[2] = { c->host_a >= 0 ? &c->q[c->host_a] : NULL,
                                  c->host_aaaa >= 0 ? &c->q[c->host_aaaa] : NULL };
    enum dns_status err = DNS_OK;
    bool nx = false, addr = false;
    for (int i = 0; i < 2; i++) {
        if (!qs[i])
            continue;
        if (!qs[i]->done) {
            err = DNS_TIMEOUT;
            continue;
        }
        if (qs[i]->naddrs)
            addr = true;
        if (qs[i]->status == ARES_ENOTFOUND)
            nx = true;
        enum dns_status e = error_status(qs[i]);
        if (e != DNS_OK && err == DNS_OK)
            err = e;
    }
    if (addr)
        return DNS_OK;
    if (nx)
        return DNS_NXDOMAIN;
    return err != DNS_OK ? err : DNS_NO_RECORDS;
}

/* The first error among the selected SRV queries (and NAPTR), DNS_OK if none. */
enum dns_status dns_found_srv_error(const struct check *c)
{
    for (unsigned i = 0; i < c->nselected; i++) {
        const struct query *q = &c->q[c->selected[i]];
        enum dns_status e = q->done ? error_status(q) : DNS_TIMEOUT;
        if (e != DNS_OK)
            return e;
    }
    return DNS_OK;
}

bool dns_found_srv_dot(const struct check *c)
{
    for (unsigned i = 0; i < c->nselected; i++)
        if (c->q[c->selected[i]].dot)
            return true;
    return false;
}

void dns_found_from_host(struct dns_result *r, const struct check *c)
{
    r->method = DNS_METHOD_A;
    r->status = host_status(c);
    uint32_t ttl = 0;
    bool have = false;
    if (r->status == DNS_OK) {
        struct dns_target *t = &r->targets[0];
        memset(t, 0, sizeof *t);
        t->port = c->s.port ? c->s.port : default_port(c->s.transport);
        t->transport = plain_transport(c->s.transport);
        text_copy(t->host, sizeof t->host, c->s.host);
        target_addresses(c, c->s.host, t, &ttl, &have);
        r->ntargets = 1;
    } else if (r->status == DNS_NXDOMAIN || r->status == DNS_NO_RECORDS) {
        if (c->host_a >= 0)
            ttl_min(&ttl, &have, c->q[c->host_a].ttl);
        if (c->host_aaaa >= 0)
            ttl_min(&ttl, &have, c->q[c->host_aaaa].ttl);
    }
    r->ttl = have ? ttl : 0;
}

static int srv_cmp(const void *a, const void *b)
{
    const struct srv_rec *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* SRV records of the selected queries, valid, deduplicated, sorted, capped. */
unsigned dns_found_srv_targets(struct check *c, struct srv_rec *out, unsigned max)
{
    unsigned n = 0, seq = 0;
    for (unsigned si = 0; si < c->nselected; si++) {
        for (unsigned i = 0; i < c->nsrv; i++) {
            struct srv_rec *s = &c->srv[i];
            if (s->order != (unsigned)c->selected[si] + 1)
                continue;
            bool dup = false;
            for (unsigned k = 0; k < n && !dup; k++)
                dup = out[k].port == s->port && out[k].tp == s->tp &&
                      strcmp(out[k].host, s->host) == 0;
            if (dup || n >= DNS_MAX_SRV)
                continue;
            out[n] = *s;
            out[n].order = seq++;
            n++;
        }
    }
    qsort(out, n, sizeof *out, srv_cmp);
    return n < max ? n : max;
}

void dns_found_from_srv(struct dns_result *r, struct check *c)
{
    struct srv_rec *list = calloc(DNS_MAX_SRV, sizeof *list);
    r->method = c->method;
    if (!list) {
        r->status = DNS_SERVFAIL;
        return;
    }
    unsigned n = dns_found_srv_targets(c, list, DNS_MAX_TARGETS);
    uint32_t ttl = 0;
    bool have = false, any_addr = false;
    enum dns_status err = DNS_OK;
    for (unsigned i = 0; i < n; i++) {
        struct dns_target *t = &r->targets[r->ntargets++];
        memset(t, 0, sizeof *t);
        t->priority = list[i].priority;
        t->weight = list[i].weight;
        t->port = list[i].port;
        t->transport = list[i].tp;
        text_copy(t->host, sizeof t->host, list[i].host);
        target_addresses(c, t->host, t, &ttl, &have);
        if (t->naddrs)
            any_addr = true;
        static const int types[] = { T_A, T_AAAA };
        for (size_t k = 0; k < 2; k++) {
            int qi = dns_check_find_query(c, types[k], t->host);
            enum dns_status e = qi < 0 ? DNS_OK
                              : c->q[qi].done ? error_status(&c->q[qi]) : DNS_TIMEOUT;
            if (e != DNS_OK && err == DNS_OK)
                err = e;
        }
    }
    free(list);
    for (unsigned i = 0; i < c->nselected; i++) {
        const struct query *q = &c->q[c->selected[i]];
        if (q->nrecords)
            ttl_min(&ttl, &have, q->ttl);
    }
    if (c->method == DNS_METHOD_NAPTR && c->q[0].type == T_NAPTR)
        ttl_min(&ttl, &have, c->q[0].ttl);
    r->ttl = have ? ttl : 0;
    r->status = any_addr ? DNS_OK : err != DNS_OK ? err : DNS_NO_RECORDS;
}

void dns_found_literal(struct dns_result *r, const struct server *s, const char *norm)
{
    dns_found_init(r, s);
    r->status = DNS_OK;
    r->method = DNS_METHOD_LITERAL;
    r->ntargets = 1;
    struct dns_target *t = &r->targets[0];
    t->port = s->port ? s->port : default_port(s->transport);
    t->transport = plain_transport(s->transport);
    text_copy(t->host, sizeof t->host, s->host);
    t->naddrs = 1;
    text_copy(t->addrs[0], DNS_ADDR_MAX, norm);
    dns_found_warn_local(r);
}

/* dns_check: one check's rounds (see dns.c's head): the queries of each
 * round, what each answer does to the check, and finishing it (result, cache,
 * every waiter). Runs on the resolver thread only. */
#include "dns_check.h"

#include <ares.h>
#include <ares_nameser.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "text.h"

uint64_t dns_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct query *q = arg;
    struct check *c = q->c;
    q->done = true;
    q->status = status;
    q->ttl = dns_answer_ttl(abuf, alen);
    if (status == ARES_SUCCESS) {
        if (q->type == T_SRV)
            dns_answer_srv(q, abuf, alen);
        else if (q->type == T_NAPTR)
            dns_answer_naptr(q, abuf, alen);
        else
            dns_answer_addresses(q, abuf, alen);
    } else if (status == ARES_ECONNREFUSED && q->truncated) {
        /* c-ares took this query to TCP for its truncated answer, and keeps
         * ECONNREFUSED for that failure: the server answered, TCP refused.
         * (Otherwise it is ICMP port unreachable: nobody there.) */
        q->tcp_refused = true;
        text_copy(q->outcome, sizeof q->outcome,
                  "truncated over UDP, and the TCP connection for the whole answer was refused");
    } else {
        text_copy(q->outcome, sizeof q->outcome, dns_answer_outcome(status));
    }
    c->pending--;
    if (c->finished) {
        if (c->pending == 0)
            dns_check_free(c);
        return;
    }
    dns_check_step(c);
}

/* Adds a query to the check (sent by send_queries). Returns its index or -1. */
static int add_query(struct check *c, int type, const char *name, enum transport tp)
{
    if (c->nq >= DNS_MAX_QUERIES)
        return -1;
    struct query *q = &c->q[c->nq];
    memset(q, 0, sizeof *q);
    q->c = c;
    q->type = type;
    q->tp = tp;
    q->ttl = -1;
    dns_name_copy(q->name, sizeof q->name, name);
    snprintf(q->outcome, sizeof q->outcome, "no answer (timeout)");
    return (int)c->nq++;
}

int dns_check_find_query(const struct check *c, int type, const char *name)
{
    for (unsigned i = 0; i < c->nq; i++)
        if (c->q[i].type == type && strcmp(c->q[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Sends queries [from, c->nq). pending counts them first: a callback may run
 * inside ares_query already. */
static void send_queries(struct check *c, unsigned from)
{
    c->pending += c->nq - from;
    for (unsigned i = from; i < c->nq; i++) {
        char fq[DNS_NAME_BUF + 1];
        snprintf(fq, sizeof fq, "%s.", c->q[i].name);   /* fully qualified: no search list */
        atomic_fetch_add(&c->d->queries, 1);
        c->d->sending = &c->q[i];       /* c-ares sends the datagram inside ares_query */
        ares_query(c->d->ch, fq, C_IN, c->q[i].type, query_cb, &c->q[i]);
        c->d->sending = NULL;
    }
}

/* The ID, the question's name (no trailing dot) and type of a DNS message;
 * false when it has no whole question. */
static bool message_question(const unsigned char *p, size_t n, uint16_t *id, char *name,
                             size_t namesz, int *type)
{
    if (n < 12 || n > INT_MAX || (p[4] == 0 && p[5] == 0))
        return false;
    char *s = NULL;
    long used = 0;
    if (ares_expand_name(p + 12, p, (int)n, &s, &used) != ARES_SUCCESS)
        return false;
    bool ok = used > 0 && 12u + (size_t)used + 4u <= n && strlen(s) < namesz;
    if (ok) {
        memcpy(name, s, strlen(s) + 1);
        *id = (uint16_t)(p[0] << 8 | p[1]);
        *type = p[12 + used] << 8 | p[12 + used + 1];
    }
    ares_free_string(s);
    return ok;
}

void dns_check_sent(struct dns *d, const unsigned char *p, size_t n)
{
    struct query *q = d->sending;
    uint16_t id;
    int type;
    char name[DNS_NAME_BUF];
    if (q && message_question(p, n, &id, name, sizeof name, &type) && type == q->type &&
        strcasecmp(name, q->name) == 0) {
        q->id = id;
        q->has_id = true;
    }
}

void dns_check_received(struct dns *d, const unsigned char *p, size_t n)
{
    /* What makes c-ares 1.18.1 retry over TCP (no EDNS here): TC, or more than 512 bytes. */
    if (n < 12 || (!(p[2] & 0x02) && n <= 512))
        return;
    uint16_t id;
    int type;
    char name[DNS_NAME_BUF];
    if (!message_question(p, n, &id, name, sizeof name, &type))
        return;
    /* c-ares matches an answer to its query by ID and question, and so do we. */
    for (struct check *c = d->checks; c; c = c->next)
        for (unsigned i = 0; i < c->nq; i++) {
            struct query *q = &c->q[i];
            if (q->has_id && !q->done && q->id == id && q->type == type &&
                strcasecmp(q->name, name) == 0)
                q->truncated = true;
        }
}

static const char *srv_prefix(enum transport t)
{
    return t == TRANSPORT_TLS ? "_sips._tcp" : t == TRANSPORT_TCP ? "_sip._tcp" : "_sip._udp";
}

/* The SRV names the transport allows, in preference order (TLS, TCP, UDP). */
static void add_srv_queries(struct check *c, bool warn_only)
{
    static const enum transport order[] = { TRANSPORT_TLS, TRANSPORT_TCP, TRANSPORT_UDP };
    for (size_t i = 0; i < 3; i++) {
        if (c->s.transport != TRANSPORT_AUTO && c->s.transport != order[i])
            continue;
        char name[DNS_NAME_BUF];
        snprintf(name, sizeof name, "%s.%s", srv_prefix(order[i]), c->s.host);
        int qi = add_query(c, T_SRV, name, order[i]);
        if (qi >= 0) {
            c->q[qi].warn_only = warn_only;
            if (!warn_only)
                c->selected[c->nselected++] = qi;
        }
    }
}

/* ------------------------------------------------------------ finishing */

static void deliver(struct check *c, struct dns_result *r)
{
    uint64_t now = dns_now_ms();
    for (struct waiter *w = c->waiters, *next; w; w = next) {
        next = w->next;
        r->elapsed_ms = (uint32_t)(now - w->started);
        w->cb(w->arg, r);
        free(w);
    }
    c->waiters = NULL;
}

void dns_check_finish(struct check *c, enum dns_status forced)
{
    struct dns_result *r = calloc(1, sizeof *r);
    c->finished = true;
    if (r) {
        dns_found_init(r, &c->s);
        r->method = c->method;
        if (forced != DNS_OK) {
            r->status = forced;
        } else if (c->method == DNS_METHOD_A) {
            dns_found_from_host(r, c);
        } else {
            dns_found_from_srv(r, c);
        }
        dns_found_lookups(r, c);
        dns_found_tcp_refused(r, c);
        if (r->status != DNS_OK)
            r->ntargets = 0;
        if (r->status == DNS_OK)
            dns_found_warn_local(r);
        if (c->mode == MODE_PORT) {
            for (unsigned i = 0; i < c->nq; i++) {
                const struct query *q = &c->q[i];
                if (q->type == T_SRV && q->nrecords > 0 && !q->dot) {
                    struct diag_list *w = dns_found_warnings(r);
                    if (w)
                        diag_add(w, "port", "srv_ignored_by_port",
                                 "%s has SRV records (%s), but with the port %u given here the "
                                 "phone skips them (RFC 3263) and uses %s's own address: "
                                 "leave the port empty to use them", c->s.host, q->name,
                                 (unsigned)c->s.port, c->s.host);
                    break;
                }
            }
        }
        dns_cache_store(c->d, c, r);
        deliver(c, r);
        dns_result_free(r);
    } else {
        struct dns_result fallback;     /* out of memory: still answer every waiter */
        dns_found_init(&fallback, &c->s);
        fallback.status = DNS_SERVFAIL;
        deliver(c, &fallback);
    }
    if (c->pending == 0)
        dns_check_free(c);
}

void dns_check_free(struct check *c)
{
    struct check **pp = &c->d->checks;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = c->next;
        c->d->nchecks--;
    }
    free(c);
}

/* ------------------------------------------------------------ the rounds */

static int naptr_cmp(const void *a, const void *b)
{
    const struct naptr_rec *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return (x->pref > y->pref) - (x->pref < y->pref);
}

enum mode dns_check_mode(const struct server *s, bool dns_srv)
{
    return s->port ? MODE_PORT : dns_srv ? MODE_SRV : MODE_A;
}

/* Round 1: everything that can go in parallel. */
void dns_check_plan_first(struct check *c)
{
    c->host_a = c->host_aaaa = -1;
    if (c->mode == MODE_SRV) {
        if (c->s.transport == TRANSPORT_AUTO)
            add_query(c, T_NAPTR, c->s.host, TRANSPORT_AUTO);
        add_srv_queries(c, false);
    } else if (c->mode == MODE_PORT && c->dns_srv) {
        add_srv_queries(c, true);      /* only to warn that the port hides them */
    }
    c->host_a = add_query(c, T_A, c->s.host, TRANSPORT_AUTO);
    c->host_aaaa = add_query(c, T_AAAA, c->s.host, TRANSPORT_AUTO);
}

static void round_first(struct check *c)
{
    dns_check_plan_first(c);
    send_queries(c, 0);
}

/* After round 1: a usable NAPTR set chooses the SRV names (asking those round 1
 * did not cover); otherwise the standard SRV names stand. */
static void round_naptr(struct check *c)
{
    c->method = DNS_METHOD_SRV;
    if (c->nnaptr == 0)
        return;
    qsort(c->naptr, c->nnaptr, sizeof c->naptr[0], naptr_cmp);
    c->method = DNS_METHOD_NAPTR;
    unsigned from = c->nq;
    c->nselected = 0;
    for (unsigned i = 0; i < c->nnaptr; i++) {
        int qi = dns_check_find_query(c, T_SRV, c->naptr[i].replacement);
        if (qi < 0)
            qi = add_query(c, T_SRV, c->naptr[i].replacement, c->naptr[i].tp);
        else if (c->q[qi].tp != c->naptr[i].tp)
            continue;                  /* a replacement whose name says another transport */
        bool dup = false;
        for (unsigned k = 0; k < c->nselected; k++)
            dup |= c->selected[k] == qi;
        if (qi >= 0 && !dup)
            c->selected[c->nselected++] = qi;
    }
    send_queries(c, from);
}

/* After the SRV answers: the targets' A/AAAA, all at once. Returns false when
 * the check is decided without them. */
static bool round_targets(struct check *c)
{
    struct srv_rec *list = calloc(DNS_MAX_SRV, sizeof *list);
    if (!list) {
        dns_check_finish(c, DNS_SERVFAIL);
        return false;
    }
    unsigned n = dns_found_srv_targets(c, list, DNS_MAX_TARGETS);
    if (n == 0) {
        free(list);
        enum dns_status e;
        if (dns_found_srv_dot(c))
            dns_check_finish(c, DNS_UNAVAILABLE);
        else if ((e = dns_found_srv_error(c)) != DNS_OK)
            dns_check_finish(c, e);              /* cannot tell whether SRV exists */
        else {
            c->method = DNS_METHOD_A;  /* no SRV: the host's own A/AAAA, asked in round 1 */
            dns_check_finish(c, DNS_OK);
        }
        return false;
    }
    unsigned from = c->nq;
    for (unsigned i = 0; i < n; i++) {
        if (dns_check_find_query(c, T_A, list[i].host) < 0)
            add_query(c, T_A, list[i].host, TRANSPORT_AUTO);
        if (dns_check_find_query(c, T_AAAA, list[i].host) < 0)
            add_query(c, T_AAAA, list[i].host, TRANSPORT_AUTO);
    }
    free(list);
    send_queries(c, from);
    return true;
}

/* Runs the next round whenever nothing is outstanding. */
void dns_check_step(struct check *c)
{
    while (!c->finished && c->pending == 0 && !c->issuing) {
        c->issuing = true;
        int round = c->round++;
        if (round == 0) {
            round_first(c);
        } else if (c->mode != MODE_SRV) {
            c->method = DNS_METHOD_A;
            dns_check_finish(c, DNS_OK);
            return;                    /* c may be freed */
        } else if (round == 1) {
            if (c->q[0].type == T_NAPTR && c->q[0].done && c->q[0].status == ARES_SUCCESS)
                round_naptr(c);
            else
                c->method = DNS_METHOD_SRV;
        } else if (round == 2) {
            if (!round_targets(c))
                return;
        } else {
            dns_check_finish(c, DNS_OK);
            return;
        }
        c->issuing = false;
    }
}

/* dns_check: the state of one live check, shared by the resolver's own files
 * (dns.c runs the rounds, dns_answer.c reads answers, dns_found.c builds the
 * result). Private to lib/dns*.c: nothing outside the resolver includes it. */
#ifndef SIPCFG_DNS_CHECK_H
#define SIPCFG_DNS_CHECK_H
#include <stdbool.h>
#include <stdint.h>
#include <ares.h>
#include <pthread.h>
#include <stdatomic.h>
#include "dns.h"

#define DNS_MAX_QUERIES DNS_MAX_LOOKUPS
#define DNS_MAX_SRV 64            /* SRV records kept per check before sorting and capping */
#define DNS_MAX_NAPTR 8           /* 6 + 8 + 2 x 16 targets fit DNS_MAX_QUERIES */
#define DNS_NAME_BUF (HOST_MAX + 16)

struct job {
    struct server s;
    bool dns_srv;
    dns_callback cb;
    void *arg;
    uint64_t started;
    struct job *next;
};

struct cache_entry {
    struct server s;
    bool dns_srv;
    uint64_t stored, expires;         /* ms, monotonic */
    struct dns_result *r;
};

struct dns {
    ares_channel ch;
    pthread_t thread;
    bool thread_started;
    int efd;
    pthread_mutex_t mu;
    struct job *jobs, **jobs_tail;    /* under mu */
    bool stopping;                    /* under mu */
    unsigned timeout_ms;
    struct check *checks;             /* resolver thread only */
    unsigned nchecks, max_active;     /* checks alive (stragglers included), their cap */
    struct job *backlog, **backlog_tail;  /* taken from `jobs`, waiting for a slot */
    unsigned cache_max, ncache;
    struct cache_entry *cache;        /* resolver thread only */
    atomic_ulong queries, tcp;
    struct query *sending;            /* inside ares_query for it: its datagram's ID is learnt */
};

struct query {
    struct check *c;
    int type;                         /* T_NAPTR, T_SRV, T_A, T_AAAA */
    char name[DNS_NAME_BUF];          /* lower case, no trailing dot */
    enum transport tp;                /* SRV: the service's transport */
    bool warn_only;                   /* SRV asked only for srv_ignored_by_port */
    bool done;
    int status;                       /* ARES_* */
    bool has_id;                      /* id is the DNS ID c-ares sent it with */
    uint16_t id;
    bool truncated;                   /* an answer for it came truncated over UDP: c-ares
                                       * retries it over TCP */
    bool tcp_refused;                 /* truncated, then ECONNREFUSED: TCP failed */
    int64_t ttl;                      /* -1 = unknown */
    unsigned nrecords;                /* records of the asked type in the answer */
    bool dot;                         /* SRV: a target "." */
    unsigned naddrs;
    char addrs[DNS_MAX_ADDRS][DNS_ADDR_MAX];
    char outcome[96];
};

struct srv_rec {
    uint16_t priority, weight, port;
    enum transport tp;
    unsigned order;                   /* service rank, then arrival: stable tie-break */
    char host[HOST_MAX + 1];
};

struct naptr_rec {
    uint16_t order, pref;
    enum transport tp;
    char replacement[DNS_NAME_BUF];
};

struct waiter {
    dns_callback cb;
    void *arg;
    uint64_t started;
    struct waiter *next;
};

enum mode { MODE_A, MODE_PORT, MODE_SRV };

struct check {
    struct dns *d;
    struct check *next;
    struct server s;
    bool dns_srv;
    enum mode mode;
    struct waiter *waiters;
    uint64_t started, deadline;
    int round;                        /* rounds begun */
    unsigned pending;                 /* queries out at c-ares */
    bool issuing, finished;
    enum dns_method method;
    int host_a, host_aaaa;            /* query index of the host's own A/AAAA, -1 none */
    unsigned nq;
    struct query q[DNS_MAX_QUERIES];
    int selected[DNS_MAX_QUERIES];    /* the SRV queries whose records count, in rank order */
    unsigned nselected;
    unsigned nnaptr;
    struct naptr_rec naptr[DNS_MAX_NAPTR];
    unsigned nsrv;
    struct srv_rec srv[DNS_MAX_SRV];
};

void dns_name_copy(char *dst, size_t n, const char *src);
int64_t dns_answer_ttl(const unsigned char *a, int alen);   /* -1 = unknown */
const char *dns_answer_outcome(int status);
void dns_answer_srv(struct query *q, const unsigned char *abuf, int alen);
void dns_answer_naptr(struct query *q, const unsigned char *abuf, int alen);
void dns_answer_addresses(struct query *q, const unsigned char *abuf, int alen);
void dns_found_init(struct dns_result *r, const struct server *s);
struct diag_list *dns_found_warnings(struct dns_result *r);
void dns_found_warn_local(struct dns_result *r);
void dns_found_lookups(struct dns_result *r, const struct check *c);
/* A query the outcome depends on whose answer was truncated over UDP and whose
 * TCP retry was refused: r->tcp_refused and a warning naming it. */
void dns_found_tcp_refused(struct dns_result *r, const struct check *c);
enum dns_status dns_found_srv_error(const struct check *c);
bool dns_found_srv_dot(const struct check *c);
void dns_found_from_host(struct dns_result *r, const struct check *c);
unsigned dns_found_srv_targets(struct check *c, struct srv_rec *out, unsigned max);
void dns_found_from_srv(struct dns_result *r, struct check *c);
void dns_found_literal(struct dns_result *r, const struct server *s, const char *norm);
uint64_t dns_now_ms(void);                 /* monotonic */
/* Runs the check's next round whenever nothing is outstanding; may free c. */
void dns_check_step(struct check *c);
/* RFC 3263 4.2: an explicit port means A/AAAA of the name only (SRV asked just
 * to warn, with dns_srv); dns_srv off likewise; otherwise NAPTR/SRV. (An IP
 * literal never gets this far: dns_check_start answers it.) */
enum mode dns_check_mode(const struct server *s, bool dns_srv);
/* The queries of round 1 for c->s, c->dns_srv and c->mode, added, not sent. */
void dns_check_plan_first(struct check *c);
/* Builds the result (or `forced` status), caches it, answers every waiter. */
void dns_check_finish(struct check *c, enum dns_status forced);
void dns_check_free(struct check *c);
/* dns.c's socket functions, on every datagram c-ares sends or reads: learn
 * the ID of the query being sent (d->sending), and mark the query an answer
 * truncated over UDP belongs to (c-ares takes it to TCP for that query only). */
void dns_check_sent(struct dns *d, const unsigned char *p, size_t n);
void dns_check_received(struct dns *d, const unsigned char *p, size_t n);
int dns_check_find_query(const struct check *c, int type, const char *name);
/* dns.c: keeps an ok result for its TTL (capped). */
void dns_cache_store(struct dns *d, const struct check *c, const struct dns_result *r);

#endif

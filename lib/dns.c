/* dns: see dns.h. RFC 3263 section 4 on c-ares 1.18.1 (TECH.md sections 1 and 4).
 *
 * One resolver thread owns the c-ares channel (1.18.1 is not thread-safe).
 * Other threads hand it jobs through a mutex-protected list and an eventfd.
 * A check is a small state machine that runs in rounds: every query of a round
 * goes out at once, and the next round starts when the last answer is in:
 *   round 1: NAPTR + the SRV names + the host's own A/AAAA (the fallback costs nothing)
 *   round 2: SRV names a NAPTR replacement points to that round 1 did not ask (rare)
 *   round 3: A/AAAA of every SRV target
 * The check's deadline is enforced here as well as through c-ares' timeout
 * and tries, so a silent DNS server gives DNS_TIMEOUT on time. */
#include "dns.h"

#include <ares.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DNS_MAX_QUERIES DNS_MAX_LOOKUPS
#define DNS_MAX_SRV 64            /* SRV records kept per check before sorting and capping */
#define DNS_MAX_NAPTR 8           /* 6 + 8 + 2 x 16 targets fit DNS_MAX_QUERIES */
#define DNS_CACHE_DEFAULT 64
#define DNS_ACTIVE_DEFAULT 64      /* checks with queries out; more wait their turn */
#define DNS_CACHE_TTL_MAX 300     /* seconds: a fixed DNS shows up within 5 minutes */
#define DNS_TRIES 2
#define DNS_NAME_BUF (HOST_MAX + 16)

/* ---------------------------------------------------------------- small helpers */

static int parse_u16(const char *s, uint16_t min, uint16_t *out);

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void copy_str(char *dst, size_t n, const char *src)
{
    size_t len = strnlen(src, n - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Appends to a bounded string; a note that does not fit is cut. */
__attribute__((format(printf, 3, 4)))
static void appendf(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strnlen(buf, n);
    if (len + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

static const char *tp_name(enum transport t)
{
    switch (t) {
    case TRANSPORT_UDP: return "udp";
    case TRANSPORT_TCP: return "tcp";
    case TRANSPORT_TLS: return "tls";
    default: return "auto";
    }
}

static int tp_from_name(const char *s, enum transport *out)
{
    static const enum transport all[] = { TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, tp_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    return -EINVAL;
}

/* The transport of a target found without SRV: auto -> udp (RFC 3263 4.1). */
static enum transport plain_transport(enum transport t)
{
    return t == TRANSPORT_AUTO ? TRANSPORT_UDP : t;
}

static uint16_t default_port(enum transport t)
{
    return t == TRANSPORT_TLS ? 5061 : 5060;
}

/* AF_INET / AF_INET6 for an IP literal, 0 otherwise; `norm` gets the canonical text. */
static int ip_literal(const char *s, char *norm, size_t n)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s, buf) == 1) {
        if (norm && !inet_ntop(AF_INET, buf, norm, (socklen_t)n))
            return 0;
        return AF_INET;
    }
    if (inet_pton(AF_INET6, s, buf) == 1) {
        if (norm && !inet_ntop(AF_INET6, buf, norm, (socklen_t)n))
            return 0;
        return AF_INET6;
    }
    return 0;
}

/* Labels of letters, digits and inner hyphens; `srv_owner` also allows a
 * leading "_label" (the _sip._udp part of a NAPTR replacement). */
static bool name_valid(const char *name, bool srv_owner)
{
    size_t len = strnlen(name, HOST_MAX + 2);
    if (len == 0 || len > HOST_MAX + 1)
        return false;
    if (name[len - 1] == '.')
        len--;                          /* one trailing dot: fully qualified */
    if (len == 0 || len > HOST_MAX)
        return false;
    size_t label = 0;
    bool underscore_ok = srv_owner;
    for (size_t i = 0; i <= len; i++) {
        char c = '.';                   /* the end closes the last label */
        if (i < len)
            c = name[i];
        if (c == '.') {
            if (label == 0 || label > 63 || name[i - 1] == '-')
                return false;
            label = 0;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (label == 0) {
            if (c == '_' && underscore_ok) {
                label++;
                continue;
            }
            underscore_ok = false;      /* "_x" labels only at the start of the name */
            if (!alnum)
                return false;
        } else if (!alnum && c != '-') {
            return false;
        }
        label++;
    }
    return true;
}

bool dns_name_valid(const char *name)
{
    return name && name_valid(name, false);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Copies a DNS name without its trailing dot, lower-cased. */
static void name_copy(char *dst, size_t n, const char *src)
{
    copy_str(dst, n, src);
    size_t len = strlen(dst);
    if (len > 0 && dst[len - 1] == '.')
        dst[len - 1] = '\0';
    lower(dst);
}

/* A printable, bounded rendering of an untrusted name for a note. */
static void quote(char *buf, size_t n, const char *s)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < n && o < 40; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '\'')
            buf[o++] = (char)*p;
        else
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", *p);
    }
    buf[o] = '\0';
}

/* ------------------------------------------------- TTLs from the raw answer */

static int skip_name(const unsigned char *a, int alen, int off)
{
    for (int hops = 0; hops < 128 && off < alen; hops++) {
        unsigned len = a[off];
        if ((len & 0xC0) == 0xC0)
            return off + 2 <= alen ? off + 2 : -1;
        if (len & 0xC0)
            return -1;
        if (len == 0)
            return off + 1;
        off += (int)len + 1;
    }
    return -1;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Smallest TTL of the answer section; for an answer without records the
 * negative TTL of the SOA in the authority section (RFC 2308). -1 = none. */
static int64_t answer_ttl(const unsigned char *a, int alen)
{
    if (!a || alen < 12)
        return -1;
    unsigned qd = (unsigned)a[4] << 8 | a[5], an = (unsigned)a[6] << 8 | a[7];
    unsigned ns = (unsigned)a[8] << 8 | a[9];
    int off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = skip_name(a, alen, off);
        if (off < 0 || off + 4 > alen)
            return -1;
        off += 4;
    }
    int64_t best = -1;
    for (unsigned i = 0; i < an + ns; i++) {
        off = skip_name(a, alen, off);
        if (off < 0 || off + 10 > alen)
            return best;
        unsigned type = (unsigned)a[off] << 8 | a[off + 1];
        uint32_t ttl = get32(a + off + 4) & 0x7fffffffu;
        unsigned rdlen = (unsigned)a[off + 8] << 8 | a[off + 9];
        off += 10;
        if (off + (int)rdlen > alen)
            return best;
        if (i >= an) {                  /* authority: only an SOA of a negative answer */
            if (an == 0 && type == T_SOA && rdlen >= 20) {
                uint32_t min = get32(a + off + rdlen - 4);
                int64_t neg = ttl < min ? ttl : min;
                if (best < 0 || neg < best)
                    best = neg;
            }
        } else if (best < 0 || ttl < best) {
            best = ttl;
        }
        off += (int)rdlen;
    }
    return best;
}

/* ------------------------------------------------------------ the check */

struct query {
    struct check *c;
    int type;                         /* T_NAPTR, T_SRV, T_A, T_AAAA */
    char name[DNS_NAME_BUF];          /* lower case, no trailing dot */
    enum transport tp;                /* SRV: the service's transport */
    bool warn_only;                   /* SRV asked only for srv_ignored_by_port */
    bool done;
    int status;                       /* ARES_* */
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
};

static void step(struct check *c);

static bool same_key(const struct server *a, bool a_srv, const struct server *b, bool b_srv)
{
    return a_srv == b_srv && a->port == b->port && a->transport == b->transport &&
           strcmp(a->host, b->host) == 0;
}

static const char *outcome_of(int status)
{
    switch (status) {
    case ARES_ENODATA: return "no records";
    case ARES_ENOTFOUND: return "NXDOMAIN (no such name)";
    case ARES_ESERVFAIL: return "SERVFAIL (server failure)";
    case ARES_EREFUSED: return "REFUSED";
    case ARES_ECONNREFUSED: return "no answer (connection refused: no DNS server there)";
    case ARES_ETIMEOUT: return "no answer (timeout)";
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return "no answer (cancelled)";
    case ARES_EFORMERR: return "FORMERR (server rejected the query)";
    case ARES_ENOTIMP: return "NOTIMP (server does not support it)";
    case ARES_EBADRESP: return "bad answer (malformed)";
    default: return ares_strerror(status);
    }
}

/* The dns_status an ares status stands for, when it is an error of the server
 * (not an answer about the name); DNS_OK when it is an answer. */
static enum dns_status error_status(int status)
{
    switch (status) {
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

static void add_srv_records(struct query *q, const unsigned char *abuf, int alen)
{
    struct check *c = q->c;
    struct ares_srv_reply *list = NULL;
    if (ares_parse_srv_reply(abuf, alen, &list) != ARES_SUCCESS) {
        snprintf(q->outcome, sizeof q->outcome, "bad answer (malformed SRV)");
        q->status = ARES_EBADRESP;
        return;
    }
    unsigned dropped = 0;
    char note[80] = "";
    for (struct ares_srv_reply *r = list; r; r = r->next) {
        q->nrecords++;
        if (r->host[0] == '\0' || strcmp(r->host, ".") == 0) {
            q->dot = true;                     /* RFC 2782: decidedly not available */
            continue;
        }
        const char *why = NULL;
        if (!name_valid(r->host, false))
            why = "not a host name";
        else if (r->port == 0)
            why = "port 0";
        if (why) {
            if (!dropped) {
                char qb[48];
                quote(qb, sizeof qb, r->host);
                snprintf(note, sizeof note, "'%s': %s", qb, why);
            }
            dropped++;
            continue;
        }
        if (q->warn_only || c->nsrv >= DNS_MAX_SRV)
            continue;
        struct srv_rec *s = &c->srv[c->nsrv];
        s->priority = r->priority;
        s->weight = r->weight;
        s->port = r->port;
        s->tp = q->tp;
        s->order = (unsigned)(q - c->q) + 1;  /* which query it came from */
        name_copy(s->host, sizeof s->host, r->host);
        c->nsrv++;
    }
    ares_free_data(list);
    snprintf(q->outcome, sizeof q->outcome, "%u record%s", q->nrecords, q->nrecords == 1 ? "" : "s");
    if (q->dot)
        appendf(q->outcome, sizeof q->outcome, ", target \".\" (no service)");
    if (dropped)
        appendf(q->outcome, sizeof q->outcome, ", %u dropped (%s)", dropped, note);
}

static enum transport naptr_transport(const char *service, bool *ok)
{
    *ok = true;
    if (strcasecmp(service, "SIP+D2U") == 0)
        return TRANSPORT_UDP;
    if (strcasecmp(service, "SIP+D2T") == 0)
        return TRANSPORT_TCP;
    if (strcasecmp(service, "SIPS+D2T") == 0)
        return TRANSPORT_TLS;
    *ok = false;                      /* SIP+D2S (SCTP), D2W (WebSocket): not ours */
    return TRANSPORT_AUTO;
}

static void add_naptr_records(struct query *q, const unsigned char *abuf, int alen)
{
    struct check *c = q->c;
    struct ares_naptr_reply *list = NULL;
    if (ares_parse_naptr_reply(abuf, alen, &list) != ARES_SUCCESS) {
        snprintf(q->outcome, sizeof q->outcome, "bad answer (malformed NAPTR)");
        q->status = ARES_EBADRESP;
        return;
    }
    unsigned skipped = 0;
    for (struct ares_naptr_reply *r = list; r; r = r->next) {
        q->nrecords++;
        bool ok;
        enum transport tp = naptr_transport((const char *)r->service, &ok);
        if (!ok || strcasecmp((const char *)r->flags, "s") != 0 ||
            !name_valid(r->replacement, true) || c->nnaptr >= DNS_MAX_NAPTR) {
            skipped++;
            continue;
        }
        struct naptr_rec *n = &c->naptr[c->nnaptr++];
        n->order = r->order;
        n->pref = r->preference;
        n->tp = tp;
        name_copy(n->replacement, sizeof n->replacement, r->replacement);
    }
    ares_free_data(list);
    snprintf(q->outcome, sizeof q->outcome, "%u record%s", q->nrecords, q->nrecords == 1 ? "" : "s");
    if (skipped)
        appendf(q->outcome, sizeof q->outcome, ", %u not usable (service or flags)", skipped);
}

static void add_addresses(struct query *q, const unsigned char *abuf, int alen)
{
    int family = q->type == T_A ? AF_INET : AF_INET6;
    struct hostent *he = NULL;
    int rc = q->type == T_A ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
                            : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
    if (rc != ARES_SUCCESS || !he) {
        q->status = rc == ARES_SUCCESS ? ARES_EBADRESP : rc;
        copy_str(q->outcome, sizeof q->outcome, outcome_of(q->status));
        return;
    }
    size_t o = 0;
    for (char **p = he->h_addr_list; p && *p; p++) {
        q->nrecords++;
        char text[DNS_ADDR_MAX];
        if (!inet_ntop(family, *p, text, sizeof text))
            continue;
        if (q->naddrs < DNS_MAX_ADDRS)
            copy_str(q->addrs[q->naddrs++], DNS_ADDR_MAX, text);
        if (o < sizeof q->outcome) {
            int w = snprintf(q->outcome + o, sizeof q->outcome - o, "%s%s", o ? ", " : "", text);
            if (w > 0 && o + (size_t)w >= sizeof q->outcome) {
                snprintf(q->outcome, sizeof q->outcome, "%u addresses", q->nrecords);
                o = sizeof q->outcome;   /* stop listing: the count says it */
            } else if (w > 0) {
                o += (size_t)w;
            }
        } else {
            snprintf(q->outcome, sizeof q->outcome, "%u addresses", q->nrecords);
        }
    }
    ares_free_hostent(he);
    if (q->nrecords == 0) {
        q->status = ARES_ENODATA;
        copy_str(q->outcome, sizeof q->outcome, outcome_of(q->status));
    }
}

static void check_free(struct check *c);

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct query *q = arg;
    struct check *c = q->c;
    q->done = true;
    q->status = status;
    q->ttl = answer_ttl(abuf, alen);
    if (status == ARES_SUCCESS) {
        if (q->type == T_SRV)
            add_srv_records(q, abuf, alen);
        else if (q->type == T_NAPTR)
            add_naptr_records(q, abuf, alen);
        else
            add_addresses(q, abuf, alen);
    } else {
        copy_str(q->outcome, sizeof q->outcome, outcome_of(status));
    }
    c->pending--;
    if (c->finished) {
        if (c->pending == 0)
            check_free(c);
        return;
    }
    step(c);
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
    name_copy(q->name, sizeof q->name, name);
    snprintf(q->outcome, sizeof q->outcome, "no answer (timeout)");
    return (int)c->nq++;
}

static int find_query(const struct check *c, int type, const char *name)
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
        ares_query(c->d->ch, fq, C_IN, c->q[i].type, query_cb, &c->q[i]);
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

/* ------------------------------------------------------------ results */

static void result_init(struct dns_result *r, const struct server *s)
{
    memset(r, 0, sizeof *r);
    r->server = *s;
    r->server.set = true;
}

static struct diag_list *warnings_of(struct dns_result *r)
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

static void warn_local(struct dns_result *r)
{
    for (unsigned i = 0; i < r->ntargets; i++) {
        const struct dns_target *t = &r->targets[i];
        for (unsigned k = 0; k < t->naddrs; k++) {
            const char *kind = local_kind(t->addrs[k]);
            if (!kind)
                continue;
            struct diag_list *w = warnings_of(r);
            if (w)
                diag_add(w, "host", "local_address",
                         "%s resolves to %s, %s address: the phone would send its SIP "
                         "requests to %s", t->host, t->addrs[k], kind,
                         strcmp(kind, "a loopback") == 0 ? "itself" : "no server");
            break;                      /* one warning per target */
        }
    }
}

static void fill_lookups(struct dns_result *r, const struct check *c)
{
    r->nlookups = 0;
    for (unsigned i = 0; i < c->nq && r->nlookups < DNS_MAX_LOOKUPS; i++) {
        const struct query *q = &c->q[i];
        struct dns_lookup *l = &r->lookups[r->nlookups++];
        copy_str(l->name, sizeof l->name, q->name);
        copy_str(l->type, sizeof l->type,
                 q->type == T_NAPTR ? "NAPTR" : q->type == T_SRV ? "SRV" : q->type == T_A ? "A" : "AAAA");
        copy_str(l->outcome, sizeof l->outcome, q->outcome);
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
        int qi = find_query(c, types[k], name);
        if (qi < 0)
            continue;
        const struct query *q = &c->q[qi];
        for (unsigned a = 0; a < q->naddrs && t->naddrs < DNS_MAX_ADDRS; a++)
            copy_str(t->addrs[t->naddrs++], DNS_ADDR_MAX, q->addrs[a]);
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
        enum dns_status e = error_status(qs[i]->status);
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
static enum dns_status srv_error(const struct check *c)
{
    for (unsigned i = 0; i < c->nselected; i++) {
        const struct query *q = &c->q[c->selected[i]];
        enum dns_status e = q->done ? error_status(q->status) : DNS_TIMEOUT;
        if (e != DNS_OK)
            return e;
    }
    return DNS_OK;
}

static bool srv_dot(const struct check *c)
{
    for (unsigned i = 0; i < c->nselected; i++)
        if (c->q[c->selected[i]].dot)
            return true;
    return false;
}

static void result_from_host(struct dns_result *r, const struct check *c)
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
        copy_str(t->host, sizeof t->host, c->s.host);
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
static unsigned srv_targets(struct check *c, struct srv_rec *out, unsigned max)
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

static void result_from_srv(struct dns_result *r, struct check *c)
{
    struct srv_rec *list = calloc(DNS_MAX_SRV, sizeof *list);
    r->method = c->method;
    if (!list) {
        r->status = DNS_SERVFAIL;
        return;
    }
    unsigned n = srv_targets(c, list, DNS_MAX_TARGETS);
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
        copy_str(t->host, sizeof t->host, list[i].host);
        target_addresses(c, t->host, t, &ttl, &have);
        if (t->naddrs)
            any_addr = true;
        static const int types[] = { T_A, T_AAAA };
        for (size_t k = 0; k < 2; k++) {
            int qi = find_query(c, types[k], t->host);
            enum dns_status e = qi < 0 ? DNS_OK
                              : c->q[qi].done ? error_status(c->q[qi].status) : DNS_TIMEOUT;
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

/* ------------------------------------------------------------ cache */

static void cache_store(struct dns *d, const struct check *c, const struct dns_result *r)
{
    bool cacheable = r->status == DNS_OK || r->status == DNS_NXDOMAIN ||
                     r->status == DNS_NO_RECORDS || r->status == DNS_UNAVAILABLE;
    if (!cacheable || r->ttl == 0 || d->cache_max == 0)
        return;
    uint64_t now = now_ms();
    struct cache_entry *slot = NULL;
    for (unsigned i = 0; i < d->ncache && !slot; i++)
        if (same_key(&d->cache[i].s, d->cache[i].dns_srv, &c->s, c->dns_srv) ||
            d->cache[i].expires <= now)
            slot = &d->cache[i];
    if (!slot && d->ncache < d->cache_max)
        slot = &d->cache[d->ncache++];
    if (!slot) {                        /* full: replace the entry closest to expiry */
        slot = &d->cache[0];
        for (unsigned i = 1; i < d->ncache; i++)
            if (d->cache[i].expires < slot->expires)
                slot = &d->cache[i];
    }
    struct dns_result *copy = dns_result_dup(r);
    if (!copy)
        return;
    dns_result_free(slot->r);
    slot->r = copy;
    slot->s = c->s;
    slot->dns_srv = c->dns_srv;
    slot->stored = now;
    uint32_t ttl = r->ttl < DNS_CACHE_TTL_MAX ? r->ttl : DNS_CACHE_TTL_MAX;
    slot->expires = now + (uint64_t)ttl * 1000u;
}

static const struct cache_entry *cache_find(struct dns *d, const struct server *s, bool dns_srv)
{
    uint64_t now = now_ms();
    for (unsigned i = 0; i < d->ncache; i++) {
        struct cache_entry *e = &d->cache[i];
        if (!e->r || e->expires <= now)
            continue;
        if (same_key(&e->s, e->dns_srv, s, dns_srv))
            return e;
    }
    return NULL;
}

/* ------------------------------------------------------------ finishing */

static void deliver(struct check *c, struct dns_result *r)
{
    uint64_t now = now_ms();
    for (struct waiter *w = c->waiters, *next; w; w = next) {
        next = w->next;
        r->elapsed_ms = (uint32_t)(now - w->started);
        w->cb(w->arg, r);
        free(w);
    }
    c->waiters = NULL;
}

static void finish(struct check *c, enum dns_status forced)
{
    struct dns_result *r = calloc(1, sizeof *r);
    c->finished = true;
    if (r) {
        result_init(r, &c->s);
        r->method = c->method;
        if (forced != DNS_OK) {
            r->status = forced;
        } else if (c->method == DNS_METHOD_A) {
            result_from_host(r, c);
        } else {
            result_from_srv(r, c);
        }
        fill_lookups(r, c);
        if (r->status != DNS_OK)
            r->ntargets = 0;
        if (r->status == DNS_OK)
            warn_local(r);
        if (c->mode == MODE_PORT) {
            for (unsigned i = 0; i < c->nq; i++) {
                const struct query *q = &c->q[i];
                if (q->type == T_SRV && q->nrecords > 0 && !q->dot) {
                    struct diag_list *w = warnings_of(r);
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
        cache_store(c->d, c, r);
        deliver(c, r);
        dns_result_free(r);
    } else {
        struct dns_result fallback;     /* out of memory: still answer every waiter */
        result_init(&fallback, &c->s);
        fallback.status = DNS_SERVFAIL;
        deliver(c, &fallback);
    }
    if (c->pending == 0)
        check_free(c);
}

static void check_free(struct check *c)
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

/* Round 1: everything that can go in parallel. */
static void round_first(struct check *c)
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
        int qi = find_query(c, T_SRV, c->naptr[i].replacement);
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
        finish(c, DNS_SERVFAIL);
        return false;
    }
    unsigned n = srv_targets(c, list, DNS_MAX_TARGETS);
    if (n == 0) {
        free(list);
        enum dns_status e;
        if (srv_dot(c))
            finish(c, DNS_UNAVAILABLE);
        else if ((e = srv_error(c)) != DNS_OK)
            finish(c, e);              /* cannot tell whether SRV exists */
        else {
            c->method = DNS_METHOD_A;  /* no SRV: the host's own A/AAAA, asked in round 1 */
            finish(c, DNS_OK);
        }
        return false;
    }
    unsigned from = c->nq;
    for (unsigned i = 0; i < n; i++) {
        if (find_query(c, T_A, list[i].host) < 0)
            add_query(c, T_A, list[i].host, TRANSPORT_AUTO);
        if (find_query(c, T_AAAA, list[i].host) < 0)
            add_query(c, T_AAAA, list[i].host, TRANSPORT_AUTO);
    }
    free(list);
    send_queries(c, from);
    return true;
}

/* Runs the next round whenever nothing is outstanding. */
static void step(struct check *c)
{
    while (!c->finished && c->pending == 0 && !c->issuing) {
        c->issuing = true;
        int round = c->round++;
        if (round == 0) {
            round_first(c);
        } else if (c->mode != MODE_SRV) {
            c->method = DNS_METHOD_A;
            finish(c, DNS_OK);
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
            finish(c, DNS_OK);
            return;
        }
        c->issuing = false;
    }
}

/* ------------------------------------------------------------ literals */

static void literal_result(struct dns_result *r, const struct server *s, const char *norm)
{
    result_init(r, s);
    r->status = DNS_OK;
    r->method = DNS_METHOD_LITERAL;
    r->ntargets = 1;
    struct dns_target *t = &r->targets[0];
    t->port = s->port ? s->port : default_port(s->transport);
    t->transport = plain_transport(s->transport);
    copy_str(t->host, sizeof t->host, s->host);
    t->naddrs = 1;
    copy_str(t->addrs[0], DNS_ADDR_MAX, norm);
    warn_local(r);
}

/* ------------------------------------------------------------ the thread */

/* Answers a job from the cache, joins it to an identical check in flight, or
 * starts a check if a slot is free. False: it must wait for a slot. */
static bool start_job(struct dns *d, struct job *j)
{
    const struct cache_entry *e = cache_find(d, &j->s, j->dns_srv);
    if (e) {
        struct dns_result *r = dns_result_dup(e->r);
        if (r) {
            uint64_t now = now_ms();
            r->from_cache = true;
            r->ttl = (uint32_t)((e->expires - now + 999) / 1000);
            r->elapsed_ms = (uint32_t)(now - j->started);
            j->cb(j->arg, r);
            dns_result_free(r);
            return true;
        }
    }
    struct check *same = NULL;
    for (struct check *c = d->checks; c && !same; c = c->next)
        if (!c->finished && same_key(&c->s, c->dns_srv, &j->s, j->dns_srv))
            same = c;
    if (!same && d->nchecks >= d->max_active)
        return false;
    struct waiter *w = malloc(sizeof *w);
    if (!w)
        goto fail;
    w->cb = j->cb;
    w->arg = j->arg;
    w->started = j->started;
    if (same) {
        w->next = same->waiters;       /* coalesce: the queries in flight answer both */
        same->waiters = w;
        return true;
    }
    struct check *c = calloc(1, sizeof *c);
    if (!c) {
        free(w);
        goto fail;
    }
    c->d = d;
    c->s = j->s;
    c->dns_srv = j->dns_srv;
    c->mode = j->s.port ? MODE_PORT : j->dns_srv ? MODE_SRV : MODE_A;
    c->method = c->mode == MODE_SRV ? DNS_METHOD_SRV : DNS_METHOD_A;
    c->started = j->started;
    c->deadline = j->started + d->timeout_ms;
    w->next = NULL;
    c->waiters = w;
    c->next = d->checks;
    d->checks = c;
    d->nchecks++;
    step(c);
    return true;
fail: {
        struct dns_result r;
        result_init(&r, &j->s);
        r.status = DNS_SERVFAIL;
        j->cb(j->arg, &r);
    }
    return true;
}

static void job_fail(struct job *j, enum dns_status status)
{
    struct dns_result r;
    result_init(&r, &j->s);
    r.status = status;
    r.method = j->s.port || !j->dns_srv ? DNS_METHOD_A : DNS_METHOD_SRV;
    r.elapsed_ms = (uint32_t)(now_ms() - j->started);
    j->cb(j->arg, &r);
}

/* Starts what the backlog allows, in arrival order; a job that waited past
 * its deadline completes with DNS_TIMEOUT. */
static void run_backlog(struct dns *d, uint64_t now)
{
    struct job **pp = &d->backlog;
    while (*pp) {
        struct job *j = *pp;
        bool done;
        if (now >= j->started + d->timeout_ms) {
            job_fail(j, DNS_TIMEOUT);
            done = true;
        } else {
            done = start_job(d, j);
        }
        if (done) {
            *pp = j->next;
            free(j);
        } else {
            pp = &j->next;
        }
    }
    d->backlog_tail = pp;
}

static void expire(struct dns *d, uint64_t now)
{
    for (struct check *c = d->checks, *next; c; c = next) {
        next = c->next;
        if (!c->finished && now >= c->deadline)
            finish(c, DNS_TIMEOUT);
    }
}

static int poll_timeout(struct dns *d, uint64_t now)
{
    uint64_t wait = UINT64_MAX;
    for (struct check *c = d->checks; c; c = c->next)
        if (!c->finished)
            wait = c->deadline > now ? (c->deadline - now < wait ? c->deadline - now : wait) : 0;
    for (struct job *j = d->backlog; j; j = j->next) {
        uint64_t deadline = j->started + d->timeout_ms;
        wait = deadline > now ? (deadline - now < wait ? deadline - now : wait) : 0;
    }
    struct timeval maxtv, tv, *tp;
    if (wait != UINT64_MAX) {
        maxtv.tv_sec = (time_t)(wait / 1000);
        maxtv.tv_usec = (suseconds_t)((wait % 1000) * 1000);
        tp = ares_timeout(d->ch, &maxtv, &tv);
    } else {
        tp = ares_timeout(d->ch, NULL, &tv);
    }
    if (!tp)
        return -1;
    return (int)(tp->tv_sec * 1000 + (tp->tv_usec + 999) / 1000);
}

static void *resolver_main(void *arg)
{
    struct dns *d = arg;
    for (;;) {
        uint64_t v;
        if (read(d->efd, &v, sizeof v) < 0) {
            /* EAGAIN: nothing queued */
        }
        pthread_mutex_lock(&d->mu);
        struct job *jobs = d->jobs;
        bool stopping = d->stopping;
        d->jobs = NULL;
        d->jobs_tail = &d->jobs;
        pthread_mutex_unlock(&d->mu);
        if (jobs) {
            *d->backlog_tail = jobs;
            while (*d->backlog_tail)
                d->backlog_tail = &(*d->backlog_tail)->next;
        }
        if (stopping)
            break;
        expire(d, now_ms());
        run_backlog(d, now_ms());

        struct pollfd pfd[ARES_GETSOCK_MAXNUM + 1];
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        int bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
        nfds_t n = 0;
        pfd[n++] = (struct pollfd){ .fd = d->efd, .events = POLLIN };
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = 0;
            /* the ARES_GETSOCK_* macros shift a signed 1 into bit 31 (UB) */
            if ((unsigned)bits >> i & 1u)
                ev |= POLLIN;
            if ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM) & 1u)
                ev |= POLLOUT;
            if (ev)
                pfd[n++] = (struct pollfd){ .fd = socks[i], .events = ev };
        }
        int rc = poll(pfd, n, poll_timeout(d, now_ms()));
        if (rc < 0 && errno != EINTR) {
            /* ENOMEM and the like: keep serving, never leave a caller waiting */
            struct timespec pause = { 0, 10000000L };
            nanosleep(&pause, NULL);
            continue;
        }
        for (nfds_t i = 1; rc > 0 && i < n; i++) {
            if (!pfd[i].revents)
                continue;
            bool rd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP);
            bool wr = pfd[i].revents & POLLOUT;
            ares_process_fd(d->ch, rd ? pfd[i].fd : ARES_SOCKET_BAD, wr ? pfd[i].fd : ARES_SOCKET_BAD);
        }
        ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);   /* retransmits, timeouts */
        expire(d, now_ms());
        run_backlog(d, now_ms());      /* slots freed above */
    }
    /* dns_free: every check still open completes with DNS_TIMEOUT; then the
     * channel goes, and its callbacks release the checks. */
    for (struct check *c = d->checks, *next; c; c = next) {
        next = c->next;
        if (!c->finished)
            finish(c, DNS_TIMEOUT);
    }
    for (struct job *j = d->backlog, *next; j; j = next) {
        next = j->next;
        job_fail(j, DNS_TIMEOUT);
        free(j);
    }
    d->backlog = NULL;
    d->backlog_tail = &d->backlog;
    return NULL;
}

static int sock_cb(ares_socket_t fd, int type, void *data)
{
    struct dns *d = data;
    (void)fd;
    if (type == SOCK_STREAM)
        atomic_fetch_add(&d->tcp, 1);
    return ARES_SUCCESS;
}

/* ------------------------------------------------------------ DNS server list */

#define DNS_SERVERS_MAX 8          /* entries of --dns-server, and addresses per name */
#define DNS_SERVERS_BUF 1024

/* Appends "IP:PORT" (IPv6 in brackets) to the c-ares list `out`, unless present. */
static int servers_append(char *out, size_t n, int family, const char *ip, unsigned port,
                          unsigned *count)
{
    char entry[DNS_ADDR_MAX + 16];
    snprintf(entry, sizeof entry, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
    size_t elen = strlen(entry), len = strlen(out);
    for (const char *p = out; (p = strstr(p, entry)) != NULL; p += elen)
        if ((p == out || p[-1] == ',') && (p[elen] == ',' || p[elen] == '\0'))
            return 0;                  /* the same server twice: once is enough */
    if (*count >= DNS_SERVERS_MAX || len + elen + 2 > n)
        return -EINVAL;
    snprintf(out + len, n - len, "%s%s", len ? "," : "", entry);
    (*count)++;
    return 0;
}

/* Adds one entry of --dns-server: IPv4[:PORT], [IPv6][:PORT], a bare IPv6, or
 * NAME[:PORT] (looked up once, here, with the system's resolver: IPv4 first).
 * PORT is 1..65535, default 53. */
static int servers_add_entry(const char *e, char *out, size_t n, unsigned *count)
{
    char host[HOST_MAX + 2];
    const char *port_text = NULL;
    size_t elen = strlen(e);
    if (elen == 0 || elen > HOST_MAX + 8)
        return -EINVAL;
    if (e[0] == '[') {
        const char *close = strchr(e, ']');
        if (!close || (size_t)(close - e - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, e + 1, (size_t)(close - e - 1));
        host[close - e - 1] = '\0';
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
        if (ip_literal(host, NULL, 0) != AF_INET6)
            return -EINVAL;
    } else {
        const char *colon = strchr(e, ':');
        if (colon && strchr(colon + 1, ':')) {   /* a bare IPv6 address: no port */
            if (elen >= sizeof host)
                return -EINVAL;
            memcpy(host, e, elen + 1);
            if (ip_literal(host, NULL, 0) != AF_INET6)
                return -EINVAL;
        } else {
            size_t hlen = colon ? (size_t)(colon - e) : elen;
            if (hlen == 0 || hlen >= sizeof host)
                return -EINVAL;
            memcpy(host, e, hlen);
            host[hlen] = '\0';
            if (colon)
                port_text = colon + 1;
        }
    }
    unsigned port = 53;
    if (port_text) {
        uint16_t p16;
        if (parse_u16(port_text, 1, &p16) < 0)
            return -EINVAL;
        port = p16;
    }
    char norm[DNS_ADDR_MAX];
    int family = ip_literal(host, norm, sizeof norm);
    if (family)
        return servers_append(out, n, family, norm, port, count);
    if (!name_valid(host, false))
        return -EINVAL;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -EINVAL;
    int rc = 0;
    unsigned added = 0;
    static const int order[] = { AF_INET, AF_INET6 };
    for (size_t k = 0; k < 2 && rc == 0; k++)
        for (const struct addrinfo *ai = res; ai && rc == 0 && added < DNS_SERVERS_MAX;
             ai = ai->ai_next) {
            if (ai->ai_family != order[k])
                continue;
            char ip[DNS_ADDR_MAX];
            const void *a = ai->ai_family == AF_INET
                                ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                                : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
            if (!inet_ntop(ai->ai_family, a, ip, sizeof ip))
                continue;
            rc = servers_append(out, n, ai->ai_family, ip, port, count);
            added++;
        }
    freeaddrinfo(res);
    return rc == 0 && added == 0 ? -EINVAL : rc;
}

/* --dns-server "HOST:PORT[,HOST:PORT]" into the IP:PORT list c-ares takes. */
static int servers_normalise(const char *list, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = strnlen(list, DNS_SERVERS_BUF);
    if (len == 0 || len >= DNS_SERVERS_BUF)
        return -EINVAL;
    char copy[DNS_SERVERS_BUF];
    memcpy(copy, list, len + 1);
    unsigned count = 0;
    for (char *p = copy;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int rc = servers_add_entry(p, out, n, &count);   /* an empty entry is an error */
        if (rc < 0)
            return rc;
        if (!comma)
            break;
        p = comma + 1;
    }
    return count ? 0 : -EINVAL;
}

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_status;
static void lib_init(void)
{
    lib_status = ares_library_init(ARES_LIB_INIT_ALL);
}

int dns_new(const struct dns_options *o, struct dns **out)
{
    *out = NULL;
    pthread_once(&lib_once, lib_init);
    if (lib_status != ARES_SUCCESS)
        return -ENOMEM;
    struct dns *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->efd = -1;
    d->timeout_ms = o && o->timeout_ms ? o->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
    d->cache_max = o && o->cache_max ? o->cache_max : DNS_CACHE_DEFAULT;
    d->jobs_tail = &d->jobs;
    d->backlog_tail = &d->backlog;
    d->max_active = o && o->max_active ? o->max_active : DNS_ACTIVE_DEFAULT;
    atomic_init(&d->queries, 0);
    atomic_init(&d->tcp, 0);
    int err = -ENOMEM;
    char servers[DNS_SERVERS_BUF];
    d->cache = calloc(d->cache_max, sizeof *d->cache);
    if (!d->cache)
        goto fail;

    struct ares_options ao;
    memset(&ao, 0, sizeof ao);
    /* NOCHECKRESP: SERVFAIL/REFUSED reach us as such (TECH.md 1.7). NOSEARCH:
     * names are asked exactly as given. No EDNS: a large answer is truncated and
     * retried over TCP, which every DNS server supports. */
    ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
    ao.tries = DNS_TRIES;
    ao.timeout = 1000;
    ao.lookups = (char *)"b";
    if (ares_init_options(&d->ch, &ao, ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS |
                                           ARES_OPT_LOOKUPS) != ARES_SUCCESS) {
        d->ch = NULL;
        goto fail;
    }
    if (o && o->servers) {
        err = servers_normalise(o->servers, servers, sizeof servers);
        if (err < 0 || ares_set_servers_ports_csv(d->ch, servers) != ARES_SUCCESS) {
            err = -EINVAL;
            goto fail;
        }
        err = -ENOMEM;
    }
    /* Per-try timeout so that the worst case of a silent server (tries with
     * doubling, over every server) ends within 3/4 of the deadline: round 1
     * then still reports "timeout" from c-ares, and our own deadline covers
     * the later rounds. */
    unsigned nservers = 0;
    struct ares_addr_port_node *list = NULL;
    if (ares_get_servers_ports(d->ch, &list) == ARES_SUCCESS) {
        for (struct ares_addr_port_node *p = list; p; p = p->next)
            nservers++;
        ares_free_data(list);
    }
    if (nservers == 0)
        nservers = 1;
    unsigned per_try = d->timeout_ms * 3 / 4 / (3 * nservers);   /* t + 2t per server */
    if (per_try < 20)
        per_try = 20;
    ares_destroy(d->ch);
    d->ch = NULL;
    ao.timeout = (int)per_try;
    if (ares_init_options(&d->ch, &ao, ARES_OPT_FLAGS | ARES_OPT_TRIES | ARES_OPT_TIMEOUTMS |
                                           ARES_OPT_LOOKUPS) != ARES_SUCCESS) {
        d->ch = NULL;
        goto fail;
    }
    if (o && o->servers && ares_set_servers_ports_csv(d->ch, servers) != ARES_SUCCESS) {
        err = -EINVAL;
        goto fail;
    }
    ares_set_socket_callback(d->ch, sock_cb, d);

    d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d->efd < 0) {
        err = -errno;
        goto fail;
    }
    if (pthread_mutex_init(&d->mu, NULL) != 0)
        goto fail;
    if (pthread_create(&d->thread, NULL, resolver_main, d) != 0) {
        pthread_mutex_destroy(&d->mu);
        goto fail;
    }
    d->thread_started = true;
    *out = d;
    return 0;
fail:
    if (d->ch)
        ares_destroy(d->ch);
    if (d->efd >= 0)
        close(d->efd);
    free(d->cache);
    free(d);
    return err;
}

static void wake(struct dns *d)
{
    uint64_t one = 1;
    if (write(d->efd, &one, sizeof one) < 0) {
        /* EAGAIN: the counter is already non-zero, the thread wakes anyway */
    }
}

void dns_free(struct dns *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = true;
    pthread_mutex_unlock(&d->mu);
    wake(d);
    pthread_join(d->thread, NULL);
    ares_destroy(d->ch);               /* outstanding queries call back and free their checks */
    for (struct check *c = d->checks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    for (unsigned i = 0; i < d->ncache; i++)
        dns_result_free(d->cache[i].r);
    free(d->cache);
    close(d->efd);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

int dns_check_start(struct dns *d, const struct server *s, bool dns_srv, dns_callback cb,
                    void *arg)
{
    if (!d || !s || !cb || !s->set)
        return -EINVAL;
    char norm[DNS_ADDR_MAX];
    if (ip_literal(s->host, norm, sizeof norm)) {   /* no DNS for an IP literal: answered here */
        struct dns_result *r = malloc(sizeof *r);
        if (!r)
            return -ENOMEM;
        literal_result(r, s, norm);
        cb(arg, r);
        dns_result_free(r);
        return 0;
    }
    if (!name_valid(s->host, false) || strnlen(s->host, HOST_MAX + 1) > HOST_MAX)
        return -EINVAL;
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->s = *s;
    name_copy(j->s.host, sizeof j->s.host, s->host);   /* one cache key per name */
    j->dns_srv = dns_srv;
    j->cb = cb;
    j->arg = arg;
    j->started = now_ms();
    pthread_mutex_lock(&d->mu);
    if (d->stopping) {
        pthread_mutex_unlock(&d->mu);
        free(j);
        return -ESHUTDOWN;
    }
    *d->jobs_tail = j;
    d->jobs_tail = &j->next;
    pthread_mutex_unlock(&d->mu);
    wake(d);
    return 0;
}

struct sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    struct dns_result *r;
};

static void sync_cb(void *arg, const struct dns_result *r)
{
    struct sync_wait *w = arg;
    struct dns_result *copy = dns_result_dup(r);
    pthread_mutex_lock(&w->mu);
    w->r = copy;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int dns_check(struct dns *d, const struct server *s, bool dns_srv, struct dns_result **out)
{
    struct sync_wait w = { .done = false, .r = NULL };
    *out = NULL;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = dns_check_start(d, s, dns_srv, sync_cb, &w);
    if (rc == 0) {
        pthread_mutex_lock(&w.mu);
        while (!w.done)
            pthread_cond_wait(&w.cv, &w.mu);
        pthread_mutex_unlock(&w.mu);
        if (!w.r)
            rc = -ENOMEM;
        *out = w.r;
    }
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return rc;
}

struct dns_result *dns_result_dup(const struct dns_result *r)
{
    struct dns_result *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *r;
    c->warnings = NULL;
    if (r->warnings) {
        c->warnings = malloc(sizeof *c->warnings);
        if (!c->warnings) {
            free(c);
            return NULL;
        }
        *c->warnings = *r->warnings;
    }
    return c;
}

void dns_result_free(struct dns_result *r)
{
    if (!r)
        return;
    free(r->warnings);
    free(r);
}

unsigned long dns_queries_sent(const struct dns *d)
{
    return atomic_load(&((struct dns *)d)->queries);
}

unsigned long dns_tcp_connections(const struct dns *d)
{
    return atomic_load(&((struct dns *)d)->tcp);
}

const char *dns_status_name(enum dns_status s)
{
    static const char *const names[] = { "ok", "nxdomain", "no_records", "unavailable",
                                         "servfail", "refused", "timeout", "skipped" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *dns_method_name(enum dns_method m)
{
    static const char *const names[] = { "literal", "naptr", "srv", "a" };
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "unknown";
}

/* ------------------------------------------------------------ JSON */

json_t *dns_result_to_json(const struct dns_result *r, const char *field)
{
    json_t *o = json_object();
    json_t *srv = json_object();
    json_t *targets = json_array();
    json_t *warns = json_array();
    json_t *lookups = json_array();
    if (!o || !srv || !targets || !warns || !lookups)
        goto fail;
    if (field)
        json_object_set_new(o, "field", json_string(field));
    json_object_set_new(srv, "host", json_string(r->server.host));
    json_object_set_new(srv, "port", r->server.port ? json_integer(r->server.port) : json_null());
    json_object_set_new(srv, "transport", json_string(tp_name(r->server.transport)));
    json_object_set_new(o, "server", srv);
    srv = NULL;
    json_object_set_new(o, "status", json_string(dns_status_name(r->status)));
    json_object_set_new(o, "method", json_string(dns_method_name(r->method)));
    for (unsigned i = 0; i < r->ntargets && i < DNS_MAX_TARGETS; i++) {
        const struct dns_target *t = &r->targets[i];
        json_t *addrs = json_array();
        for (unsigned k = 0; addrs && k < t->naddrs && k < DNS_MAX_ADDRS; k++)
            json_array_append_new(addrs, json_string(t->addrs[k]));
        json_t *jt = json_pack("{s:i,s:i,s:i,s:s,s:s,s:o}", "priority", (json_int_t)t->priority,
                               "weight", (json_int_t)t->weight, "port", (json_int_t)t->port,
                               "transport", tp_name(t->transport), "host", t->host,
                               "addresses", addrs ? addrs : json_array());
        if (jt)
            json_array_append_new(targets, jt);
    }
    json_object_set_new(o, "targets", targets);
    targets = NULL;
    json_object_set_new(o, "ttl", json_integer(r->ttl));
    json_object_set_new(o, "elapsed_ms", json_integer(r->elapsed_ms));
    for (size_t i = 0; r->warnings && i < r->warnings->n; i++) {
        const struct diag *dg = &r->warnings->item[i];
        char path[DIAG_FIELD_MAX];
        diag_path(path, sizeof path, field ? field : "", dg->field);
        json_t *jw = json_pack("{s:s,s:s,s:s}", "field", path, "code", dg->code,
                               "message", dg->message);
        if (jw)
            json_array_append_new(warns, jw);
    }
    json_object_set_new(o, "warnings", warns);
    warns = NULL;
    for (unsigned i = 0; i < r->nlookups && i < DNS_MAX_LOOKUPS; i++) {
        const struct dns_lookup *l = &r->lookups[i];
        json_t *jl = json_pack("{s:s,s:s,s:s}", "name", l->name, "type", l->type,
                               "outcome", l->outcome);
        if (jl)
            json_array_append_new(lookups, jl);
    }
    json_object_set_new(o, "lookups", lookups);
    return o;
fail:
    json_decref(o);
    json_decref(srv);
    json_decref(targets);
    json_decref(warns);
    json_decref(lookups);
    return NULL;
}

/* ------------------------------------------------------------ backups */

static bool has_addr(const struct dns_result *r, const char *addr)
{
    for (unsigned i = 0; i < r->ntargets; i++)
        for (unsigned k = 0; k < r->targets[i].naddrs; k++)
            if (strcmp(r->targets[i].addrs[k], addr) == 0)
                return true;
    return false;
}

void dns_compare_backup(const struct dns_result *primary, const struct dns_result *backup,
                        const char *field, struct diag_list *warns)
{
    if (!primary || !backup || !warns || primary->status != DNS_OK || backup->status != DNS_OK)
        return;
    /* Same = every address of the backup is one of the primary's: when the
     * primary's hosts are down, the backup is down with them. */
    unsigned n = 0;
    const char *first = NULL;
    for (unsigned i = 0; i < backup->ntargets; i++)
        for (unsigned k = 0; k < backup->targets[i].naddrs; k++) {
            if (!has_addr(primary, backup->targets[i].addrs[k]))
                return;
            if (!first)
                first = backup->targets[i].addrs[k];
            n++;
        }
    if (n == 0)
        return;
    diag_add(warns, field ? field : "", "backup_same_addresses",
             "the backup %s resolves to the same address%s as the primary %s (%s%s): it "
             "gives no protection when the primary fails", backup->server.host,
             n == 1 ? "" : "es", primary->server.host, first, n > 1 ? ", ..." : "");
}

/* ------------------------------------------------------------ flash form */

int dns_result_to_flash(const struct dns_result *r, char *buf, size_t n)
{
    if (!buf || n == 0)
        return -EINVAL;
    buf[0] = '\0';
    if (!r || r->status != DNS_OK)
        return -EINVAL;
    size_t cap = n - 1 < RESOLVED_MAX ? n - 1 : RESOLVED_MAX, len = 0;
    for (unsigned i = 0; i < r->ntargets && i < DNS_MAX_TARGETS; i++) {
        const struct dns_target *t = &r->targets[i];
        if (t->naddrs == 0)
            continue;                  /* nothing the SIP core could use */
        char entry[RESOLVED_MAX + 1];
        int w = snprintf(entry, sizeof entry, "%s%u %u %u %s %s ", len ? ";" : "",
                         (unsigned)t->priority, (unsigned)t->weight, (unsigned)t->port,
                         tp_name(t->transport), t->host);
        size_t el = w > 0 ? (size_t)w : 0;
        for (unsigned k = 0; k < t->naddrs && k < DNS_MAX_ADDRS && el < sizeof entry; k++) {
            w = snprintf(entry + el, sizeof entry - el, "%s%s", k ? "," : "", t->addrs[k]);
            el += w > 0 ? (size_t)w : 0;
        }
        if (el >= sizeof entry || len + el > cap)
            break;                     /* whole targets only: drop the rest */
        memcpy(buf + len, entry, el);
        len += el;
        buf[len] = '\0';
    }
    return 0;
}

static int parse_u16(const char *s, uint16_t min, uint16_t *out)
{
    if (!*s || strlen(s) > 5)
        return -EINVAL;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v < min || v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

static int parse_entry(char *e, struct dns_target *t)
{
    char *f[6];
    unsigned nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(e, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (nf >= 6)
            return -EINVAL;
        f[nf++] = tok;
    }
    if (nf != 6)
        return -EINVAL;
    memset(t, 0, sizeof *t);
    if (parse_u16(f[0], 0, &t->priority) || parse_u16(f[1], 0, &t->weight) ||
        parse_u16(f[2], 1, &t->port) || tp_from_name(f[3], &t->transport))
        return -EINVAL;
    if (strlen(f[4]) > HOST_MAX || (!name_valid(f[4], false) && !ip_literal(f[4], NULL, 0)))
        return -EINVAL;
    copy_str(t->host, sizeof t->host, f[4]);
    size_t alen = strlen(f[5]);
    if (f[5][0] == ',' || f[5][alen - 1] == ',' || strstr(f[5], ",,"))
        return -EINVAL;                /* strtok_r would skip empty addresses */
    for (char *a = strtok_r(f[5], ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (t->naddrs >= DNS_MAX_ADDRS || strlen(a) >= DNS_ADDR_MAX || !ip_literal(a, NULL, 0))
            return -EINVAL;
        copy_str(t->addrs[t->naddrs++], DNS_ADDR_MAX, a);
    }
    return t->naddrs ? 0 : -EINVAL;
}

int dns_targets_from_flash(const char *value, struct dns_target *targets, unsigned max,
                           unsigned *ntargets)
{
    *ntargets = 0;
    if (!value)
        return -EINVAL;
    size_t len = strnlen(value, RESOLVED_MAX + 1);
    if (len > RESOLVED_MAX)
        return -EINVAL;
    if (len == 0)
        return 0;
    char copy[RESOLVED_MAX + 1];
    memcpy(copy, value, len + 1);
    /* strict: single spaces, no empty entries, so a damaged value is noticed */
    if (copy[0] == ';' || copy[len - 1] == ';' || strstr(copy, ";;") || strstr(copy, "  ") ||
        strstr(copy, "; ") || strstr(copy, " ;") || copy[0] == ' ' || copy[len - 1] == ' ')
        return -EINVAL;
    unsigned n = 0;
    char *save = NULL;
    for (char *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        struct dns_target t;
        if (parse_entry(e, &t) < 0) {
            *ntargets = 0;
            return -EINVAL;
        }
        if (n < max)
            targets[n++] = t;          /* more than `max`: the first ones, in stored order */
    }
    *ntargets = n;
    return 0;
}

/* ------------------------------------------------------------ ordering */

void dns_targets_sort(struct dns_target *t, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {  /* insertion sort: stable, n <= 16 */
        struct dns_target x = t[i];
        unsigned j = i;
        while (j > 0 && (t[j - 1].priority > x.priority ||
                         (t[j - 1].priority == x.priority && t[j - 1].weight < x.weight))) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
}

void dns_rfc2782_order(struct dns_target *t, unsigned n, uint32_t (*rnd)(uint32_t bound, void *),
                       void *arg)
{
    /* priority ascending, stable */
    for (unsigned i = 1; i < n; i++) {
        struct dns_target x = t[i];
        unsigned j = i;
        while (j > 0 && t[j - 1].priority > x.priority) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
    for (unsigned lo = 0; lo < n;) {
        unsigned hi = lo;
        while (hi < n && t[hi].priority == t[lo].priority)
            hi++;
        /* RFC 2782: weight-0 records first in the unordered list */
        for (unsigned i = lo + 1; i < hi; i++) {
            struct dns_target x = t[i];
            unsigned j = i;
            while (j > lo && x.weight == 0 && t[j - 1].weight != 0) {
                t[j] = t[j - 1];
                j--;
            }
            t[j] = x;
        }
        for (unsigned pos = lo; pos + 1 < hi; pos++) {
            uint32_t sum = 0;
            for (unsigned i = pos; i < hi; i++)
                sum += t[i].weight;
            unsigned pick = pos;
            if (sum > 0) {
                uint32_t r = rnd(sum, arg);
                if (r > sum)
                    r = sum;
                uint32_t running = 0;
                for (unsigned i = pos; i < hi; i++) {
                    running += t[i].weight;
                    if (running >= r) {
                        pick = i;
                        break;
                    }
                }
            }
            /* take `pick` out and put it at `pos`, the rest keep their order */
            struct dns_target x = t[pick];
            memmove(&t[pos + 1], &t[pos], (pick - pos) * sizeof *t);
            t[pos] = x;
        }
        lo = hi;
    }
}

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
#include "dns_check.h"

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
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dns_servers.h"
#include "hostport.h"
#include "text.h"

#define DNS_CACHE_DEFAULT 64
#define DNS_ACTIVE_DEFAULT 64      /* checks with queries out; more wait their turn */
#define DNS_CACHE_TTL_MAX 300     /* seconds: a fixed DNS shows up within 5 minutes */
#define DNS_TRIES 2
/* ---------------------------------------------------------------- small helpers */

/* ------------------------------------------------------------ the check */

static bool same_key(const struct server *a, bool a_srv, const struct server *b, bool b_srv)
{
    return a_srv == b_srv && a->port == b->port && a->transport == b->transport &&
           strcmp(a->host, b->host) == 0;
}

/* ------------------------------------------------------------ cache */

void dns_cache_store(struct dns *d, const struct check *c, const struct dns_result *r)
{
    bool cacheable = r->status == DNS_OK || r->status == DNS_NXDOMAIN ||
                     r->status == DNS_NO_RECORDS || r->status == DNS_UNAVAILABLE;
    if (!cacheable || r->ttl == 0 || d->cache_max == 0)
        return;
    uint64_t now = dns_now_ms();
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
    uint64_t now = dns_now_ms();
    for (unsigned i = 0; i < d->ncache; i++) {
        struct cache_entry *e = &d->cache[i];
        if (!e->r || e->expires <= now)
            continue;
        if (same_key(&e->s, e->dns_srv, s, dns_srv))
            return e;
    }
    return NULL;
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
            uint64_t now = dns_now_ms();
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
    c->mode = dns_check_mode(&j->s, j->dns_srv);
    c->method = c->mode == MODE_SRV ? DNS_METHOD_SRV : DNS_METHOD_A;
    c->started = j->started;
    c->deadline = j->started + d->timeout_ms;
    w->next = NULL;
    c->waiters = w;
    c->next = d->checks;
    d->checks = c;
    d->nchecks++;
    dns_check_step(c);
    return true;
fail: {
        struct dns_result r;
        dns_found_init(&r, &j->s);
        r.status = DNS_SERVFAIL;
        j->cb(j->arg, &r);
    }
    return true;
}

static void job_fail(struct job *j, enum dns_status status)
{
    struct dns_result r;
    dns_found_init(&r, &j->s);
    r.status = status;
    r.method = j->s.port || !j->dns_srv ? DNS_METHOD_A : DNS_METHOD_SRV;
    r.elapsed_ms = (uint32_t)(dns_now_ms() - j->started);
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
            dns_check_finish(c, DNS_TIMEOUT);
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
        expire(d, dns_now_ms());
        run_backlog(d, dns_now_ms());

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
        int rc = poll(pfd, n, poll_timeout(d, dns_now_ms()));
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
        expire(d, dns_now_ms());
        run_backlog(d, dns_now_ms());      /* slots freed above */
    }
    /* dns_free: every check still open completes with DNS_TIMEOUT; then the
     * channel goes, and its callbacks release the checks. */
    for (struct check *c = d->checks, *next; c; c = next) {
        next = c->next;
        if (!c->finished)
            dns_check_finish(c, DNS_TIMEOUT);
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

/* Our own socket functions, the plain system calls, so that the datagrams
 * can be read on their way (dns_check_sent/_received): which query had a
 * truncated answer is known exactly, not guessed from timing. c-ares leaves
 * a socket it did not create as it is: non-blocking, close-on-exec and
 * TCP_NODELAY are set here. */
static ares_socket_t sock_open(int family, int type, int protocol, void *data)
{
    (void)data;
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd >= 0 && type == SOCK_STREAM) {
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
            /* only a latency hint: the connection works without it */
        }
    }
    return fd < 0 ? ARES_SOCKET_BAD : fd;
}

static int sock_close(ares_socket_t fd, void *data)
{
    (void)data;
    return close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *sa, ares_socklen_t len, void *data)
{
    (void)data;
    return connect(fd, sa, len);
}

/* c-ares passes `from` for a datagram only (a TCP read has none). */
static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags,
                                  struct sockaddr *from, ares_socklen_t *fromlen, void *data)
{
    ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
    if (n > 0 && from) {
        int saved = errno;
        dns_check_received(data, buf, (size_t)n);
        errno = saved;
    }
    return n;
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov, int iovcnt, void *data)
{
    struct dns *d = data;
    if (d->sending && iovcnt == 1) {   /* a datagram: one vector */
        int saved = errno;
        dns_check_sent(d, iov[0].iov_base, iov[0].iov_len);
        errno = saved;
    }
    return writev(fd, iov, iovcnt);
}

static const struct ares_socket_functions sock_funcs = {
    .asocket = sock_open,
    .aclose = sock_close,
    .aconnect = sock_connect,
    .arecvfrom = sock_recvfrom,
    .asendv = sock_sendv,
};

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
        err = dns_servers_normalise(o->servers, servers, sizeof servers);
        if (err < 0 || ares_set_servers_ports_csv(d->ch, servers) != ARES_SUCCESS) {
            err = -EINVAL;
            goto fail;
        }
        err = -ENOMEM;
    }
    /* Per-try timeout so that the worst case of a silent server (tries with
     * doubling, over every server) ends at the deadline, not before: an answer
     * that comes late but in time (to the first try, during the second) is
     * still taken. Our own deadline covers the later rounds. */
    unsigned nservers = 0;
    struct ares_addr_port_node *list = NULL;
    if (ares_get_servers_ports(d->ch, &list) == ARES_SUCCESS) {
        for (struct ares_addr_port_node *p = list; p; p = p->next)
            nservers++;
        ares_free_data(list);
    }
    if (nservers == 0)
        nservers = 1;
    unsigned per_try = d->timeout_ms / (3 * nservers);   /* t + 2t per server */
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
    ares_set_socket_functions(d->ch, &sock_funcs, d);

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
    if (host_ip_literal(s->host, norm, sizeof norm)) {   /* no DNS for an IP literal: answered here */
        struct dns_result *r = malloc(sizeof *r);
        if (!r)
            return -ENOMEM;
        dns_found_literal(r, s, norm);
        cb(arg, r);
        dns_result_free(r);
        return 0;
    }
    if (!dns_name_valid(s->host) || strnlen(s->host, HOST_MAX + 1) > HOST_MAX)
        return -EINVAL;
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return -ENOMEM;
    j->s = *s;
    dns_name_copy(j->s.host, sizeof j->s.host, s->host);   /* one cache key per name */
    j->dns_srv = dns_srv;
    j->cb = cb;
    j->arg = arg;
    j->started = dns_now_ms();
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


unsigned long dns_queries_sent(const struct dns *d)
{
    return atomic_load(&((struct dns *)d)->queries);
}

unsigned long dns_tcp_connections(const struct dns *d)
{
    return atomic_load(&((struct dns *)d)->tcp);
}

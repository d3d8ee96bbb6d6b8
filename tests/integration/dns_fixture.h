/* The servers test_dns.c and test_dns_load.c check against: a real dnsmasq
 * (Debian dnsmasq-base) started on a free loopback port and stopped by PID at
 * exit, even on failure; a UDP socket that never answers (timeout); a scripted
 * stub for SERVFAIL, late, truncated and malformed answers (THREATS.md
 * section 4); and the helpers both files use. Include once, from a test file. */
#ifndef SIPCFG_TEST_DNS_FIXTURE_H
#define SIPCFG_TEST_DNS_FIXTURE_H
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dns.h"
#include "dns_verdict.h"


/* Each including file uses a different part of the helpers. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

static pid_t dnsmasq_pid = -1;
static char dns_servers[64];          /* "127.0.0.1:PORT" of dnsmasq */
static int silent_fd = -1;            /* bound, never read */
static char silent_servers[64];
/* A scripted stub (fake_main below): its UDP socket, the same port over TCP
 * bound but not listening (a connection is refused), its thread. */
struct stub {
    int fd, tcp_fd;
    char servers[64];                 /* "127.0.0.1:PORT" */
    pthread_t thread;
    atomic_int stop;                  /* read by the stub's thread */
    bool running;
};
static struct stub servfail;          /* the one every test shares (group_setup) */

static void stop_dnsmasq(void)
{
    if (dnsmasq_pid > 0) {
        kill(dnsmasq_pid, SIGTERM);
        for (int i = 0; i < 50; i++) {   /* bounded: 5 s, then SIGKILL */
            if (waitpid(dnsmasq_pid, NULL, WNOHANG) == dnsmasq_pid) {
                dnsmasq_pid = -1;
                return;
            }
            usleep(100000);
        }
        kill(dnsmasq_pid, SIGKILL);
        waitpid(dnsmasq_pid, NULL, 0);
        dnsmasq_pid = -1;
    }
}

static void on_signal(int sig)
{
    if (dnsmasq_pid > 0)
        kill(dnsmasq_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A port free for both UDP and TCP on 127.0.0.1 (dnsmasq answers TCP on the same port). */
static int free_port(void)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int u = socket(AF_INET, SOCK_DGRAM, 0), t = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        int port = -1;
        if (u >= 0 && t >= 0 && bind(u, (struct sockaddr *)&a, sizeof a) == 0 &&
            getsockname(u, (struct sockaddr *)&a, &len) == 0 &&
            bind(t, (struct sockaddr *)&a, sizeof a) == 0)
            port = ntohs(a.sin_port);
        if (u >= 0)
            close(u);
        if (t >= 0)
            close(t);
        if (port > 0)
            return port;
    }
    return -1;
}

static int bind_udp(char *servers, size_t n)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(servers, n, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

/* A scripted DNS server for the faults of THREATS.md section 4, chosen by the
 * first label of the name asked:
 *   ok.*         A 192.0.2.1 (AAAA: no records)
 *   zerofirst.*  a 0-byte datagram first (CVE-2023-32067), then the ok answer
 *   badcount.*   ancount 5 with one record present
 *   ptrloop.*    the answer's owner name is a compression pointer to itself
 *   cut.*        RDLENGTH 4 with 2 bytes of RDATA
 *   wrongid.*    the ok answer with another transaction ID (must be ignored)
 *   late.*       the ok answer, LATE_MS after the question (each one)
 *   trunc.*      A: an empty answer with TC set (so c-ares retries over TCP, where
 *                the port is bound but not listening: refused); AAAA: no records
 *   quiet.*      never answered
 *   anything else: SERVFAIL.
 * Late answers are held for the shared stub only. */
#define LATE_MS 1500
#define LATE_MAX 16
struct late_answer {
    uint64_t due;
    struct sockaddr_storage to;
    socklen_t tolen;
    size_t len;
    unsigned char a[600];
};
static struct late_answer late[LATE_MAX];
static unsigned nlate;

static uint64_t now_ms(void);

/* Sends the held answers that are due; returns ms until the next one (or 50). */
static int send_late(int fd)
{
    int wait = 50;
    uint64_t now = now_ms();
    for (unsigned i = 0; i < nlate;) {
        if (late[i].due <= now) {
            sendto(fd, late[i].a, late[i].len, 0, (struct sockaddr *)&late[i].to,
                   late[i].tolen);
            late[i] = late[--nlate];
            continue;
        }
        if ((int)(late[i].due - now) < wait)
            wait = (int)(late[i].due - now);
        i++;
    }
    return wait;
}
static void *fake_main(void *arg)
{
    struct stub *st = arg;
    while (!st->stop) {
        struct pollfd p = { .fd = st->fd, .events = POLLIN };
        if (poll(&p, 1, send_late(st->fd)) <= 0)
            continue;
        unsigned char q[512], a[600];
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(st->fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
        if (n < 17)
            continue;
        size_t off = 12;                       /* end of the question's name */
        while (off < (size_t)n && q[off] != 0 && off + q[off] + 1 < (size_t)n)
            off += q[off] + 1u;
        size_t qend = off + 5;                 /* zero byte, type, class */
        if (qend > (size_t)n)
            continue;
        unsigned qtype = (unsigned)q[off + 1] << 8 | q[off + 2];
        char first[64] = "";
        if (q[12] < sizeof first) {
            memcpy(first, q + 13, q[12]);
            first[q[12]] = '\0';
        }
        memcpy(a, q, qend);
        a[2] = (unsigned char)(0x80 | (q[2] & 0x79));  /* QR, opcode and RD kept */
        a[3] = 0x80;                                   /* RA, NOERROR */
        memset(a + 6, 0, 6);
        size_t len = qend;
        bool ok_like = !strcmp(first, "ok") || !strcmp(first, "zerofirst") ||
                       !strcmp(first, "wrongid") || !strcmp(first, "late");
        bool known = ok_like || !strcmp(first, "badcount") || !strcmp(first, "ptrloop") ||
                     !strcmp(first, "cut") || !strcmp(first, "trunc");
        if (!strcmp(first, "quiet"))
            continue;
        if (!known) {
            a[3] = 0x82;                               /* SERVFAIL */
        } else if (!strcmp(first, "trunc")) {
            if (qtype == 1)
                a[2] |= 0x02;                          /* TC: "ask again over TCP" */
        } else if (qtype == 1) {                       /* A */
            static const unsigned char rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4,
                                                192, 0, 2, 1 };
            memcpy(a + len, rr, sizeof rr);
            a[7] = 1;
            if (!strcmp(first, "badcount"))
                a[7] = 5;
            if (!strcmp(first, "ptrloop")) {           /* pointer to its own offset */
                a[len] = (unsigned char)(0xc0 | (len >> 8));
                a[len + 1] = (unsigned char)(len & 0xff);
            }
            len += sizeof rr;
            if (!strcmp(first, "cut"))
                len -= 2;
        }
        if (!strcmp(first, "zerofirst"))
            sendto(st->fd, a, 0, 0, (struct sockaddr *)&from, flen);
        if (!strcmp(first, "wrongid"))
            a[1] ^= 0x55;
        if (!strcmp(first, "late") && st == &servfail && nlate < LATE_MAX) {
            struct late_answer *l = &late[nlate++];
            l->due = now_ms() + LATE_MS;
            l->to = from;
            l->tolen = flen;
            l->len = len;
            memcpy(l->a, a, len);
            continue;
        }
        sendto(st->fd, a, len, 0, (struct sockaddr *)&from, flen);
    }
    return NULL;
}

/* Starts a stub on a fresh loopback port. Its TCP port is held too, without
 * listen(): a connection is refused, and nothing else can listen there meanwhile. */
static int stub_start(struct stub *st)
{
    st->fd = st->tcp_fd = -1;
    st->running = false;
    atomic_init(&st->stop, 0);
    /* A port free over UDP may be taken over TCP: a few ports, bounded. */
    for (int attempt = 0; attempt < 20 && st->tcp_fd < 0; attempt++) {
        if (st->fd >= 0)
            close(st->fd);
        st->fd = bind_udp(st->servers, sizeof st->servers);
        if (st->fd < 0)
            return -1;
        struct sockaddr_in ta = { .sin_family = AF_INET,
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t tl = sizeof ta;
        if (getsockname(st->fd, (struct sockaddr *)&ta, &tl) != 0)
            return -1;
        st->tcp_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (st->tcp_fd >= 0 && bind(st->tcp_fd, (struct sockaddr *)&ta, sizeof ta) != 0) {
            close(st->tcp_fd);
            st->tcp_fd = -1;
        }
    }
    if (st->tcp_fd < 0)
        return -1;
    if (pthread_create(&st->thread, NULL, fake_main, st) != 0)
        return -1;
    st->running = true;
    return 0;
}

/* Stops the stub and closes its port: from then on nothing listens there
 * (ICMP port unreachable over UDP, refused over TCP). */
static void stub_stop(struct stub *st)
{
    if (st->running) {
        st->stop = 1;
        pthread_join(st->thread, NULL);
        st->running = false;
    }
    if (st->fd >= 0)
        close(st->fd);
    if (st->tcp_fd >= 0)
        close(st->tcp_fd);
    st->fd = st->tcp_fd = -1;
}

#define MAXARGS 128
static const char *fixed_args[] = {
    "--local-ttl=60",
    /* SRV with priorities and weights (dnsmasq order: target,port,priority,weight) */
    "--srv-host=_sip._udp.example.test,sip1.example.test,5060,10,60",
    "--srv-host=_sip._udp.example.test,sip2.example.test,5060,10,40",
    "--srv-host=_sip._udp.example.test,sip-backup.example.test,5062,20,0",
    "--srv-host=_sip._tcp.example.test,sip1.example.test,5060,10,0",
    "--srv-host=_sips._tcp.example.test,sip1.example.test,5061,10,0",
    "--naptr-record=example.test,10,50,s,SIPS+D2T,,_sips._tcp.example.test",
    "--naptr-record=example.test,20,50,s,SIP+D2T,,_sip._tcp.example.test",
    "--naptr-record=example.test,30,50,s,SIP+D2U,,_sip._udp.example.test",
    "--naptr-record=example.test,40,50,s,SIP+D2S,,_sip._sctp.example.test",
    "--host-record=sip1.example.test,192.0.2.11,2001:db8::11",
    "--host-record=sip2.example.test,192.0.2.12,2001:db8::12",
    "--host-record=sip-backup.example.test,192.0.2.20",
    /* a NAPTR whose replacement is not one of the standard SRV names */
    "--naptr-record=alt.test,10,50,s,SIP+D2U,,_sip._udp.other.test",
    "--srv-host=_sip._udp.other.test,sip2.example.test,5080,5,0",
    /* SRV and an A record at one name: explicit port / dns_srv off */
    "--host-record=pbx.test,192.0.2.30",
    "--srv-host=_sip._udp.pbx.test,sip1.example.test,5060,10,10",
    "--host-record=aonly.test,192.0.2.50",
    "--host-record=v6only.test,2001:db8::99",
    "--txt-record=txtonly.test,only text here",
    "--srv-host=_sip._udp.noservice.test",             /* target "." */
    "--host-record=noservice.test,192.0.2.40",          /* must not be used */
    "--srv-host=_sip._udp.odd.test,a;b.test,5060,10,0",
    "--srv-host=_sip._udp.odd.test,a b.test,5060,10,0",
    "--srv-host=_sip._udp.odd.test,sip1.example.test,5070,20,0",
    "--srv-host=_sip._udp.zeroport.test,sip1.example.test,0,10,0",
    "--srv-host=_sip._udp.looptarget.test,loopback.test,5060,10,0",
    "--host-record=loopback.test,127.0.0.1",
    "--host-record=backup-same.test,192.0.2.11",
    /* TTLs of their own (issue 7: the cache's expiry and its 300 s cap) */
    "--host-record=ttl1.test,192.0.2.61,2001:db8::61,1",
    "--host-record=ttlbig.test,192.0.2.62,2001:db8::62,9999",
};

static int start_dnsmasq(void)
{
    static char big[30][96], bighosts[30][96];
    char port_arg[32];
    int port = free_port();
    if (port < 0)
        return -1;
    snprintf(port_arg, sizeof port_arg, "--port=%d", port);
    snprintf(dns_servers, sizeof dns_servers, "127.0.0.1:%d", port);
    const char *argv[MAXARGS];
    int n = 0;
    argv[n++] = "/usr/sbin/dnsmasq";
    argv[n++] = "--keep-in-foreground";
    argv[n++] = port_arg;
    argv[n++] = "--listen-address=127.0.0.1";
    argv[n++] = "--bind-interfaces";
    argv[n++] = "--no-resolv";
    argv[n++] = "--no-hosts";
    argv[n++] = "--conf-file=/dev/null";
    argv[n++] = "--local=/test/";
    for (size_t i = 0; i < sizeof fixed_args / sizeof fixed_args[0]; i++)
        argv[n++] = fixed_args[i];
    /* 30 SRV records at one name: more than a 512-byte UDP answer holds */
    for (int i = 0; i < 30; i++) {
        snprintf(big[i], sizeof big[i], "--srv-host=_sip._udp.big.test,server-number-%02d.big.test,%d,%d,%d",
                 i, 5060 + i, 10 + i % 3, 10 * (i % 5));
        snprintf(bighosts[i], sizeof bighosts[i], "--host-record=server-number-%02d.big.test,192.0.2.%d",
                 i, 100 + i);
        argv[n++] = big[i];
        argv[n++] = bighosts[i];
    }
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive a crashed test */
        if (getppid() != parent)
            _exit(127);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    dnsmasq_pid = pid;
    /* wait until it answers: bounded, 50 x 100 ms */
    struct dns_options o = { .servers = dns_servers, .timeout_ms = 200 };
    struct dns *d;
    if (dns_new(&o, &d) != 0)
        return -1;
    struct server s = { .set = true, .host = "aonly.test", .port = 0, .transport = TRANSPORT_UDP };
    int ok = -1;
    for (int i = 0; i < 50 && ok != 0; i++) {
        struct dns_result *r = NULL;
        if (dns_check(d, &s, false, &r) == 0 && r->status == DNS_OK)
            ok = 0;
        dns_result_free(r);
        if (ok != 0) {
            if (waitpid(dnsmasq_pid, NULL, WNOHANG) == dnsmasq_pid) {
                dnsmasq_pid = -1;
                break;
            }
            usleep(100000);
            dns_free(d);                 /* a fresh resolver: no cached failure */
            if (dns_new(&o, &d) != 0)
                return -1;
        }
    }
    dns_free(d);
    return ok;
}

static int group_setup(void **state)
{
    (void)state;
    atexit(stop_dnsmasq);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (start_dnsmasq() != 0) {
        fprintf(stderr, "dnsmasq did not start\n");
        return -1;
    }
    silent_fd = bind_udp(silent_servers, sizeof silent_servers);
    if (silent_fd < 0 || stub_start(&servfail) != 0) {
        fprintf(stderr, "the stub DNS servers did not start\n");
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stub_stop(&servfail);
    close(silent_fd);
    stop_dnsmasq();
    return 0;
}

/* ---------------------------------------------------------------- helpers */

static struct dns *new_dns(const char *servers, unsigned timeout_ms)
{
    struct dns_options o = { .servers = servers, .timeout_ms = timeout_ms };
    struct dns *d = NULL;
    assert_int_equal(dns_new(&o, &d), 0);
    return d;
}

static struct server srv(const char *host, uint16_t port, enum transport t)
{
    struct server s = { .set = true, .port = port, .transport = t };
    snprintf(s.host, sizeof s.host, "%s", host);
    return s;
}

static struct dns_result *check(struct dns *d, const char *host, uint16_t port, enum transport t,
                                bool dns_srv)
{
    struct server s = srv(host, port, t);
    struct dns_result *r = NULL;
    assert_int_equal(dns_check(d, &s, dns_srv, &r), 0);
    assert_non_null(r);
    return r;
}

static const struct dns_lookup *lookup(const struct dns_result *r, const char *name, const char *type)
{
    for (unsigned i = 0; i < r->nlookups; i++)
        if (strcmp(r->lookups[i].name, name) == 0 && strcmp(r->lookups[i].type, type) == 0)
            return &r->lookups[i];
    return NULL;
}

static bool has_warning(const struct dns_result *r, const char *code)
{
    for (size_t i = 0; r->warnings && i < r->warnings->n; i++)
        if (strcmp(r->warnings->item[i].code, code) == 0)
            return true;
    return false;
}

static void assert_target(const struct dns_target *t, const char *host, unsigned port,
                          enum transport tp, unsigned prio, unsigned weight)
{
    assert_string_equal(t->host, host);
    assert_int_equal(t->port, port);
    assert_int_equal(t->transport, tp);
    assert_int_equal(t->priority, prio);
    assert_int_equal(t->weight, weight);
}

/* ---------------------------------------------------------------- tests */

#pragma GCC diagnostic pop
#endif

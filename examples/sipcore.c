/* sipcore: what a phone's SIP core does with libsipcfg, as a small program.
 * It uses nothing but include/sipcfg.h: opens the flash image, prints where
 * each enabled line's requests go, and prints it again whenever the web admin
 * (or the CLI) commits a new generation.
 *
 *   sipcore [--interval-ms MS] [--count N] IMAGE
 *
 * For each enabled line, hops in the order the SIP core tries them:
 *   the outbound proxy (when set), then the proxy's last good targets in
 *   order (or the proxy itself when no check stored any), then the backup
 *   proxy likewise. "--count N" stops after N printouts (tests); otherwise it
 *   runs until SIGINT/SIGTERM. Exit status 0, or 1 when the image cannot be read. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sipcfg.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void print_server(unsigned line, unsigned *hop, const char *field,
                         const struct sipcfg_server *s)
{
    if (!s->set)
        return;
    const char *lb = strchr(s->host, ':') ? "[" : "", *rb = *lb ? "]" : "";
    if (s->ntargets == 0) {
        /* Nothing stored: the SIP core resolves the name itself (RFC 3263). */
        printf("line %u hop %u: %s %s%s%s", line, ++*hop, field, lb, s->host, rb);
        if (s->port)
            printf(":%u", s->port);
        printf(" %s (no stored targets)\n", s->transport);
        return;
    }
    for (unsigned i = 0; i < s->ntargets && i < SIPCFG_MAX_TARGETS; i++) {
        const struct sipcfg_target *t = &s->targets[i];
        printf("line %u hop %u: %s %s -> %s %s:%u priority %u weight %u addrs", line, ++*hop,
               field, s->host, t->transport, t->host, t->port, t->priority, t->weight);
        for (unsigned a = 0; a < t->naddrs && a < SIPCFG_MAX_ADDRS; a++)
            printf("%s%s", a ? "," : " ", t->addrs[a]);
        printf("\n");
    }
}

static int print_routing(const sipcfg *c)
{
    struct sipcfg_line l;
    printf("generation %u\n", (unsigned)sipcfg_generation(c));
    for (unsigned n = 1; n <= sipcfg_lines(c); n++) {
        if (sipcfg_get_line(c, n, &l) < 0 || !l.enabled)
            continue;
        unsigned hop = 0;
        printf("line %u: %s@%s%s\n", n, l.user, l.domain[0] ? l.domain : l.proxy.host,
               l.reg ? "" : " (no REGISTER)");
        print_server(n, &hop, "outbound_proxy", &l.outbound_proxy);
        print_server(n, &hop, "proxy", &l.proxy);
        print_server(n, &hop, "backup_proxy", &l.backup_proxy);
        memset(l.password, 0, sizeof l.password);
    }
    printf("end\n");
    return fflush(stdout) == 0 ? 0 : -EIO;
}

static int usage(void)
{
    fprintf(stderr, "usage: sipcore [--interval-ms 10..60000] [--count N] IMAGE\n");
    return 2;
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    long interval_ms = 500, count = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
            if (parse_long(argv[++i], 10, 60000, &interval_ms) < 0)
                return usage();
        } else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
            if (parse_long(argv[++i], 1, 1000000, &count) < 0)
                return usage();
        } else if (argv[i][0] != '-' && !path) {
            path = argv[i];
        } else {
            return usage();
        }
    }
    if (!path)
        return usage();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    sipcfg *c;
    int rc = sipcfg_open(path, &c);
    if (rc < 0) {
        fprintf(stderr, "sipcore: %s: %s\n", path, sipcfg_strerror(rc));
        return 1;
    }
    long printed = 0;
    rc = print_routing(c);
    printed++;
    const struct timespec nap = {interval_ms / 1000, (interval_ms % 1000) * 1000000L};
    while (rc == 0 && !stop && (!count || printed < count)) {
        nanosleep(&nap, NULL);
        int ch = sipcfg_changed(c);
        if (ch < 0) {
            fprintf(stderr, "sipcore: %s: %s (keeping what was loaded)\n", path,
                    sipcfg_strerror(ch));
            continue;
        }
        if (ch == 0)
            continue;
        int r = sipcfg_reload(c);
        if (r < 0) {
            fprintf(stderr, "sipcore: %s: reload: %s (keeping what was loaded)\n", path,
                    sipcfg_strerror(r));
            continue;
        }
        rc = print_routing(c);
        printed++;
    }
    sipcfg_close(c);
    return rc < 0 ? 1 : 0;
}

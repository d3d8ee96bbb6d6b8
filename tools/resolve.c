/* sipcfg resolve: the live DNS check of API.md section 4 from the command
 * line, for a person (which lookups were made, what each returned, the
 * targets in the order the phone tries them) or as the JSON resolution.
 * All logic is in lib/dns*.c; this file parses options and prints. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "diag.h"
#include "dns.h"
#include "hostport.h"

#define TIMEOUT_MAX_MS 60000

static void resolve_usage(FILE *f)
{
    fprintf(f,
            "usage: sipcfg resolve [--dns-server HOST:PORT[,HOST:PORT]] [--no-srv] [--json]\n"
            "                      [--timeout-ms MS] SERVER\n"
            "  SERVER            pbx.example.com, pbx.example.com:5062, [2001:db8::1]:5060,\n"
            "                    sip:pbx.example.com;transport=tcp, sips:pbx.example.com\n"
            "  --dns-server      DNS servers as HOST:PORT (IPv6 in brackets, port 1..65535,\n"
            "                    default 53); default: the system's\n"
            "  --no-srv          A/AAAA only, as a line with dns_srv off\n"
            "  --json            print the resolution object (API.md section 4)\n"
            "  --timeout-ms MS   deadline of the whole check, 1..%d (default %d)\n"
            "Exit status: 0 ok, 1 any other DNS outcome, 2 usage error or malformed SERVER.\n",
            TIMEOUT_MAX_MS, DNS_DEFAULT_TIMEOUT_MS);
}

__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "sipcfg resolve: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    resolve_usage(stderr);
    return 2;
}

static int parse_ms(const char *s, unsigned *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || end == s || v < 1 || v > TIMEOUT_MAX_MS)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

/* What a status means, in words, for the last line. */
static const char *explain(const struct dns_result *r, unsigned timeout_ms, char *buf, size_t n)
{
    switch (r->status) {
    case DNS_OK: return "";
    case DNS_NXDOMAIN:
        snprintf(buf, n, ": %s does not exist", r->server.host);
        return buf;
    case DNS_NO_RECORDS:
        if (r->method == DNS_METHOD_SRV || r->method == DNS_METHOD_NAPTR)
            snprintf(buf, n, ": no SRV target of %s has an address", r->server.host);
        else
            snprintf(buf, n, ": %s exists but has no SRV record and no address", r->server.host);
        return buf;
    case DNS_UNAVAILABLE:
        return ": the domain says it offers no SIP service there (SRV target \".\")";
    case DNS_SERVFAIL: return ": the DNS server failed to answer (SERVFAIL)";
    case DNS_REFUSED:
        return r->tcp_refused ? ": its answer was truncated over UDP and the DNS server's TCP port "
                                "refused the connection"
                              : ": the DNS server refused the query";
    case DNS_TIMEOUT:
        for (unsigned i = 0; i < r->nlookups; i++)
            if (strstr(r->lookups[i].outcome, "connection refused"))
                return ": no DNS server answers at that address (connection refused)";
        snprintf(buf, n, ": no answer from the DNS server within %u ms", timeout_ms);
        return buf;
    default: return "";
    }
}

static void print_target(unsigned i, const struct dns_target *t)
{
    bool v6 = strchr(t->host, ':') != NULL;
    printf("  %u. %s%s%s:%u %s  priority %u weight %u  ", i + 1, v6 ? "[" : "", t->host,
           v6 ? "]" : "", (unsigned)t->port, transport_name(t->transport), (unsigned)t->priority,
           (unsigned)t->weight);
    if (t->naddrs == 0)
        printf("(no address)");
    for (unsigned k = 0; k < t->naddrs; k++)
        printf("%s%s", k ? ", " : "", t->addrs[k]);
    printf("\n");
}

static void print_person(const struct dns_result *r, bool dns_srv, const char *servers,
                         unsigned timeout_ms)
{
    char where[HOST_MAX + 16];
    bool v6 = strchr(r->server.host, ':') != NULL;
    if (r->server.port)
        snprintf(where, sizeof where, "%s%s%s:%u", v6 ? "[" : "", r->server.host, v6 ? "]" : "",
                 (unsigned)r->server.port);
    else
        snprintf(where, sizeof where, "%s", r->server.host);
    if (r->method == DNS_METHOD_LITERAL) {
        printf("Checking %s (transport %s): an IP address, no DNS lookup\n", where,
               transport_name(r->server.transport));
    } else {
        printf("Checking %s (transport %s, SRV %s) via %s\n", where,
               transport_name(r->server.transport), dns_srv ? "on" : "off",
               servers ? servers : "the system's DNS servers");
    }
    int width = 0;
    for (unsigned i = 0; i < r->nlookups; i++) {
        int len = (int)strlen(r->lookups[i].name);
        if (len > width)
            width = len;
    }
    for (unsigned i = 0; i < r->nlookups; i++)
        printf("  %-5s %-*s  %s\n", r->lookups[i].type, width, r->lookups[i].name,
               r->lookups[i].outcome);
    if (r->ntargets) {
        printf("Targets, in the order the phone tries them:\n");
        for (unsigned i = 0; i < r->ntargets; i++)
            print_target(i, &r->targets[i]);
    }
    for (size_t i = 0; r->warnings && i < r->warnings->n; i++)
        printf("Warning: %s (%s)\n", r->warnings->item[i].message, r->warnings->item[i].code);
    char why[HOST_MAX + 96];
    if (r->status == DNS_OK)
        printf("Result: ok (%s, ttl %u s, %u ms%s)\n", dns_method_name(r->method), (unsigned)r->ttl,
               (unsigned)r->elapsed_ms, r->from_cache ? ", from cache" : "");
    else
        printf("Result: %s (%s, %u ms)%s\n", dns_status_name(r->status), dns_method_name(r->method),
               (unsigned)r->elapsed_ms, explain(r, timeout_ms, why, sizeof why));
}

int cli_resolve(int argc, char **argv)
{
    static const struct option opts[] = {
        { "dns-server", required_argument, NULL, 'd' },
        { "no-srv", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "timeout-ms", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *servers = NULL;
    bool dns_srv = true, as_json = false;
    unsigned timeout_ms = DNS_DEFAULT_TIMEOUT_MS;
    int c;
    optind = 0;                        /* glibc: a full restart for this argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': servers = optarg; break;
        case 'n': dns_srv = false; break;
        case 'j': as_json = true; break;
        case 't':
            if (parse_ms(optarg, &timeout_ms) < 0)
                return usage_error("--timeout-ms: '%s' is not a number of milliseconds from 1 to 60000",
                                   optarg);
            break;
        case 'h': resolve_usage(stdout); return 0;
        default:
            return usage_error("unknown option or missing value: '%s'",
                               optind > 0 && optind <= argc ? argv[optind - 1] : "?");
        }
    }
    if (optind >= argc)
        return usage_error("no SERVER given");
    if (argc - optind > 1)
        return usage_error("one SERVER only; also got '%s'", argv[optind + 1]);

    const char *text = argv[optind];
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    if (server_parse(text, &s, "server", &errs) < 0) {
        char q[64];
        fprintf(stderr, "sipcfg resolve: '%s' is not a server:\n", diag_quote(q, sizeof q, text));
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "  %s: %s (%s)\n", errs.item[i].field, errs.item[i].message,
                    errs.item[i].code);
        return 2;
    }

    struct dns_options o = { .servers = servers, .timeout_ms = timeout_ms };
    struct dns *d = NULL;
    int rc = dns_new(&o, &d);
    if (rc == -EINVAL) {
        char q[64];
        fprintf(stderr, "sipcfg resolve: --dns-server '%s': expected HOST:PORT[,HOST:PORT] "
                "(an IP address or a name that resolves; IPv6 in brackets: [::1]:53; "
                "port 1..65535)\n", diag_quote(q, sizeof q, servers));
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "sipcfg resolve: cannot start the resolver: %s\n", strerror(-rc));
        return 1;
    }
    struct dns_result *r = NULL;
    rc = dns_check(d, &s, dns_srv, &r);
    dns_free(d);
    if (rc < 0 || !r) {
        fprintf(stderr, "sipcfg resolve: %s: %s\n", text, strerror(rc < 0 ? -rc : ENOMEM));
        return rc == -EINVAL ? 2 : 1;
    }
    if (as_json) {
        json_t *j = dns_result_to_json(r, NULL);
        char *out = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
        if (out)
            printf("%s\n", out);
        free(out);
        json_decref(j);
        if (!out) {
            dns_result_free(r);
            return 1;
        }
    } else {
        print_person(r, dns_srv, servers, timeout_ms);
    }
    int status = r->status == DNS_OK ? 0 : 1;
    dns_result_free(r);
    return status;
}

/* dns: what a check makes of its answers, with no DNS server: the answers are
 * written into a check by hand (lib/dns_check.h, the resolver's private
 * state) and the result is built from them. SRV order (RFC 2782: priority
 * ascending, then weight descending), how NXDOMAIN and the other answer codes
 * map to a status, and the explicit-port rule (RFC 3263 4.2: a port, or an IP
 * literal, skips NAPTR and SRV). The dnsmasq tests hold the same against a
 * real server; these fail on their own when the rule is broken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ares.h>
#include <ares_nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_check.h"

static struct check *new_check(const char *host, uint16_t port, enum transport tp, bool dns_srv)
{
    struct check *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->s.set = true;
    c->s.port = port;
    c->s.transport = tp;
    snprintf(c->s.host, sizeof c->s.host, "%s", host);
    c->dns_srv = dns_srv;
    c->mode = dns_check_mode(&c->s, dns_srv);
    c->method = c->mode == MODE_SRV ? DNS_METHOD_SRV : DNS_METHOD_A;
    c->host_a = c->host_aaaa = -1;
    return c;
}

/* A query as if it had been sent and answered with `status`. */
static int answered(struct check *c, int type, const char *name, int status)
{
    int qi = dns_check_find_query(c, type, name);
    if (qi < 0) {
        assert_true(c->nq < DNS_MAX_QUERIES);
        qi = (int)c->nq++;
        memset(&c->q[qi], 0, sizeof c->q[qi]);
        c->q[qi].c = c;
        c->q[qi].type = type;
        c->q[qi].ttl = -1;
        snprintf(c->q[qi].name, sizeof c->q[qi].name, "%s", name);
    }
    c->q[qi].done = true;
    c->q[qi].status = status;
    return qi;
}

static void add_addr(struct check *c, int qi, const char *addr)
{
    struct query *q = &c->q[qi];
    snprintf(q->addrs[q->naddrs++], DNS_ADDR_MAX, "%s", addr);
    q->nrecords++;
    q->ttl = 60;
}

static void add_srv(struct check *c, int qi, unsigned prio, unsigned weight, unsigned port,
                    const char *host)
{
    struct srv_rec *s = &c->srv[c->nsrv++];
    memset(s, 0, sizeof *s);
    s->priority = (uint16_t)prio;
    s->weight = (uint16_t)weight;
    s->port = (uint16_t)port;
    s->tp = TRANSPORT_UDP;
    s->order = (unsigned)qi + 1;        /* the query it came with (dns_answer_srv) */
    snprintf(s->host, sizeof s->host, "%s", host);
    c->q[qi].nrecords++;
}

/* ---------------------------------------------------------------- SRV order */

static void test_srv_order_priority_then_weight(void **state)
{
    (void)state;
    struct check *c = new_check("example.test", 0, TRANSPORT_UDP, true);
    int qi = answered(c, T_SRV, "_sip._udp.example.test", ARES_SUCCESS);
    c->selected[c->nselected++] = qi;
    add_srv(c, qi, 20, 100, 5060, "backup.example.test");
    add_srv(c, qi, 10, 10, 5060, "light.example.test");
    add_srv(c, qi, 10, 70, 5060, "heavy.example.test");
    add_srv(c, qi, 5, 0, 5070, "first.example.test");
    add_srv(c, qi, 10, 10, 5060, "light.example.test");   /* a duplicate: once */
    add_srv(c, qi, 10, 10, 5062, "light2.example.test");  /* equal keys: arrival order */

    struct srv_rec out[DNS_MAX_SRV];
    unsigned n = dns_found_srv_targets(c, out, DNS_MAX_TARGETS);
    assert_int_equal(n, 5);
    static const char *const want[] = {"first.example.test", "heavy.example.test",
                                       "light.example.test", "light2.example.test",
                                       "backup.example.test"};
    for (unsigned i = 0; i < n; i++)
        assert_string_equal(out[i].host, want[i]);
    assert_int_equal(dns_found_srv_targets(c, out, 2), 2);  /* capped: the best ones */
    assert_string_equal(out[1].host, "heavy.example.test");

    /* The result keeps that order, with each target's addresses. */
    for (unsigned i = 0; i < 5; i++) {
        add_addr(c, answered(c, T_A, want[i], ARES_SUCCESS), "192.0.2.10");
        answered(c, T_AAAA, want[i], ARES_ENODATA);
    }
    struct dns_result *r = calloc(1, sizeof *r);
    assert_non_null(r);
    dns_found_init(r, &c->s);
    dns_found_from_srv(r, c);
    assert_int_equal(r->status, DNS_OK);
    assert_int_equal(r->ntargets, 5);
    for (unsigned i = 0; i < r->ntargets; i++)
        assert_string_equal(r->targets[i].host, want[i]);
    assert_int_equal(r->targets[0].port, 5070);
    assert_int_equal(r->targets[1].weight, 70);
    dns_result_free(r);
    free(c);
}

/* ---------------------------------------------------------------- NXDOMAIN and friends */

/* The status of a check without SRV (method a) whose A and AAAA got these. */
static enum dns_status host_outcome(int a_status, int aaaa_status, bool a_has_addr)
{
    struct check *c = new_check("pbx.example.test", 5060, TRANSPORT_UDP, false);
    c->host_a = answered(c, T_A, "pbx.example.test", a_status);
    c->host_aaaa = answered(c, T_AAAA, "pbx.example.test", aaaa_status);
    if (a_has_addr)
        add_addr(c, c->host_a, "192.0.2.7");
    struct dns_result r;
    dns_found_init(&r, &c->s);
    dns_found_from_host(&r, c);
    free(c);
    return r.status;
}

static void test_nxdomain_mapping(void **state)
{
    (void)state;
    assert_int_equal(host_outcome(ARES_ENOTFOUND, ARES_ENOTFOUND, false), DNS_NXDOMAIN);
    assert_int_equal(host_outcome(ARES_ENOTFOUND, ARES_ENODATA, false), DNS_NXDOMAIN);
    assert_int_equal(host_outcome(ARES_ENODATA, ARES_ENODATA, false), DNS_NO_RECORDS);
    assert_int_equal(host_outcome(ARES_SUCCESS, ARES_ENOTFOUND, true), DNS_OK);
    assert_int_equal(host_outcome(ARES_ESERVFAIL, ARES_ENODATA, false), DNS_SERVFAIL);
    assert_int_equal(host_outcome(ARES_EREFUSED, ARES_ENODATA, false), DNS_REFUSED);
    assert_int_equal(host_outcome(ARES_ETIMEOUT, ARES_ETIMEOUT, false), DNS_TIMEOUT);
    /* ICMP port unreachable: nobody answered, so not a DNS REFUSED */
    assert_int_equal(host_outcome(ARES_ECONNREFUSED, ARES_ECONNREFUSED, false), DNS_TIMEOUT);

    /* NXDOMAIN for _sip._udp.NAME only says "no SRV there": not an error of
     * the check, which goes on to the name's own addresses. */
    struct check *c = new_check("pbx.example.test", 0, TRANSPORT_UDP, true);
    int qi = answered(c, T_SRV, "_sip._udp.pbx.example.test", ARES_ENOTFOUND);
    c->selected[c->nselected++] = qi;
    assert_int_equal(dns_found_srv_error(c), DNS_OK);
    c->q[qi].status = ARES_ESERVFAIL;
    assert_int_equal(dns_found_srv_error(c), DNS_SERVFAIL);
    c->q[qi].status = ARES_ECONNREFUSED;
    c->q[qi].tcp_refused = true;       /* truncated over UDP, then TCP refused */
    assert_int_equal(dns_found_srv_error(c), DNS_REFUSED);
    c->q[qi].done = false;             /* never answered */
    assert_int_equal(dns_found_srv_error(c), DNS_TIMEOUT);
    free(c);
}

/* ---------------------------------------------------------------- explicit port */

static bool planned(const struct check *c, int type, const char *name, bool *warn_only)
{
    int qi = dns_check_find_query(c, type, name);
    if (qi >= 0 && warn_only)
        *warn_only = c->q[qi].warn_only;
    return qi >= 0;
}

static void test_explicit_port_skips_srv(void **state)
{
    (void)state;
    bool warn = false;
    /* No port, transport auto: NAPTR, the three SRV names, the host's A/AAAA. */
    struct check *c = new_check("example.test", 0, TRANSPORT_AUTO, true);
    assert_int_equal(c->mode, MODE_SRV);
    dns_check_plan_first(c);
    assert_true(planned(c, T_NAPTR, "example.test", NULL));
    assert_true(planned(c, T_SRV, "_sip._udp.example.test", &warn));
    assert_false(warn);
    assert_true(planned(c, T_SRV, "_sips._tcp.example.test", NULL));
    assert_true(planned(c, T_A, "example.test", NULL));
    free(c);

    /* An explicit port: no NAPTR; SRV asked only to warn; the target is the
     * name itself at that port, whatever SRV says. */
    c = new_check("example.test", 5070, TRANSPORT_AUTO, true);
    assert_int_equal(c->mode, MODE_PORT);
    dns_check_plan_first(c);
    assert_false(planned(c, T_NAPTR, "example.test", NULL));
    assert_true(planned(c, T_SRV, "_sip._udp.example.test", &warn));
    assert_true(warn);
    assert_true(planned(c, T_A, "example.test", NULL));
    assert_true(planned(c, T_AAAA, "example.test", NULL));
    int qi = answered(c, T_SRV, "_sip._udp.example.test", ARES_SUCCESS);
    add_srv(c, qi, 10, 10, 5080, "other.example.test");
    add_addr(c, answered(c, T_A, "example.test", ARES_SUCCESS), "192.0.2.8");
    answered(c, T_AAAA, "example.test", ARES_ENODATA);
    struct dns_result r;
    dns_found_init(&r, &c->s);
    dns_found_from_host(&r, c);
    assert_int_equal(r.status, DNS_OK);
    assert_int_equal(r.method, DNS_METHOD_A);
    assert_int_equal(r.ntargets, 1);
    assert_string_equal(r.targets[0].host, "example.test");
    assert_int_equal(r.targets[0].port, 5070);
    assert_int_equal(r.targets[0].transport, TRANSPORT_UDP);
    free(c);

    /* dns_srv off: no NAPTR and no SRV at all, port 5060 (5061 for tls). */
    c = new_check("example.test", 0, TRANSPORT_TLS, false);
    assert_int_equal(c->mode, MODE_A);
    dns_check_plan_first(c);
    assert_false(planned(c, T_SRV, "_sips._tcp.example.test", NULL));
    assert_int_equal(c->nq, 2);
    add_addr(c, answered(c, T_A, "example.test", ARES_SUCCESS), "192.0.2.9");
    dns_found_init(&r, &c->s);
    dns_found_from_host(&r, c);
    assert_int_equal(r.targets[0].port, 5061);
    free(c);

    /* An IP literal: no lookup at all, its port or the default. */
    struct dns *d = NULL;
    struct dns_options o = {.servers = "127.0.0.1:9", .timeout_ms = 200};
    assert_int_equal(dns_new(&o, &d), 0);
    struct server s = {.set = true, .port = 0, .transport = TRANSPORT_TCP};
    snprintf(s.host, sizeof s.host, "192.0.2.44");
    struct dns_result *lr = NULL;
    assert_int_equal(dns_check(d, &s, true, &lr), 0);
    assert_int_equal(lr->status, DNS_OK);
    assert_int_equal(lr->method, DNS_METHOD_LITERAL);
    assert_int_equal(lr->targets[0].port, 5060);
    assert_int_equal(lr->nlookups, 0);
    dns_result_free(lr);
    assert_int_equal(dns_queries_sent(d), 0);
    dns_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv_order_priority_then_weight),
        cmocka_unit_test(test_nxdomain_mapping),
        cmocka_unit_test(test_explicit_port_skips_srv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* dns: the pure parts, no DNS server needed: display order, the flash form
 * (lineN.F.resolved) round trip and its bounds, RFC 2782 weighted order with
 * an injected random function, target name validation, IP literals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

static struct dns_target tgt(unsigned prio, unsigned weight, unsigned port, enum transport tp,
                             const char *host, const char *addr)
{
    struct dns_target t;
    memset(&t, 0, sizeof t);
    t.priority = (uint16_t)prio;
    t.weight = (uint16_t)weight;
    t.port = (uint16_t)port;
    t.transport = tp;
    snprintf(t.host, sizeof t.host, "%s", host);
    if (addr) {
        snprintf(t.addrs[0], sizeof t.addrs[0], "%s", addr);
        t.naddrs = 1;
    }
    return t;
}

static struct dns_result *ok_result(void)
{
    struct dns_result *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->server.set = true;
    snprintf(r->server.host, sizeof r->server.host, "example.test");
    r->status = DNS_OK;
    r->method = DNS_METHOD_SRV;
    return r;
}

/* ---------------------------------------------------------------- display order */

static void test_sort_priority_then_weight_desc(void **state)
{
    (void)state;
    struct dns_target t[5] = {
        tgt(20, 0, 5062, TRANSPORT_UDP, "backup.test", NULL),
        tgt(10, 40, 5060, TRANSPORT_UDP, "b.test", NULL),
        tgt(10, 60, 5060, TRANSPORT_UDP, "a.test", NULL),
        tgt(10, 40, 5060, TRANSPORT_TCP, "c.test", NULL),
        tgt(5, 0, 5060, TRANSPORT_UDP, "first.test", NULL),
    };
    dns_targets_sort(t, 5);
    assert_string_equal(t[0].host, "first.test");
    assert_string_equal(t[1].host, "a.test");
    assert_string_equal(t[2].host, "b.test");   /* equal keys keep their order */
    assert_string_equal(t[3].host, "c.test");
    assert_string_equal(t[4].host, "backup.test");
}

/* A fresh check that found what is stored, in another order, is "the same". */
static void test_resolved_same_any_order(void **state)
{
    (void)state;
    const char *stored = "10 60 5060 udp a.test 192.0.2.1,192.0.2.2;20 0 5060 udp b.test 192.0.2.3";
    assert_true(dns_resolved_same(stored, stored));
    assert_true(dns_resolved_same(stored, "20 0 5060 udp b.test 192.0.2.3;"
                                          "10 60 5060 udp a.test 192.0.2.2,192.0.2.1"));
    assert_false(dns_resolved_same(stored, "10 60 5060 udp a.test 192.0.2.1;"
                                           "20 0 5060 udp b.test 192.0.2.3"));
    assert_false(dns_resolved_same(stored, "10 60 5062 udp a.test 192.0.2.1,192.0.2.2;"
                                           "20 0 5060 udp b.test 192.0.2.3"));
    assert_false(dns_resolved_same(stored, ""));
    assert_false(dns_resolved_same(stored, "garbage"));
    struct dns_target a = tgt(10, 60, 5060, TRANSPORT_UDP, "a.test", NULL);
    struct dns_target b = tgt(10, 60, 5060, TRANSPORT_TCP, "a.test", NULL);
    assert_true(dns_target_cmp(&a, &b) < 0);
    assert_true(dns_target_cmp(&b, &a) > 0);
    assert_int_equal(dns_target_cmp(&a, &a), 0);
}

/* ---------------------------------------------------------------- flash form */

static void test_flash_round_trip(void **state)
{
    (void)state;
    struct dns_result *r = ok_result();
    r->targets[0] = tgt(10, 60, 5060, TRANSPORT_UDP, "sip1.example.test", "192.0.2.11");
    snprintf(r->targets[0].addrs[1], DNS_ADDR_MAX, "2001:db8::11");
    r->targets[0].naddrs = 2;
    r->targets[1] = tgt(10, 40, 5061, TRANSPORT_TLS, "sip2.example.test", "192.0.2.12");
    r->targets[2] = tgt(20, 0, 5062, TRANSPORT_TCP, "sip3.example.test", NULL);   /* no address */
    r->targets[3] = tgt(65535, 65535, 65535, TRANSPORT_TCP, "192.0.2.99", "192.0.2.99");
    r->ntargets = 4;
    char buf[RESOLVED_MAX + 1];
    assert_int_equal(dns_result_to_flash(r, buf, sizeof buf), 0);
    assert_string_equal(buf, "10 60 5060 udp sip1.example.test 192.0.2.11,2001:db8::11;"
                             "10 40 5061 tls sip2.example.test 192.0.2.12;"
                             "65535 65535 65535 tcp 192.0.2.99 192.0.2.99");
    struct dns_target back[DNS_MAX_TARGETS];
    unsigned n = 99;
    assert_int_equal(dns_targets_from_flash(buf, back, DNS_MAX_TARGETS, &n), 0);
    assert_int_equal(n, 3);
    assert_memory_equal(&back[0], &r->targets[0], sizeof back[0]);
    assert_memory_equal(&back[1], &r->targets[1], sizeof back[1]);
    assert_memory_equal(&back[2], &r->targets[3], sizeof back[2]);

    /* fewer slots than entries: the first ones */
    assert_int_equal(dns_targets_from_flash(buf, back, 1, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(back[0].host, "sip1.example.test");

    /* only an ok resolution has a flash form */
    r->status = DNS_TIMEOUT;
    assert_int_equal(dns_result_to_flash(r, buf, sizeof buf), -EINVAL);
    assert_string_equal(buf, "");
    free(r);
}

static void test_flash_bounded_whole_targets(void **state)
{
    (void)state;
    struct dns_result *r = ok_result();
    for (unsigned i = 0; i < DNS_MAX_TARGETS; i++) {
        char host[64];
        snprintf(host, sizeof host, "a-rather-long-target-name-number-%02u.example.test", i);
        r->targets[i] = tgt(10, i, 5060, TRANSPORT_UDP, host, NULL);
        for (unsigned k = 0; k < DNS_MAX_ADDRS; k++)
            snprintf(r->targets[i].addrs[k], DNS_ADDR_MAX, "2001:db8:ffff:ffff:ffff:ffff:%x:%x", i, k);
        r->targets[i].naddrs = DNS_MAX_ADDRS;
    }
    r->ntargets = DNS_MAX_TARGETS;
    char buf[RESOLVED_MAX + 64];
    assert_int_equal(dns_result_to_flash(r, buf, sizeof buf), 0);
    size_t len = strlen(buf);
    assert_true(len <= RESOLVED_MAX);
    assert_true(len > 0);
    struct dns_target back[DNS_MAX_TARGETS];
    unsigned n = 0;
    assert_int_equal(dns_targets_from_flash(buf, back, DNS_MAX_TARGETS, &n), 0);
    assert_true(n >= 1 && n < DNS_MAX_TARGETS);
    /* the last entry is whole: all its addresses are there */
    assert_memory_equal(&back[n - 1], &r->targets[n - 1], sizeof back[0]);

    /* a small buffer: no entry fits, none is cut */
    char small[40];
    assert_int_equal(dns_result_to_flash(r, small, sizeof small), 0);
    assert_string_equal(small, "");
    free(r);
}

static void test_flash_rejects_malformed(void **state)
{
    (void)state;
    static const char *bad[] = {
        "10 60 5060 udp sip1.test",                          /* no address */
        "10 60 5060 udp sip1.test 192.0.2.1 extra",
        "10 60 0 udp sip1.test 192.0.2.1",                   /* port 0 */
        "10 60 65536 udp sip1.test 192.0.2.1",
        "-1 60 5060 udp sip1.test 192.0.2.1",
        "10 60 5060 auto sip1.test 192.0.2.1",               /* transport never auto */
        "10 60 5060 sctp sip1.test 192.0.2.1",
        "10 60 5060 udp sip_1.test 192.0.2.1",
        "10 60 5060 udp a\\;b.test 192.0.2.1",
        "10 60 5060 udp sip1.test 192.0.2.300",
        "10 60 5060 udp sip1.test sip1.test",
        "10 60 5060 udp sip1.test 192.0.2.1,",
        "10 60 5060 udp sip1.test 192.0.2.1;",
        ";10 60 5060 udp sip1.test 192.0.2.1",
        "10 60 5060 udp sip1.test 192.0.2.1;;10 60 5060 udp sip2.test 192.0.2.2",
        "10  60 5060 udp sip1.test 192.0.2.1",
        " 10 60 5060 udp sip1.test 192.0.2.1",
        "10 60 5060 udp sip1.test 1,2,3,4,5,6,7,8,9",
        "10 60 5060 udp sip1.test 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4,192.0.2.5,"
        "192.0.2.6,192.0.2.7,192.0.2.8,192.0.2.9",            /* more than DNS_MAX_ADDRS */
    };
    struct dns_target t[DNS_MAX_TARGETS];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned n = 7;
        if (dns_targets_from_flash(bad[i], t, DNS_MAX_TARGETS, &n) != -EINVAL)
            fail_msg("accepted: \"%s\"", bad[i]);
        assert_int_equal(n, 0);
    }
    unsigned n = 7;
    assert_int_equal(dns_targets_from_flash("", t, DNS_MAX_TARGETS, &n), 0);
    assert_int_equal(n, 0);
    char big[RESOLVED_MAX + 10];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(dns_targets_from_flash(big, t, DNS_MAX_TARGETS, &n), -EINVAL);
    /* IPv6 hosts and addresses are fine */
    assert_int_equal(dns_targets_from_flash("0 0 5060 udp 2001:db8::1 2001:db8::1", t, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].addrs[0], "2001:db8::1");
}

/* ---------------------------------------------------------------- RFC 2782 */

static uint32_t mock_rnd(uint32_t bound, void *arg)
{
    (void)arg;
    check_expected(bound);
    return mock_type(uint32_t);
}

static void test_rfc2782_priority_only_no_random(void **state)
{
    (void)state;
    struct dns_target t[3] = {
        tgt(30, 0, 1, TRANSPORT_UDP, "c.test", NULL),
        tgt(10, 0, 1, TRANSPORT_UDP, "a.test", NULL),
        tgt(20, 0, 1, TRANSPORT_UDP, "b.test", NULL),
    };
    dns_rfc2782_order(t, 3, mock_rnd, NULL);   /* a call would fail: nothing queued */
    assert_string_equal(t[0].host, "a.test");
    assert_string_equal(t[1].host, "b.test");
    assert_string_equal(t[2].host, "c.test");
}

static void test_rfc2782_weighted_pick(void **state)
{
    (void)state;
    struct dns_target t[3] = {
        tgt(10, 60, 1, TRANSPORT_UDP, "w60.test", NULL),
        tgt(10, 40, 1, TRANSPORT_UDP, "w40.test", NULL),
        tgt(20, 5, 1, TRANSPORT_UDP, "backup.test", NULL),
    };
    /* running sums 60, 100: 70 picks w40; then only w60 is left (no draw) */
    expect_value(mock_rnd, bound, 100);
    will_return(mock_rnd, 70);
    dns_rfc2782_order(t, 3, mock_rnd, NULL);
    assert_string_equal(t[0].host, "w40.test");
    assert_string_equal(t[1].host, "w60.test");
    assert_string_equal(t[2].host, "backup.test");

    /* 60 is inclusive: still the first record */
    struct dns_target u[2] = {
        tgt(10, 60, 1, TRANSPORT_UDP, "w60.test", NULL),
        tgt(10, 40, 1, TRANSPORT_UDP, "w40.test", NULL),
    };
    expect_value(mock_rnd, bound, 100);
    will_return(mock_rnd, 60);
    dns_rfc2782_order(u, 2, mock_rnd, NULL);
    assert_string_equal(u[0].host, "w60.test");

    /* an out-of-range draw is clamped to the sum: the last record */
    struct dns_target v[2] = {
        tgt(10, 60, 1, TRANSPORT_UDP, "w60.test", NULL),
        tgt(10, 40, 1, TRANSPORT_UDP, "w40.test", NULL),
    };
    expect_value(mock_rnd, bound, 100);
    will_return(mock_rnd, 5000);
    dns_rfc2782_order(v, 2, mock_rnd, NULL);
    assert_string_equal(v[0].host, "w40.test");
}

static void test_rfc2782_weight_zero_first_in_list(void **state)
{
    (void)state;
    struct dns_target t[3] = {
        tgt(10, 10, 1, TRANSPORT_UDP, "w10.test", NULL),
        tgt(10, 0, 1, TRANSPORT_UDP, "w0.test", NULL),
        tgt(10, 30, 1, TRANSPORT_UDP, "w30.test", NULL),
    };
    /* list becomes w0, w10, w30 (running 0, 10, 40): a draw of 0 picks w0 */
    expect_value(mock_rnd, bound, 40);
    will_return(mock_rnd, 0);
    /* then w10, w30 (running 10, 40): 11 picks w30 */
    expect_value(mock_rnd, bound, 40);
    will_return(mock_rnd, 11);
    dns_rfc2782_order(t, 3, mock_rnd, NULL);
    assert_string_equal(t[0].host, "w0.test");
    assert_string_equal(t[1].host, "w30.test");
    assert_string_equal(t[2].host, "w10.test");
}

/* ---------------------------------------------------------------- names */

static void test_name_validation(void **state)
{
    (void)state;
    char label63[64], label64[65], long254[300];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';
    snprintf(long254, sizeof long254, "%s.%s.%s.%s", label63, label63, label63, label63);
    long254[254] = '\0';                  /* 254 characters */
    long254[253] = 'b';
    assert_true(dns_name_valid("sip1.example.test"));
    assert_true(dns_name_valid("sip1.example.test."));
    assert_true(dns_name_valid("SIP-1.Example.TEST"));
    assert_true(dns_name_valid("a"));
    assert_true(dns_name_valid("3com.test"));
    assert_true(dns_name_valid(label63));
    assert_false(dns_name_valid(label64));
    assert_false(dns_name_valid(long254));
    long254[253] = '\0';                  /* 253: the longest name */
    assert_true(dns_name_valid(long254));
    /* what c-ares hands on for odd bytes (THREATS.md F2) */
    static const char *bad[] = {
        "", ".", "a..b", ".a", "a.b..", "-a.test", "a-.test", "a\\;rm -rf.ex", "a b.test",
        "a\\000bc.ex", "a\\013\\010bc.ex", "a\\.b<>.ex", "sip_1.test", "_sip._udp.test",
        "a\tb", "\xc3\xa9.test", "a/b",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (dns_name_valid(bad[i]))
            fail_msg("accepted: \"%s\"", bad[i]);
    assert_false(dns_name_valid(NULL));
}

/* ---------------------------------------------------------------- literals, JSON */

static void copy_cb(void *arg, const struct dns_result *r)
{
    *(struct dns_result **)arg = dns_result_dup(r);
}

static void test_literal_json_and_warning(void **state)
{
    (void)state;
    struct dns_options o = { .servers = "127.0.0.1:9", .timeout_ms = 200 };
    struct dns *d = NULL;
    assert_int_equal(dns_new(&o, &d), 0);
    struct server s = { .set = true, .host = "2001:DB8::0:1", .port = 0, .transport = TRANSPORT_TLS };
    struct dns_result *r = NULL;
    assert_int_equal(dns_check_start(d, &s, true, copy_cb, &r), 0);
    assert_non_null(r);                   /* a literal is answered before the call returns */
    json_t *j = dns_result_to_json(r, "outbound_proxy");
    char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text,
        "{\"field\":\"outbound_proxy\",\"server\":{\"host\":\"2001:DB8::0:1\",\"port\":null,"
        "\"transport\":\"tls\"},\"status\":\"ok\",\"method\":\"literal\",\"targets\":[{\"priority\":0,"
        "\"weight\":0,\"port\":5061,\"transport\":\"tls\",\"host\":\"2001:DB8::0:1\","
        "\"addresses\":[\"2001:db8::1\"]}],\"ttl\":0,\"elapsed_ms\":0,\"warnings\":[],\"lookups\":[]}");
    free(text);
    json_decref(j);
    dns_result_free(r);

    /* loopback, link-local and unspecified literals warn */
    static const char *local[] = { "127.0.0.1", "::1", "169.254.1.1", "fe80::1", "0.0.0.0", "::",
                                   "::ffff:127.0.0.2" };
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        struct server l = { .set = true, .port = 5060, .transport = TRANSPORT_UDP };
        snprintf(l.host, sizeof l.host, "%s", local[i]);
        r = NULL;
        assert_int_equal(dns_check_start(d, &l, false, copy_cb, &r), 0);
        assert_non_null(r);
        assert_non_null(r->warnings);
        assert_int_equal(r->warnings->n, 1);
        assert_string_equal(r->warnings->item[0].code, "local_address");
        assert_string_equal(r->warnings->item[0].field, "host");
        dns_result_free(r);
    }
    struct server g = { .set = true, .host = "192.0.2.1", .port = 5060, .transport = TRANSPORT_UDP };
    r = NULL;
    assert_int_equal(dns_check_start(d, &g, false, copy_cb, &r), 0);
    assert_null(r->warnings);
    dns_result_free(r);

    /* a host that is neither a name nor a literal is refused before any query */
    struct server bad = { .set = true, .host = "a b.test", .transport = TRANSPORT_UDP };
    assert_int_equal(dns_check_start(d, &bad, true, copy_cb, &r), -EINVAL);
    assert_int_equal(dns_queries_sent(d), 0);
    dns_free(d);
}

static void test_backup_comparison(void **state)
{
    (void)state;
    struct dns_result *p = ok_result(), *b = ok_result();
    p->targets[0] = tgt(10, 0, 5060, TRANSPORT_UDP, "sip1.test", "192.0.2.1");
    p->targets[1] = tgt(20, 0, 5060, TRANSPORT_UDP, "sip2.test", "192.0.2.2");
    p->ntargets = 2;
    b->targets[0] = tgt(0, 0, 5080, TRANSPORT_UDP, "backup.test", "192.0.2.2");
    b->ntargets = 1;
    struct diag_list w;
    diag_init(&w);
    dns_compare_backup(p, b, "lines[0].backup_proxy", &w);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.item[0].field, "lines[0].backup_proxy");
    assert_string_equal(w.item[0].code, "backup_same_addresses");
    /* one new address is enough to be a real backup */
    snprintf(b->targets[0].addrs[1], DNS_ADDR_MAX, "192.0.2.3");
    b->targets[0].naddrs = 2;
    dns_compare_backup(p, b, "backup_proxy", &w);
    assert_int_equal(w.n, 1);
    /* a failed check compares nothing */
    b->targets[0].naddrs = 1;
    b->status = DNS_TIMEOUT;
    dns_compare_backup(p, b, "backup_proxy", &w);
    assert_int_equal(w.n, 1);
    free(p);
    free(b);
}

static void test_names_of_statuses(void **state)
{
    (void)state;
    static const char *want[] = { "ok", "nxdomain", "no_records", "unavailable", "servfail",
                                  "refused", "timeout", "skipped" };
    for (int i = DNS_OK; i <= DNS_SKIPPED; i++)
        assert_string_equal(dns_status_name((enum dns_status)i), want[i]);
    assert_string_equal(dns_method_name(DNS_METHOD_LITERAL), "literal");
    assert_string_equal(dns_method_name(DNS_METHOD_NAPTR), "naptr");
    assert_string_equal(dns_method_name(DNS_METHOD_SRV), "srv");
    assert_string_equal(dns_method_name(DNS_METHOD_A), "a");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_priority_then_weight_desc),
        cmocka_unit_test(test_resolved_same_any_order),
        cmocka_unit_test(test_flash_round_trip),
        cmocka_unit_test(test_flash_bounded_whole_targets),
        cmocka_unit_test(test_flash_rejects_malformed),
        cmocka_unit_test(test_rfc2782_priority_only_no_random),
        cmocka_unit_test(test_rfc2782_weighted_pick),
        cmocka_unit_test(test_rfc2782_weight_zero_first_in_list),
        cmocka_unit_test(test_name_validation),
        cmocka_unit_test(test_literal_json_and_warning),
        cmocka_unit_test(test_backup_comparison),
        cmocka_unit_test(test_names_of_statuses),
    };
    return cmocka_run_group_tests_name("dns_unit", tests, NULL, NULL);
}

/* Unit tests of hostport.c: every string form of API.md section 1 normalises to
 * the object form written there; every bad input is refused with the right
 * code, field path and a message without raw bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "hostport.h"

/* The object form as the API prints it. */
static char *object_of(const struct server *s)
{
    json_t *j = server_to_json(s);
    assert_non_null(j);
    char *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(j);
    assert_non_null(out);
    return out;
}

static void assert_normalises(const char *in, const char *want)
{
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    int rc = server_parse(in, &s, "proxy", &errs);
    if (rc != 0 || errs.n != 0)
        fail_msg("'%s' refused: %s %s", in, errs.n ? errs.item[0].code : "",
                 errs.n ? errs.item[0].message : "");
    char *got = object_of(&s);
    if (strcmp(got, want) != 0)
        fail_msg("'%s' gave %s, want %s", in, got, want);
    free(got);
}

static void test_forms_of_api_md(void **state)
{
    (void)state;
    static const struct { const char *in, *want; } forms[] = {
        /* API.md section 1, as written there */
        {"pbx.example.com", "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"auto\"}"},
        {"pbx.example.com:5062", "{\"host\":\"pbx.example.com\",\"port\":5062,\"transport\":\"auto\"}"},
        {"[2001:db8::1]:5060", "{\"host\":\"2001:db8::1\",\"port\":5060,\"transport\":\"auto\"}"},
        {"192.0.2.7", "{\"host\":\"192.0.2.7\",\"port\":null,\"transport\":\"auto\"}"},
        {"sip:pbx.example.com;transport=tcp",
         "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"tcp\"}"},
        {"sips:pbx.example.com", "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"tls\"}"},
        /* the brief's further forms */
        {"sip:pbx.example.com:5070", "{\"host\":\"pbx.example.com\",\"port\":5070,\"transport\":\"auto\"}"},
        {"sip:[2001:db8::1]:5061;transport=tls",
         "{\"host\":\"2001:db8::1\",\"port\":5061,\"transport\":\"tls\"}"},
        {"SIP:PBX.Example.COM;Transport=TCP",
         "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"tcp\"}"},
        {"SIPS:PBX.EXAMPLE.COM:5061", "{\"host\":\"pbx.example.com\",\"port\":5061,\"transport\":\"tls\"}"},
        {"pbx.example.com.", "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"auto\"}"},
        {"pbx.example.com.:5060", "{\"host\":\"pbx.example.com\",\"port\":5060,\"transport\":\"auto\"}"},
        /* decisions documented in hostport.h */
        {"2001:db8::1", "{\"host\":\"2001:db8::1\",\"port\":null,\"transport\":\"auto\"}"},
        {"[2001:DB8:0:0::1]", "{\"host\":\"2001:db8::1\",\"port\":null,\"transport\":\"auto\"}"},
        {"sip:pbx.example.com;lr", "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"auto\"}"},
        {"sip:pbx.example.com;lr;transport=udp",
         "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"udp\"}"},
        {"sips:pbx.example.com;transport=tcp",
         "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"tls\"}"},
        {"pbx.example.com:5080;transport=udp",
         "{\"host\":\"pbx.example.com\",\"port\":5080,\"transport\":\"udp\"}"},
        {"sip:pbx.example.com;transport=auto",
         "{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"auto\"}"},
        {"xn--bcher-kva.example", "{\"host\":\"xn--bcher-kva.example\",\"port\":null,\"transport\":\"auto\"}"},
        {"localhost:1", "{\"host\":\"localhost\",\"port\":1,\"transport\":\"auto\"}"},
        {"10.0.0.1:65535", "{\"host\":\"10.0.0.1\",\"port\":65535,\"transport\":\"auto\"}"},
        {"a-b.c-d.example", "{\"host\":\"a-b.c-d.example\",\"port\":null,\"transport\":\"auto\"}"},
        {"", "null"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        assert_normalises(forms[i].in, forms[i].want);
}

static void test_limits_of_names(void **state)
{
    (void)state;
    char label63[64], name253[254], want[400];
    memset(label63, 'a', 63);
    label63[63] = '\0';
    assert_normalises(label63, "{\"host\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
                               "\"port\":null,\"transport\":\"auto\"}");
    /* 253 = 3 labels of 63 + 1 of 61 + 3 dots */
    snprintf(name253, sizeof name253, "%s.%s.%s.%.61s", label63, label63, label63, label63);
    assert_int_equal(strlen(name253), 253);
    snprintf(want, sizeof want, "{\"host\":\"%s\",\"port\":null,\"transport\":\"auto\"}", name253);
    assert_normalises(name253, want);
    /* The trailing dot of a 253-byte name does not count. */
    char dotted[256];
    snprintf(dotted, sizeof dotted, "%s.", name253);
    assert_normalises(dotted, want);
}

struct bad {
    const char *in;
    const char *code;
    const char *path;     /* under field "proxy" */
};

static char label64[65], name254[256], name1024[1100];

static void make_long_inputs(void)
{
    memset(label64, 'x', 64);
    label64[64] = '\0';
    char l63[64];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    snprintf(name254, sizeof name254, "%s.%s.%s.%.62s", l63, l63, l63, l63);
    memset(name1024, 'b', 1024);
    name1024[1024] = '\0';
}

static const struct bad bad_inputs[] = {
    /* spaces and control characters (THREATS A1-A3) */
    {"pbx example.com", "invalid_host", "proxy.host"},
    {" pbx.example.com", "invalid_host", "proxy.host"},
    {"pbx.example.com ", "invalid_host", "proxy.host"},
    {"pbx\texample.com", "invalid_host", "proxy.host"},
    {"pbx.example.com\v", "invalid_host", "proxy.host"},
    {"pbx.example.com\f", "invalid_host", "proxy.host"},
    {"a.example.com\r\nline1.password=x", "invalid_host", "proxy.host"},
    {"a\nline2.proxy=evil", "invalid_host", "proxy.host"},
    {"pbx.example.com\x7f", "invalid_host", "proxy.host"},
    /* shell and separator characters (A1) */
    {"sip.example.com;reboot", "invalid_parameter", "proxy"},
    {";reboot", "invalid_host", "proxy.host"},
    {"$(id)", "invalid_host", "proxy.host"},
    {"`id`", "invalid_host", "proxy.host"},
    {"a|b", "invalid_host", "proxy.host"},
    {"a&&b", "invalid_host", "proxy.host"},
    {"a%0ab", "invalid_host", "proxy.host"},
    {"%0d%0a", "invalid_host", "proxy.host"},
    {"a=b", "invalid_host", "proxy.host"},
    {"-oProxyCommand=x", "invalid_host", "proxy.host"},
    {"--help", "invalid_host", "proxy.host"},
    {"\"pbx.example.com\"", "invalid_host", "proxy.host"},
    {"pbx.example.com'", "invalid_host", "proxy.host"},
    {"pbx.example.com/x", "invalid_host", "proxy.host"},
    /* deny-list bypasses (A3): fullwidth ；＄, non-ASCII names */
    {"pbx.example.com\xef\xbc\x9breboot", "invalid_host", "proxy.host"},
    {"\xef\xbc\x84(id)", "invalid_host", "proxy.host"},
    {"b\xc3\xbc" "cher.example", "invalid_host", "proxy.host"},
    /* DNS name structure */
    {"a..com", "invalid_host", "proxy.host"},
    {".example.com", "invalid_host", "proxy.host"},
    {"pbx.example.com..", "invalid_host", "proxy.host"},
    {".", "invalid_host", "proxy.host"},
    {label64, "invalid_host", "proxy.host"},
    {name254, "invalid_host", "proxy.host"},
    {name1024, "invalid_host", "proxy.host"},
    {"-pbx.example.com", "invalid_host", "proxy.host"},
    {"pbx-.example.com", "invalid_host", "proxy.host"},
    {"pbx.-example.com", "invalid_host", "proxy.host"},
    {"pbx_1.example.com", "invalid_host", "proxy.host"},
    {"999.1.1.1", "invalid_host", "proxy.host"},
    {"192.0.2", "invalid_host", "proxy.host"},
    {"1.2.3.4.5", "invalid_host", "proxy.host"},
    {"pbx.123", "invalid_host", "proxy.host"},
    {"2001:db8::g", "invalid_host", "proxy.host"},
    {"[2001:db8::1", "invalid_host", "proxy.host"},
    {"[2001:db8::1]x", "invalid_host", "proxy.host"},
    {"[pbx.example.com]:5060", "invalid_host", "proxy.host"},
    {"pbx.example.com:5060:5061", "invalid_host", "proxy.host"},
    {"sip:", "invalid_host", "proxy.host"},
    {":5060", "invalid_host", "proxy.host"},
    /* not a server at all */
    {"http://pbx.example.com", "invalid_host", "proxy.host"},
    {"https://pbx.example.com/provision", "invalid_host", "proxy.host"},
    {"ftp://pbx.example.com", "invalid_host", "proxy.host"},
    {"1001@pbx.example.com", "invalid_host", "proxy.host"},
    {"sip:1001@pbx.example.com", "invalid_host", "proxy.host"},
    {"sip:1001:secret@pbx.example.com", "invalid_host", "proxy.host"},
    /* ports */
    {"pbx.example.com:0", "invalid_port", "proxy.port"},
    {"pbx.example.com:65536", "invalid_port", "proxy.port"},
    {"pbx.example.com:abc", "invalid_port", "proxy.port"},
    {"pbx.example.com:5060x", "invalid_port", "proxy.port"},
    {"pbx.example.com:-1", "invalid_port", "proxy.port"},
    {"pbx.example.com:+5060", "invalid_port", "proxy.port"},
    {"pbx.example.com:99999999999", "invalid_port", "proxy.port"},
    {"pbx.example.com:", "invalid_port", "proxy.port"},
    {"[2001:db8::1]:", "invalid_port", "proxy.port"},
    {"[2001:db8::1]:70000", "invalid_port", "proxy.port"},
    /* transports */
    {"sip:pbx.example.com;transport=sctp", "invalid_transport", "proxy.transport"},
    {"sip:pbx.example.com;transport=ws", "invalid_transport", "proxy.transport"},
    {"sip:pbx.example.com;transport=", "invalid_transport", "proxy.transport"},
    {"sip:pbx.example.com;transport", "invalid_transport", "proxy.transport"},
    {"sips:pbx.example.com;transport=udp", "invalid_transport", "proxy.transport"},
    /* parameters and headers */
    {"sip:pbx.example.com;maddr=evil.example", "invalid_parameter", "proxy"},
    {"sip:pbx.example.com;transport=tcp;transport=udp", "invalid_parameter", "proxy"},
    {"sip:pbx.example.com;", "invalid_parameter", "proxy"},
    {"sip:pbx.example.com;;lr", "invalid_parameter", "proxy"},
    {"sip:pbx.example.com?subject=x", "invalid_parameter", "proxy"},
    {"pbx.example.com?", "invalid_parameter", "proxy"},
};

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static void test_bad_inputs(void **state)
{
    (void)state;
    size_t n = sizeof bad_inputs / sizeof bad_inputs[0];
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct bad *b = &bad_inputs[i];
        struct server s;
        struct diag_list errs;
        diag_init(&errs);
        int rc = server_parse(b->in, &s, "proxy", &errs);
        if (rc != -EINVAL || errs.n == 0)
            fail_msg("#%zu '%s' was accepted", i, b->in);
        if (strcmp(errs.item[0].code, b->code) != 0 || strcmp(errs.item[0].field, b->path) != 0)
            fail_msg("#%zu '%s': got %s at %s (%s), want %s at %s", i, b->in, errs.item[0].code,
                     errs.item[0].field, errs.item[0].message, b->code, b->path);
        for (size_t k = 0; k < errs.n; k++)
            if (!printable(errs.item[k].message))
                fail_msg("#%zu: raw bytes in message '%s'", i, errs.item[k].message);
    }
}

static void assert_message(const char *in, const char *field, const char *want)
{
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(server_parse(in, &s, field, &errs), -EINVAL);
    assert_true(errs.n >= 1);
    if (strcmp(errs.item[0].message, want) != 0)
        fail_msg("'%s': message\n  '%s', want\n  '%s'", in, errs.item[0].message, want);
}

static void test_messages(void **state)
{
    (void)state;
    assert_message("pbx example.com", "proxy",
                   "'pbx example.com' is not a host name: it contains a space");
    assert_message("-pbx.example.com", "proxy",
                   "'-pbx.example.com' is not a host name: a label may not start with a hyphen");
    assert_message("pbx-.example.com", "proxy",
                   "'pbx-.example.com' is not a host name: a label may not end with a hyphen");
    assert_message("a..com", "proxy",
                   "'a..com' is not a host name: it has an empty label (two dots in a row)");
    assert_message("pbx.example.com:0", "proxy", "port 0 is out of range: use 1..65535");
    assert_message("pbx.example.com:65536", "proxy", "port 65536 is out of range: use 1..65535");
    assert_message("pbx.example.com:5060x", "proxy", "'5060x' is not a port number: use 1..65535");
    assert_message("http://pbx.example.com", "proxy",
                   "'http://pbx.example.com' is a web address, not a SIP server: give a host "
                   "name, host:port or a sip: URI");
    assert_message("1001@pbx.example.com", "proxy",
                   "'1001@pbx.example.com' is not a host name: a server must not contain a user "
                   "part (the user goes in 'user')");
    assert_message("999.1.1.1", "proxy",
                   "'999.1.1.1' is not a valid IPv4 address: use four numbers 0..255 separated "
                   "by dots");
    assert_message("sip:pbx.example.com;transport=sctp", "proxy",
                   "'sctp' is not a transport: use udp, tcp, tls or auto");
    assert_message("sips:pbx.example.com;transport=udp", "proxy",
                   "sips: needs TLS, so transport=udp is not possible: use sip: for udp");
    assert_message("sip.example.com;reboot", "proxy",
                   "';reboot' is not allowed in a server: only ';transport=udp', 'tcp' or 'tls' "
                   "(and ';lr') are");
    /* control characters are shown escaped, never raw */
    assert_message("a.example.com\r\nline1.password=x", "proxy",
                   "'a.example.com\\x0d\\x0aline1.password=x' is not a host name: it contains a "
                   "control character (\\x0d)");
    assert_message("pbx.example.com\xef\xbc\x9breboot", "proxy",
                   "'pbx.example.com\\xef\\xbc\\x9breboot' is not a host name: it contains a "
                   "non-ASCII character: write an international name in its xn-- form");
    assert_message("$(id)", "proxy",
                   "'$(id)' is not a host name: it contains '$', which a host name cannot contain");

    /* A 64-byte label: the name is quoted cut to 40 characters. */
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(server_parse(label64, &s, "proxy", &errs), -EINVAL);
    assert_non_null(strstr(errs.item[0].message,
                           "is not a host name: the label 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' "
                           "is 64 bytes long, at most 63 are allowed"));
    diag_init(&errs);
    assert_int_equal(server_parse(name254, &s, "proxy", &errs), -EINVAL);
    assert_non_null(strstr(errs.item[0].message, "it is 254 bytes long, at most 253 are allowed"));
}

/* Several problems in one server are all reported, each at its own path. */
static void test_several_errors(void **state)
{
    (void)state;
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(server_parse("sip:bad host:0;transport=ws", &s, "lines[2].backup_proxy", &errs),
                     -EINVAL);
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.item[0].field, "lines[2].backup_proxy.host");
    assert_string_equal(errs.item[1].field, "lines[2].backup_proxy.port");
    assert_string_equal(errs.item[2].field, "lines[2].backup_proxy.transport");
}

static void test_host_check_and_family(void **state)
{
    (void)state;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(host_check("pbx.example.com", "domain", &errs), 0);
    assert_int_equal(host_check("PBX.Example.com", "domain", &errs), 0);
    assert_int_equal(host_check("192.0.2.1", "domain", &errs), 0);
    assert_int_equal(host_check("2001:db8::1", "domain", &errs), 0);
    assert_int_equal(errs.n, 0);
    assert_int_equal(host_check("pbx:5060", "domain", &errs), -EINVAL);
    assert_string_equal(errs.item[0].field, "domain");
    assert_string_equal(errs.item[0].message,
                        "'pbx:5060' is not a host name: it contains ':' (a port goes in 'port')");
    assert_int_equal(host_check("", "x.host", &errs), -EINVAL);
    assert_int_equal(host_check(NULL, "x.host", &errs), -EINVAL);
    assert_int_equal(errs.n, 3);

    assert_int_equal(host_ip_family("192.0.2.1"), AF_INET);
    assert_int_equal(host_ip_family("2001:db8::1"), AF_INET6);
    assert_int_equal(host_ip_family("pbx.example.com"), 0);
    assert_int_equal(host_ip_family("[2001:db8::1]"), 0);
}

static void test_transport_names(void **state)
{
    (void)state;
    enum transport t;
    assert_int_equal(transport_from_name("TLS", &t), 0);
    assert_int_equal(t, TRANSPORT_TLS);
    assert_int_equal(transport_from_name("Udp", &t), 0);
    assert_int_equal(t, TRANSPORT_UDP);
    assert_int_equal(transport_from_name("auto", &t), 0);
    assert_int_equal(t, TRANSPORT_AUTO);
    assert_int_equal(transport_from_name("sctp", &t), -EINVAL);
    assert_int_equal(transport_from_name("", &t), -EINVAL);
    assert_int_equal(transport_from_name(NULL, &t), -EINVAL);
    assert_string_equal(transport_name(TRANSPORT_TCP), "tcp");
}

static void test_format_and_equal(void **state)
{
    (void)state;
    struct server a, b;
    struct diag_list errs;
    char buf[300];
    diag_init(&errs);
    assert_int_equal(server_parse("sip:[2001:DB8::1]:5060;transport=TCP", &a, "p", &errs), 0);
    assert_int_equal(server_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "[2001:db8::1]:5060;transport=tcp");
    assert_int_equal(server_format(&a, buf, 10), -ENOSPC);
    /* the formatted form parses back to the same server */
    assert_int_equal(server_parse("[2001:db8::1]:5060;transport=tcp", &b, "p", &errs), 0);
    assert_true(server_equal(&a, &b));
    assert_int_equal(server_parse("pbx.example.com", &b, "p", &errs), 0);
    assert_int_equal(server_format(&b, buf, sizeof buf), 0);
    assert_string_equal(buf, "pbx.example.com");
    assert_false(server_equal(&a, &b));
    b.port = 5060;
    assert_int_equal(server_parse("pbx.example.com:5060", &a, "p", &errs), 0);
    assert_true(server_equal(&a, &b));
    a.transport = TRANSPORT_UDP;
    assert_false(server_equal(&a, &b));
    /* a host named like a scheme keeps its meaning when formatted */
    assert_int_equal(server_parse("sips.:1", &a, "p", &errs), 0);
    assert_int_equal(server_format(&a, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:sips:1");
    assert_int_equal(server_parse(buf, &b, "p", &errs), 0);
    assert_true(server_equal(&a, &b));
    struct server u1 = {.set = false}, u2 = {.set = false, .port = 7};
    assert_true(server_equal(&u1, &u2));
    assert_false(server_equal(&u1, &a));
    assert_int_equal(errs.n, 0);
}

/* server_check on a struct built by code (the object form after typing). */
static void test_server_check(void **state)
{
    (void)state;
    struct diag_list errs;
    diag_init(&errs);
    struct server s = {.set = true, .host = "pbx.example.com", .port = 5060,
                       .transport = TRANSPORT_TLS};
    assert_int_equal(server_check(&s, "proxy", &errs), 0);
    struct server unset = {.set = false, .host = "bad host"};
    assert_int_equal(server_check(&unset, "proxy", &errs), 0);
    snprintf(s.host, sizeof s.host, "bad;host");
    assert_int_equal(server_check(&s, "lines[1].registrar", &errs), -EINVAL);
    assert_string_equal(errs.item[0].field, "lines[1].registrar.host");
    assert_string_equal(errs.item[0].code, "invalid_host");
    snprintf(s.host, sizeof s.host, "ok.example");
    s.transport = (enum transport)9;
    assert_int_equal(server_check(&s, "proxy", &errs), -EINVAL);
    assert_string_equal(errs.item[1].field, "proxy.transport");
}

int main(void)
{
    make_long_inputs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms_of_api_md),
        cmocka_unit_test(test_limits_of_names),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_several_errors),
        cmocka_unit_test(test_host_check_and_family),
        cmocka_unit_test(test_transport_names),
        cmocka_unit_test(test_format_and_equal),
        cmocka_unit_test(test_server_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

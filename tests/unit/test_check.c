/* Unit tests of check.c: text, user and UTF-8 rules, the rules of a whole
 * line read from the field table, and the warnings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "diag.h"
#include "hostport.h"

struct text_case {
    const char *in;
    size_t len;          /* 0 = strlen */
    const char *code;    /* NULL = accepted */
};

static int run_text(int (*fn)(const char *, size_t, size_t, const char *, struct diag_list *),
                    const struct text_case *c, size_t max, struct diag_list *errs)
{
    return fn(c->in, c->len ? c->len : strlen(c->in), max, "label", errs);
}

static void check_cases(int (*fn)(const char *, size_t, size_t, const char *, struct diag_list *),
                        const struct text_case *cases, size_t n, size_t max)
{
    for (size_t i = 0; i < n; i++) {
        struct diag_list errs;
        diag_init(&errs);
        int rc = run_text(fn, &cases[i], max, &errs);
        if (!cases[i].code) {
            if (rc != 0)
                fail_msg("#%zu refused: %s", i, errs.item[0].message);
            continue;
        }
        if (rc != -EINVAL || errs.n != 1)
            fail_msg("#%zu accepted", i);
        if (strcmp(errs.item[0].code, cases[i].code) != 0 || strcmp(errs.item[0].field, "label"))
            fail_msg("#%zu: %s at %s, want %s", i, errs.item[0].code, errs.item[0].field,
                     cases[i].code);
    }
}

static char s64[65], s65[66], s64_utf8[65];

static void test_text(void **state)
{
    (void)state;
    memset(s64, 'a', 64);
    memset(s65, 'a', 65);
    /* 32 two-byte characters = 64 bytes: the limit counts bytes */
    for (int i = 0; i < 32; i++)
        memcpy(s64_utf8 + 2 * i, "\xc3\xa9", 2);
    const struct text_case cases[] = {
        {"", 0, NULL},
        {"Office", 0, NULL},
        {"Alice \"Al\" O'Brien <x> & ;|$(id)`", 0, NULL},   /* plain text: only stored */
        {" leading and trailing ", 0, NULL},
        {"B\xc3\xbc" "ro \xe2\x82\xac \xf0\x9f\x93\x9e", 0, NULL},  /* Büro € 📞 */
        {"\xef\xbc\x9b", 0, NULL},                        /* fullwidth ; is a character */
        {s64, 0, NULL},
        {s64_utf8, 0, NULL},
        {s65, 0, "too_long"},
        {"a\nb", 0, "control_character"},
        {"a\r\nline1.password=x", 0, "control_character"},
        {"tab\there", 0, "control_character"},
        {"a\x7f", 0, "control_character"},
        {"a\xc2\x85", 0, "control_character"},            /* U+0085 NEL (C1) */
        {"a\0b", 3, "control_character"},                 /* NUL inside */
        {"Office\xe2\x80\xae" "fdp.exe", 0, "invisible_character"},   /* U+202E RLO */
        {"a\xe2\x80\x8b" "b", 0, "invisible_character"},        /* U+200B zero width space */
        {"a\xe2\x80\x8d" "b", 0, "invisible_character"},        /* U+200D ZWJ */
        {"\xe2\x81\xa6x\xe2\x81\xa9", 0, "invisible_character"}, /* U+2066/2069 isolates */
        {"\xef\xbb\xbfOffice", 0, "invisible_character"},       /* U+FEFF BOM */
        {"Off\xc2\xadice", 0, "invisible_character"},          /* U+00AD soft hyphen */
        {"a\xe2\x80\xa8" "b", 0, "control_character"},         /* U+2028 line separator */
        {"a\xe2\x80\xa9" "b", 0, "control_character"},         /* U+2029 paragraph separator */
        {"\xc0\xaf", 0, "invalid_utf8"},                  /* overlong '/' */
        {"\xe0\x80\xaf", 0, "invalid_utf8"},              /* overlong 3-byte */
        {"\xf0\x80\x80\xaf", 0, "invalid_utf8"},          /* overlong 4-byte */
        {"\xed\xa0\x80", 0, "invalid_utf8"},              /* U+D800 surrogate */
        {"\xed\xbf\xbf", 0, "invalid_utf8"},              /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 0, "invalid_utf8"},          /* U+110000 */
        {"\xf5\x80\x80\x80", 0, "invalid_utf8"},
        {"abc\xc3", 0, "invalid_utf8"},                   /* truncated */
        {"\xe2\x82", 0, "invalid_utf8"},                  /* truncated */
        {"\xe2\x82x", 0, "invalid_utf8"},                 /* cut short by ASCII */
        {"\x80", 0, "invalid_utf8"},                      /* stray continuation */
        {"\xff", 0, "invalid_utf8"},
    };
    check_cases(check_text, cases, sizeof cases / sizeof cases[0], 64);
}

/* diag_quote: what a message shows of an untrusted text between '...':
 * control bytes, non-ASCII and the quote itself escaped, so a hostile name
 * (an SRV target) can never close the quotes and add words of its own. */
static void test_diag_quote(void **state)
{
    char q[64];
    assert_string_equal(diag_quote(q, sizeof q, "pbx'.example.com': fine"),
                        "pbx\\x27.example.com\\x27: fine");
    assert_string_equal(diag_quote(q, sizeof q, "a\nb\xc3"), "a\\x0ab\\xc3");
    assert_string_equal(diag_quote_n(q, sizeof q, "it's", 4), "it\\x27s");
}

static void test_text_messages(void **state)
{
    (void)state;
    struct diag_list errs;
    diag_init(&errs);
    check_text("ab\xc0\xaf", 4, 64, "label", &errs);
    check_text("\xed\xa0\x80", 3, 64, "label", &errs);
    check_text("abc\xc3", 4, 64, "label", &errs);
    check_text("a\nb", 3, 64, "label", &errs);
    check_text(s65, 65, 64, "label", &errs);
    assert_int_equal(errs.n, 5);
    assert_string_equal(errs.item[0].message,
                        "'ab\\xc0\\xaf' is not valid UTF-8: an overlong sequence at byte 2");
    assert_string_equal(errs.item[1].message,
                        "'\\xed\\xa0\\x80' is not valid UTF-8: an encoded UTF-16 surrogate at byte 0");
    assert_string_equal(errs.item[2].message,
                        "'abc\\xc3' is not valid UTF-8: a sequence cut short at byte 3");
    assert_string_equal(errs.item[3].message,
                        "'a\\x0ab' contains a control character (U+000A) at byte 1: line breaks, "
                        "tabs and other control characters are not allowed");
    assert_string_equal(errs.item[4].message,
                        "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is 65 bytes long, at most 64 "
                        "are allowed");
}

static void test_secret_is_never_quoted(void **state)
{
    (void)state;
    struct diag_list errs;
    diag_init(&errs);
    char longpw[140];
    memset(longpw, 'S', sizeof longpw - 1);
    longpw[sizeof longpw - 1] = '\0';
    assert_int_equal(check_secret("Secret\n", 7, 128, "password", &errs), -EINVAL);
    assert_int_equal(check_secret(longpw, strlen(longpw), 128, "password", &errs), -EINVAL);
    assert_int_equal(check_secret("Se\xff", 3, 128, "password", &errs), -EINVAL);
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.item[0].code, "control_character");
    assert_string_equal(errs.item[1].code, "too_long");
    assert_string_equal(errs.item[1].message, "the password is 139 bytes long, at most 128 are allowed");
    assert_string_equal(errs.item[2].code, "invalid_utf8");
    for (size_t i = 0; i < errs.n; i++)
        assert_null(strstr(errs.item[i].message, "Se"));
    /* a password may hold what a label may not show: a separator, a soft hyphen */
    assert_int_equal(check_secret("a\xe2\x80\xa8" "b\xc2\xad", 7, 128, "password", &errs), 0);
}

static void test_user(void **state)
{
    (void)state;
    const struct text_case cases[] = {
        {"1001", 0, NULL},
        {"alice.smith", 0, NULL},
        {"+4930123456", 0, NULL},
        {"a-b_c.d!e~f*g'h(i)j", 0, NULL},
        {"a&b=c+d,e/f", 0, NULL},
        {"john%20doe", 0, NULL},
        {"a%3Bb", 0, NULL},
        {"", 0, NULL},
        {s64, 0, NULL},
        {s65, 0, "too_long"},
        {"a b", 0, "invalid_user"},
        {" 1001", 0, "invalid_user"},
        {"1001 ", 0, "invalid_user"},
        {"1001@example.com", 0, "invalid_user"},
        {";reboot", 0, "invalid_user"},
        {"a;b", 0, "invalid_user"},
        {"a?b", 0, "invalid_user"},
        {"$(id)", 0, "invalid_user"},
        {"`id`", 0, "invalid_user"},
        {"a|b", 0, "invalid_user"},
        {"a<b>", 0, "invalid_user"},
        {"a\"b", 0, "invalid_user"},
        {"a:b", 0, "invalid_user"},
        {"a%0ab", 0, "invalid_user"},
        {"a%0D%0Ab", 0, "invalid_user"},
        {"a%7f", 0, "invalid_user"},
        {"a%", 0, "invalid_user"},
        {"a%4", 0, "invalid_user"},
        {"a%zz", 0, "invalid_user"},
        {"\xef\xbc\x9b", 0, "invalid_user"},               /* fullwidth ; */
        {"b\xc3\xbcro", 0, "invalid_user"},
        {"a\tb", 0, "control_character"},
        {"a\nb", 0, "control_character"},
        {"\xc0\xaf", 0, "invalid_utf8"},
    };
    check_cases(check_user, cases, sizeof cases / sizeof cases[0], 64);

    struct diag_list errs;
    diag_init(&errs);
    check_user("a;b", 3, 64, "user", &errs);
    check_user("a%0ab", 5, 64, "user", &errs);
    check_user("1001@pbx", 8, 64, "user", &errs);
    assert_string_equal(errs.item[0].message, "'a;b' is not a valid user: ';' is not allowed (write it as %3B)");
    assert_string_equal(errs.item[1].message, "'a%0ab' is not a valid user: %0a encodes a control character");
    assert_string_equal(errs.item[2].message,
                        "'1001@pbx' is not a valid user: '@' is not allowed (the domain goes in 'domain')");
}

static void test_uint_and_field_text(void **state)
{
    (void)state;
    const struct field_desc *exp = line_field("register_expires");
    assert_non_null(exp);
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(check_uint(exp, 30, "register_expires", &errs), 0);
    assert_int_equal(check_uint(exp, 86400, "register_expires", &errs), 0);
    assert_int_equal(check_uint(exp, 29, "register_expires", &errs), -EINVAL);
    assert_int_equal(check_uint(exp, 86401, "register_expires", &errs), -EINVAL);
    assert_int_equal(check_uint(exp, -1, "register_expires", &errs), -EINVAL);
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.item[0].code, "out_of_range");
    assert_string_equal(errs.item[0].message, "register_expires 29 is out of range: use 30..86400");

    diag_init(&errs);
    const struct field_desc *dom = line_field("domain");
    assert_int_equal(check_field_text(dom, "", 0, "domain", &errs), 0);
    assert_int_equal(check_field_text(dom, "example.com", 11, "domain", &errs), 0);
    assert_int_equal(check_field_text(dom, "[2001:db8::1]", 13, "domain", &errs), 0);
    assert_int_equal(check_field_text(dom, "exa mple.com", 12, "domain", &errs), -EINVAL);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.item[0].code, "invalid_host");
}

static void test_resolved(void **state)
{
    (void)state;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(check_resolved("", "r", &errs), 0);
    assert_int_equal(check_resolved("10 60 5060 udp sip1.example.com 192.0.2.10", "r", &errs), 0);
    assert_int_equal(check_resolved("10 60 5060 udp sip1.example.com 192.0.2.10,2001:db8::10;"
                                    "20 0 5061 tls sip2.example.com 192.0.2.11", "r", &errs), 0);
    assert_int_equal(check_resolved("0 0 5060 udp 192.0.2.7 192.0.2.7", "r", &errs), 0);
    assert_int_equal(errs.n, 0);
    static const char *const bad[] = {
        "10 60 5060 udp sip1.example.com",                  /* no address */
        "10 60 5060 auto sip1.example.com 192.0.2.10",      /* auto is not a transport used */
        "10 60 0 udp sip1.example.com 192.0.2.10",
        "10 60 5060 udp sip1.example.com 192.0.2.10;",      /* empty entry */
        "10 60 5060 udp sip1.example.com 192.0.2.10 x",
        "10 60 5060 udp sip1.example.com 192.0.2.10\nline1.password=x",
        "10 60 5060 udp a;b 192.0.2.10",
        "10  60 5060 udp sip1.example.com 192.0.2.10",
        "10 60 5060 udp sip1.example.com 999.0.2.10",
        "10 60 5060 udp sip1.example.com 192.0.2.10,",
        "x 60 5060 udp sip1.example.com 192.0.2.10",
        "70000 60 5060 udp sip1.example.com 192.0.2.10",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        diag_init(&errs);
        if (check_resolved(bad[i], "line1.proxy.resolved", &errs) != -EINVAL)
            fail_msg("#%zu accepted", i);
        assert_string_equal(errs.item[0].code, "invalid_resolved");
        assert_string_equal(errs.item[0].field, "line1.proxy.resolved");
    }
}

static void set_server(struct line *l, enum server_field f, const char *text)
{
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(server_parse(text, &l->srv[f], "x", &errs), 0);
}

static bool has(const struct diag_list *l, const char *field, const char *code)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->item[i].field, field) == 0 && strcmp(l->item[i].code, code) == 0)
            return true;
    return false;
}

static void test_good_line_no_warnings(void **state)
{
    (void)state;
    struct line l;
    struct diag_list errs, warns;
    line_defaults(&l);
    diag_init(&errs);
    diag_init(&warns);
    /* factory defaults are valid and quiet */
    assert_int_equal(check_line(&l, "", &errs, &warns), 0);
    assert_int_equal(errs.n + warns.n, 0);

    l.enabled = true;
    snprintf(l.user, sizeof l.user, "1001");
    set_server(&l, SF_PROXY, "pbx.example.com");
    set_server(&l, SF_BACKUP_PROXY, "pbx2.example.com");
    set_server(&l, SF_OUTBOUND_PROXY, "sbc.example.com:5061;transport=tls");
    assert_int_equal(check_line(&l, "", &errs, &warns), 0);
    assert_int_equal(errs.n + warns.n, 0);
    /* NULL lists are allowed */
    assert_int_equal(check_line(&l, "", NULL, NULL), 0);
}

static void test_warnings(void **state)
{
    (void)state;
    struct line l;
    struct diag_list errs, warns;
    line_defaults(&l);
    diag_init(&errs);
    diag_init(&warns);
    l.enabled = true;
    assert_int_equal(check_line(&l, "lines[0]", &errs, &warns), 0);
    assert_true(has(&warns, "lines[0].proxy", "no_proxy"));
    assert_true(has(&warns, "lines[0].user", "no_user"));

    diag_init(&warns);
    set_server(&l, SF_PROXY, "pbx.example.com:5060;transport=tls");
    set_server(&l, SF_BACKUP_PROXY, "pbx.example.com:5060;transport=tls");
    set_server(&l, SF_REGISTRAR, "pbx.example.com:5060;transport=tls");
    set_server(&l, SF_OUTBOUND_PROXY, "pbx.example.com:5060;transport=tls");
    set_server(&l, SF_BACKUP_REGISTRAR, "reg.example.com:5061;transport=udp");
    snprintf(l.user, sizeof l.user, "1001");
    assert_int_equal(check_line(&l, "lines[0]", &errs, &warns), 0);
    assert_int_equal(errs.n, 0);
    assert_true(has(&warns, "lines[0].backup_proxy", "backup_same_as_primary"));
    assert_true(has(&warns, "lines[0].registrar", "registrar_same_as_proxy"));
    assert_true(has(&warns, "lines[0].outbound_proxy", "outbound_proxy_same_as_proxy"));
    assert_true(has(&warns, "lines[0].proxy.port", "tls_on_5060"));
    assert_true(has(&warns, "lines[0].backup_registrar.port", "plain_on_5061"));
    assert_false(has(&warns, "lines[0].proxy", "no_proxy"));
    assert_false(has(&warns, "lines[0].user", "no_user"));
    assert_false(has(&warns, "lines[0].backup_registrar", "backup_same_as_primary"));
    for (size_t i = 0; i < warns.n; i++)
        if (strcmp(warns.item[i].code, "registrar_same_as_proxy") == 0)
            assert_string_equal(warns.item[i].message,
                                "registrar is the same server as proxy: leave registrar empty "
                                "(null) and the proxy registers the line");

    /* A broadcast or multicast address is no server (issue 7). */
    line_defaults(&l);
    diag_init(&warns);
    set_server(&l, SF_PROXY, "255.255.255.255");
    set_server(&l, SF_OUTBOUND_PROXY, "224.0.1.75");
    set_server(&l, SF_BACKUP_PROXY, "[ff02::1]:5060");
    set_server(&l, SF_REGISTRAR, "192.0.2.255");
    assert_int_equal(check_line(&l, "lines[0]", &errs, &warns), 0);
    assert_true(has(&warns, "lines[0].proxy.host", "not_unicast"));
    assert_true(has(&warns, "lines[0].outbound_proxy.host", "not_unicast"));
    assert_true(has(&warns, "lines[0].backup_proxy.host", "not_unicast"));
    assert_false(has(&warns, "lines[0].registrar.host", "not_unicast"));   /* a unicast literal */

    /* Without a registrar the proxy registers: a backup registrar equal to it adds nothing. */
    line_defaults(&l);
    diag_init(&warns);
    set_server(&l, SF_PROXY, "pbx.example.com");
    set_server(&l, SF_BACKUP_REGISTRAR, "PBX.example.com.");
    check_line(&l, "", &errs, &warns);
    assert_true(has(&warns, "backup_registrar", "backup_same_as_primary"));

    /* A backup without a primary is never tried. */
    line_defaults(&l);
    diag_init(&warns);
    set_server(&l, SF_BACKUP_PROXY, "pbx2.example.com");
    set_server(&l, SF_BACKUP_REGISTRAR, "reg2.example.com");
    check_line(&l, "", &errs, &warns);
    assert_true(has(&warns, "backup_proxy", "backup_without_primary"));
    assert_true(has(&warns, "backup_registrar", "backup_without_primary"));
    assert_int_equal(errs.n, 0);
}

/* A struct that did not come through the parsers (a corrupt image, a caller's
 * bug) is checked field by field with paths under the prefix. */
static void test_bad_line_struct(void **state)
{
    (void)state;
    struct line l;
    struct diag_list errs;
    line_defaults(&l);
    diag_init(&errs);
    memset(l.label, 'a', sizeof l.label);              /* unterminated: too long */
    snprintf(l.display_name, sizeof l.display_name, "a\nb");
    snprintf(l.user, sizeof l.user, "a;b");
    snprintf(l.auth_user, sizeof l.auth_user, "x y");
    snprintf(l.password, sizeof l.password, "pw\r");
    snprintf(l.domain, sizeof l.domain, "bad domain");
    l.register_expires = 29;
    l.srv[SF_REGISTRAR].set = true;
    snprintf(l.srv[SF_REGISTRAR].host, sizeof l.srv[SF_REGISTRAR].host, "$(reboot)");
    l.srv[SF_PROXY].set = true;
    snprintf(l.srv[SF_PROXY].host, sizeof l.srv[SF_PROXY].host, "pbx.example.com");
    snprintf(l.resolved[SF_PROXY], sizeof l.resolved[SF_PROXY], "garbage");
    assert_int_equal(check_line(&l, "lines[3]", &errs, NULL), -EINVAL);
    static const char *const want[][2] = {
        {"lines[3].label", "too_long"},
        {"lines[3].display_name", "control_character"},
        {"lines[3].user", "invalid_user"},
        {"lines[3].auth_user", "invalid_user"},
        {"lines[3].password", "control_character"},
        {"lines[3].domain", "invalid_host"},
        {"lines[3].register_expires", "out_of_range"},
        {"lines[3].proxy.resolved", "invalid_resolved"},
        {"lines[3].registrar.host", "invalid_host"},
    };
    assert_int_equal(errs.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < errs.n; i++) {
        assert_string_equal(errs.item[i].field, want[i][0]);
        assert_string_equal(errs.item[i].code, want[i][1]);
    }
    /* the password is not quoted */
    assert_null(strstr(errs.item[4].message, "pw"));
}

static void test_config(void **state)
{
    (void)state;
    struct config c;
    struct diag_list errs, warns;
    config_defaults(&c, 4);
    diag_init(&errs);
    diag_init(&warns);
    assert_int_equal(check_config(&c, &errs, &warns), 0);
    c.line[2].enabled = true;
    c.line[3].register_expires = 10;
    snprintf(c.admin_ha1, sizeof c.admin_ha1, "ABC");
    assert_int_equal(check_config(&c, &errs, &warns), -EINVAL);
    assert_true(has(&errs, "lines[3].register_expires", "out_of_range"));
    assert_true(has(&errs, "admin.ha1", "invalid_type"));
    assert_true(has(&warns, "lines[2].proxy", "no_proxy"));
    c.nlines = 17;
    diag_init(&errs);
    assert_int_equal(check_config(&c, &errs, NULL), -EINVAL);
    assert_string_equal(errs.item[0].field, "lines");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_text_messages),
        cmocka_unit_test(test_diag_quote),
        cmocka_unit_test(test_secret_is_never_quoted),
        cmocka_unit_test(test_user),
        cmocka_unit_test(test_uint_and_field_text),
        cmocka_unit_test(test_resolved),
        cmocka_unit_test(test_good_line_no_warnings),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_bad_line_struct),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

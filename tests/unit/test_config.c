/* Unit tests of config.c: the flash keys of API.md section 8, config -> kv ->
 * config round trips, and a corrupt or hand-edited image that must not bring
 * in anything the API would refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "flash.h"
#include "json.h"
#include "kv.h"
#include "hostport.h"

/* "key=value\n" for every entry, sorted (kv keeps keys sorted). */
static char *kv_text(const struct kv *kv)
{
    size_t cap = 1 << 16, o = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '\0';
    for (size_t i = 0; i < kv_count(kv); i++) {
        int w = snprintf(s + o, cap - o, "%s=%s\n", kv_key_at(kv, i), kv_value_at(kv, i));
        assert_true(w > 0 && (size_t)w < cap - o);
        o += (size_t)w;
    }
    return s;
}

static void test_default_keys(void **state)
{
    (void)state;
    struct config c;
    struct kv *kv = kv_new();
    config_defaults(&c, 1);
    assert_int_equal(config_to_kv(&c, kv), 0);
    char *s = kv_text(kv);
    /* Every line is written, defaults included; no server, no admin key. */
    assert_string_equal(s,
                        "line1.auth_user=\n"
                        "line1.display_name=\n"
                        "line1.dns_srv=1\n"
                        "line1.domain=\n"
                        "line1.enabled=0\n"
                        "line1.label=\n"
                        "line1.password=\n"
                        "line1.register=1\n"
                        "line1.register_expires=3600\n"
                        "line1.user=\n");
    free(s);
    config_defaults(&c, 6);
    assert_int_equal(config_to_kv(&c, kv), 0);
    assert_int_equal(kv_count(kv), 60);
    assert_string_equal(kv_get(kv, "line6.enabled"), "0");
    assert_null(kv_get(kv, "line7.enabled"));
    kv_free(kv);
}

static void sample(struct config *c)
{
    struct diag_list errs;
    diag_init(&errs);
    config_defaults(c, 2);
    struct line *l = &c->line[1];
    l->enabled = true;
    snprintf(l->label, sizeof l->label, "B\xc3\xbcro");
    snprintf(l->display_name, sizeof l->display_name, "Alice = Example");
    snprintf(l->user, sizeof l->user, "1001");
    snprintf(l->auth_user, sizeof l->auth_user, "a1001");
    snprintf(l->password, sizeof l->password, "pw=x;y");
    snprintf(l->domain, sizeof l->domain, "example.com");
    l->dns_srv = false;
    l->reg = false;
    l->register_expires = 120;
    assert_int_equal(server_parse("pbx.example.com", &l->srv[SF_PROXY], "p", &errs), 0);
    assert_int_equal(server_parse("sips:[2001:db8::1]:5061", &l->srv[SF_OUTBOUND_PROXY], "p", &errs), 0);
    assert_int_equal(server_parse("192.0.2.9:5070;transport=udp", &l->srv[SF_BACKUP_PROXY], "p", &errs), 0);
    snprintf(l->resolved[SF_PROXY], sizeof l->resolved[0],
             "10 60 5060 udp sip1.example.com 192.0.2.10,2001:db8::10;20 0 5060 udp sip2.example.com 192.0.2.11");
    snprintf(c->admin_ha1, sizeof c->admin_ha1,
             "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
}

static void test_keys_of_a_line(void **state)
{
    (void)state;
    struct config c;
    struct kv *kv = kv_new();
    sample(&c);
    assert_int_equal(config_to_kv(&c, kv), 0);
    char *s = kv_text(kv);
    const char *want =
        "admin.ha1=5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\n"
        "line1.auth_user=\n"
        "line1.display_name=\n"
        "line1.dns_srv=1\n"
        "line1.domain=\n"
        "line1.enabled=0\n"
        "line1.label=\n"
        "line1.password=\n"
        "line1.register=1\n"
        "line1.register_expires=3600\n"
        "line1.user=\n"
        "line2.auth_user=a1001\n"
        "line2.backup_proxy.host=192.0.2.9\n"
        "line2.backup_proxy.port=5070\n"
        "line2.backup_proxy.transport=udp\n"
        "line2.display_name=Alice = Example\n"
        "line2.dns_srv=0\n"
        "line2.domain=example.com\n"
        "line2.enabled=1\n"
        "line2.label=B\xc3\xbcro\n"
        "line2.outbound_proxy.host=2001:db8::1\n"
        "line2.outbound_proxy.port=5061\n"
        "line2.outbound_proxy.transport=tls\n"
        "line2.password=pw=x;y\n"
        "line2.proxy.host=pbx.example.com\n"
        "line2.proxy.resolved=10 60 5060 udp sip1.example.com 192.0.2.10,2001:db8::10;"
        "20 0 5060 udp sip2.example.com 192.0.2.11\n"
        "line2.proxy.transport=auto\n"
        "line2.register=0\n"
        "line2.register_expires=120\n"
        "line2.user=1001\n";
    assert_string_equal(s, want);
    free(s);
    kv_free(kv);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct config c, back;
    struct diag_list errs;
    struct kv *kv = kv_new();
    diag_init(&errs);
    sample(&c);
    assert_int_equal(config_to_kv(&c, kv), 0);
    assert_int_equal(config_lines_in_kv(kv), LINE_DEFAULT_LINES);   /* 2 lines: at least 6 */
    assert_int_equal(config_from_kv(kv, 2, &back, &errs), 0);
    assert_int_equal(errs.n, 0);
    assert_true(config_diff(&c, &back) == 0);

    /* through the payload form too, and byte-identical when written again */
    unsigned char *buf;
    size_t len;
    struct kv *parsed, *again = kv_new();
    assert_int_equal(kv_serialize(kv, &buf, &len), 0);
    assert_int_equal(kv_parse(buf, len, &parsed), 0);
    assert_int_equal(config_from_kv(parsed, 2, &back, &errs), 0);
    assert_true(config_diff(&c, &back) == 0);
    assert_int_equal(config_to_kv(&back, again), 0);
    assert_true(kv_equal(kv, again));
    free(buf);
    kv_free(parsed);
    kv_free(again);

    /* an empty image is factory defaults without diagnostics */
    kv_clear(kv);
    struct config def;
    config_defaults(&def, 6);
    assert_int_equal(config_from_kv(kv, 6, &back, &errs), 0);
    assert_true(config_diff(&def, &back) == 0);
    assert_int_equal(errs.n, 0);
    kv_free(kv);
}

static void test_equal_notices_every_field(void **state)
{
    (void)state;
    struct config a, b;
    sample(&a);
    b = a;
    assert_true(config_diff(&a, &b) == 0);
    b.line[1].srv[SF_BACKUP_PROXY].port = 5071;
    assert_false(config_diff(&a, &b) == 0);
    b = a;
    b.line[1].resolved[SF_PROXY][0] = '\0';
    assert_false(config_diff(&a, &b) == 0);
    assert_false(line_equal(&a.line[1], &b.line[1], true));
    assert_true(line_equal(&a.line[1], &b.line[1], false));
    b = a;
    b.admin_ha1[0] = '\0';
    assert_false(config_diff(&a, &b) == 0);
    b = a;
    b.nlines = 3;
    assert_false(config_diff(&a, &b) == 0);
    b = a;
    b.line[1].password[0] = '\0';
    assert_false(config_diff(&a, &b) == 0);
}

struct corrupt {
    const char *key, *value;
    const char *code;
};

/* Each value is what a corrupt or hand-edited image could hold (kv itself
 * already refuses control characters, so these are the rest). */
static const struct corrupt corrupt[] = {
    {"line1.enabled", "yes", "invalid_type"},
    {"line1.enabled", "2", "invalid_type"},
    {"line1.dns_srv", "", "invalid_type"},
    {"line1.register_expires", "10", "out_of_range"},
    {"line1.register_expires", "86401", "out_of_range"},
    {"line1.register_expires", "3600s", "invalid_type"},
    {"line1.register_expires", "-1", "invalid_type"},
    {"line1.register_expires", "99999999999", "invalid_type"},
    {"line1.user", ";reboot", "invalid_user"},
    {"line1.user", "$(id)", "invalid_user"},
    {"line1.auth_user", "a%0ab", "invalid_user"},
    {"line1.label", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "too_long"},
    {"line1.display_name", "a\xc2\x85" "b", "control_character"},
    {"line1.display_name", "\xc0\xaf", "invalid_utf8"},
    {"line1.domain", "bad domain", "invalid_host"},
    {"line1.proxy.host", "evil.example.com;reboot", "invalid_host"},
    {"line1.proxy.host", "$(id)", "invalid_host"},
    {"line1.proxy.host", "pbx.example.com:5060", "invalid_host"},
    {"line1.registrar.port", "5060", "missing_field"},
    {"line1.backup_proxy.transport", "udp", "missing_field"},
    {"admin.ha1", "not-a-hash", "invalid_type"},
    {"admin.ha1", "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8", "invalid_type"},
};

static void test_corrupt_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        struct config c, def;
        struct diag_list errs;
        struct kv *kv = kv_new();
        diag_init(&errs);
        config_defaults(&def, 2);
        assert_int_equal(config_to_kv(&def, kv), 0);
        assert_int_equal(kv_set(kv, corrupt[i].key, corrupt[i].value), 0);
        int rc = config_from_kv(kv, 2, &c, &errs);
        if (rc != -EINVAL || errs.n != 1)
            fail_msg("#%zu %s=%s: rc %d, %zu diagnostics", i, corrupt[i].key, corrupt[i].value,
                     rc, errs.n);
        if (strcmp(errs.item[0].code, corrupt[i].code) != 0 ||
            strncmp(errs.item[0].field, corrupt[i].key, strlen(errs.item[0].field)) != 0)
            fail_msg("#%zu %s=%s: %s at %s, want %s", i, corrupt[i].key, corrupt[i].value,
                     errs.item[0].code, errs.item[0].field, corrupt[i].code);
        /* the bad value gives way to the default */
        assert_true(config_diff(&c, &def) == 0);
        kv_free(kv);
    }
}

/* A server with one bad key is dropped as a whole, each problem named. */
static void test_bad_server_keys(void **state)
{
    (void)state;
    struct config c;
    struct diag_list errs;
    struct kv *kv = kv_new();
    diag_init(&errs);
    assert_int_equal(kv_set(kv, "line1.proxy.host", "pbx.example.com"), 0);
    assert_int_equal(kv_set(kv, "line1.proxy.port", "0"), 0);
    assert_int_equal(kv_set(kv, "line1.proxy.transport", "sctp"), 0);
    assert_int_equal(kv_set(kv, "line1.proxy.resolved", "10 60 5060 udp a.example.com 192.0.2.1 ;x"), 0);
    assert_int_equal(kv_set(kv, "line2.proxy.host", "PBX.Example.COM."), 0);
    assert_int_equal(kv_set(kv, "line2.proxy.port", "5060"), 0);
    assert_int_equal(kv_set(kv, "line2.proxy.transport", "tcp"), 0);
    assert_int_equal(config_from_kv(kv, 2, &c, &errs), -EINVAL);
    assert_int_equal(errs.n, 3);
    assert_string_equal(errs.item[0].field, "line1.proxy.port");
    assert_string_equal(errs.item[0].code, "invalid_port");
    assert_string_equal(errs.item[1].field, "line1.proxy.transport");
    assert_string_equal(errs.item[2].field, "line1.proxy.resolved");
    assert_false(c.line[0].srv[SF_PROXY].set);
    /* a good server beside it is read, normalised */
    assert_true(c.line[1].srv[SF_PROXY].set);
    assert_string_equal(c.line[1].srv[SF_PROXY].host, "pbx.example.com");
    assert_int_equal(c.line[1].srv[SF_PROXY].port, 5060);
    assert_int_equal(c.line[1].srv[SF_PROXY].transport, TRANSPORT_TCP);
    kv_free(kv);
}

static void test_lines_in_kv(void **state)
{
    (void)state;
    struct kv *kv = kv_new();
    assert_int_equal(config_lines_in_kv(kv), LINE_DEFAULT_LINES);
    assert_int_equal(kv_set(kv, "line9.enabled", "1"), 0);
    assert_int_equal(config_lines_in_kv(kv), 9);
    assert_int_equal(kv_set(kv, "line16.label", "x"), 0);
    assert_int_equal(config_lines_in_kv(kv), 16);
    assert_int_equal(kv_set(kv, "line17.label", "x"), 0);      /* beyond the maximum: ignored */
    assert_int_equal(kv_set(kv, "line99.label", "x"), 0);
    assert_int_equal(kv_set(kv, "line0.label", "x"), 0);
    assert_int_equal(kv_set(kv, "lineup.label", "x"), 0);
    assert_int_equal(config_lines_in_kv(kv), 16);
    /* keys above nlines and unknown keys are ignored when reading */
    struct config c, def;
    struct diag_list errs;
    diag_init(&errs);
    assert_int_equal(kv_set(kv, "line3.bogus", "1"), 0);
    assert_int_equal(kv_set(kv, "line12.enabled", "maybe"), 0);
    kv_del(kv, "line9.enabled");
    kv_del(kv, "line16.label");
    assert_int_equal(config_from_kv(kv, 8, &c, &errs), 0);
    config_defaults(&def, 8);
    assert_true(config_diff(&c, &def) == 0);
    kv_free(kv);
}

static void test_defaults_clamp(void **state)
{
    (void)state;
    struct config c;
    config_defaults(&c, 0);
    assert_int_equal(c.nlines, 1);
    config_defaults(&c, 99);
    assert_int_equal(c.nlines, LINE_MAX_LINES);
    assert_false(c.line[15].enabled);
    assert_true(c.line[15].dns_srv);
    assert_int_equal(c.line[15].register_expires, 3600);
    assert_string_equal(c.admin_ha1, "");
}


/* THREATS.md A1-A3 through every field of the table: a payload is refused, or
 * (where the field's grammar allows its characters) stored so that the image
 * read back after a "reboot" has exactly the same keys and the byte-identical
 * value: no payload can pose as a key of its own. Server and domain fields
 * refuse all of them (positive validation); control characters are refused
 * everywhere. */
static void test_injection_payloads_every_field(void **state)
{
    (void)state;
    static const struct { const char *json; bool has_control; } payloads[] = {
        {"sip.example.com;reboot", false}, {"$(id)", false}, {"`id`", false},
        {"a|b", false}, {"a&&b", false}, {"a\\\\nb", false}, {"a%0ab", false},
        {"-oProxyCommand=x", false}, {"--help", false}, {"a b", false}, {"%0d%0a", false},
        {"%dt", false}, {"a=b", false}, {"line2.proxy.host=evil", false},
        {"\\\"quoted\\\"", false}, {"pbx.example.com\\uff1breboot", false},
        {"\\uff04(id)", false}, {" pbx.example.com", false}, {"pbx.example.com ", false},
        {"xn--", false}, {"a.example.com\\r\\nline1.password=x", true},
        {"a\\nline2.proxy=evil", true}, {"a\\tb", true}, {"a\\u000bb", true},
        {"a\\u000cb", true}, {"a\\u0085b", true}, {"a\\u001b[2J", true},
    };
    struct config def;
    struct kv *def_kv = kv_new();
    config_defaults(&def, 1);
    assert_int_equal(config_to_kv(&def, def_kv), 0);

    for (size_t f = 0; f < line_nfields; f++) {
        const struct field_desc *d = &line_fields[f];
        if (d->type == FT_BOOL || d->type == FT_UINT)
            continue;
        for (size_t p = 0; p < sizeof payloads / sizeof payloads[0]; p++) {
            char body[256];
            snprintf(body, sizeof body, "{\"%s\":\"%s\"}", d->json, payloads[p].json);
            struct json_syntax_error je;
            json_t *j = json_parse_body(body, strlen(body), &je);
            if (!j)
                fail_msg("test body %s: %s", body, je.text);
            struct config c;
            struct diag_list errs;
            diag_init(&errs);
            config_defaults(&c, 1);
            int rc = line_from_json(j, 1, NULL, &c.line[0], "", &errs);
            json_decref(j);
            if (d->type == FT_SERVER || d->type == FT_DOMAIN || payloads[p].has_control) {
                if (rc == 0)
                    fail_msg("%s accepted", body);
                continue;
            }
            if (rc != 0)
                continue;
            /* accepted: write, "reboot", read */
            struct kv *kv = kv_new(), *parsed;
            unsigned char *buf;
            size_t len;
            assert_int_equal(config_to_kv(&c, kv), 0);
            assert_int_equal(kv_serialize(kv, &buf, &len), 0);
            assert_int_equal(kv_parse(buf, len, &parsed), 0);
            assert_int_equal(kv_count(parsed), kv_count(def_kv));
            for (size_t i = 0; i < kv_count(parsed); i++)
                assert_string_equal(kv_key_at(parsed, i), kv_key_at(def_kv, i));
            char key[64];
            snprintf(key, sizeof key, "line1.%s", d->key);
            json_t *o = json_loads(body, 0, NULL);
            assert_string_equal(kv_get(parsed, key), json_string_value(json_object_get(o, d->json)));
            json_decref(o);
            struct config back;
            assert_int_equal(config_from_kv(parsed, 1, &back, &errs), 0);
            assert_true(config_diff(&c, &back) == 0);
            free(buf);
            kv_free(kv);
            kv_free(parsed);
        }
    }
    kv_free(def_kv);
}

/* A writer of fewer lines than the image holds (sipcfgd --lines 6 on an image
 * of 8) keeps lines 7 and 8; config_commit_kept reads them from flash for its
 * first commit only, and again after someone else wrote. */
static void test_commit_keeps_higher_lines_once(void **state)
{
    (void)state;
    char path[] = "/tmp/sipcfg-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    struct store *st;
    struct store_info info;
    assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
    struct config *c = calloc(2, sizeof *c), *back = c + 1;
    assert_non_null(c);
    config_defaults(c, 8);
    snprintf(c->line[7].label, sizeof c->line[7].label, "eight");
    assert_int_equal(config_commit(st, c, NULL, &info), 0);
    uint32_t gen = info.generation;

    config_defaults(c, 6);
    struct kv *kept = NULL;
    struct flash *fl = store_flash(st);
    unsigned long long reads[2];
    for (int i = 0; i < 2; i++) {
        snprintf(c->line[0].label, sizeof c->line[0].label, "commit %d", i);
        unsigned long long before = flash_reads(fl);
        assert_int_equal(config_commit_kept(st, c, &gen, &kept, &info), 0);
        reads[i] = flash_reads(fl) - before;
        gen = info.generation;
        assert_non_null(kept);
    }
    assert_true(reads[1] < reads[0]);          /* lines 7 and 8 were not read again */
    assert_int_equal(config_load(st, 8, back, NULL, NULL, NULL), 0);
    assert_string_equal(back->line[0].label, "commit 1");
    assert_string_equal(back->line[7].label, "eight");

    uint32_t stale = gen - 1;                  /* someone else wrote meanwhile */
    assert_int_equal(config_commit_kept(st, c, &stale, &kept, &info), -ESTALE);
    assert_null(kept);
    store_close(st);
    unlink(path);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_keys),
        cmocka_unit_test(test_keys_of_a_line),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_equal_notices_every_field),
        cmocka_unit_test(test_corrupt_values),
        cmocka_unit_test(test_bad_server_keys),
        cmocka_unit_test(test_lines_in_kv),
        cmocka_unit_test(test_defaults_clamp),
        cmocka_unit_test(test_injection_payloads_every_field),
        cmocka_unit_test(test_commit_keeps_higher_lines_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of json.c: the line object of API.md section 2, errors with
 * codes, paths and hints, write-only passwords, PUT /config's shape, and
 * RFC 7396 merge patch (its appendix A examples). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "json.h"
#include "hostport.h"

static json_t *parse(const char *body)
{
    struct json_syntax_error e;
    json_t *v = json_parse_body(body, strlen(body), &e);
    if (!v)
        fail_msg("body did not parse: %s (%d:%d) in %s", e.text, e.line, e.column, body);
    return v;
}

static char *dump(const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    assert_non_null(s);
    return s;
}

/* ---- syntax ---- */

static void test_syntax_errors(void **state)
{
    (void)state;
    struct json_syntax_error e;
    const char *dup = "{\"proxy\":\"a\",\"proxy\":\"b\"}";
    assert_null(json_parse_body(dup, strlen(dup), &e));
    assert_string_equal(e.code, "duplicate_key");
    assert_int_equal(e.line, 1);
    assert_true(e.column > 0);
    assert_non_null(strstr(e.text, "duplicate"));

    const char *nested = "{\n  \"proxy\": {\"host\": \"a\",\n    \"host\": \"b\"}\n}";
    assert_null(json_parse_body(nested, strlen(nested), &e));
    assert_string_equal(e.code, "duplicate_key");
    assert_int_equal(e.line, 3);

    const char *bad = "{\n  \"enabled\": true,\n  \"label\": \"x\",,\n}";
    assert_null(json_parse_body(bad, strlen(bad), &e));
    assert_string_equal(e.code, "invalid_json");
    assert_int_equal(e.line, 3);
    assert_true(e.column > 0);

    assert_null(json_parse_body("[1,2]", 5, &e));
    assert_string_equal(e.code, "not_an_object");
    assert_null(json_parse_body("", 0, &e));
    assert_string_equal(e.code, "invalid_json");
    assert_null(json_parse_body("{\"a\":\"\\u0000\"}", 14, &e));
    assert_null(json_parse_body("{} {}", 5, &e));
    assert_null(json_parse_body("{\"a\":5}", 3, &e));     /* length is honoured */
    /* invalid UTF-8 is a syntax error; the text never carries raw bytes */
    const char *raw = "{\"label\":\"\xc0\xaf\"}";
    assert_null(json_parse_body(raw, strlen(raw), &e));
    for (const char *p = e.text; *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    json_t *ok = json_parse_body("{\"a\":1}", 7, &e);
    assert_non_null(ok);
    json_decref(ok);
}

/* ---- the line object ---- */

static const char api_example[] =
    "{\"line\":1,\"enabled\":true,\"label\":\"Office\",\"display_name\":\"Alice Example\","
    "\"user\":\"1001\",\"auth_user\":\"1001\",\"password_set\":true,\"domain\":\"\","
    "\"dns_srv\":true,\"register\":true,\"register_expires\":3600,"
    "\"proxy\":{\"host\":\"example.com\",\"port\":null,\"transport\":\"auto\"},"
    "\"registrar\":null,\"outbound_proxy\":null,\"backup_proxy\":null,\"backup_registrar\":null}";

static void test_defaults_json(void **state)
{
    (void)state;
    struct line l;
    line_defaults(&l);
    json_t *j = line_to_json(&l, 3);
    /* provenance and locks come last; test_provenance.c looks at them */
    assert_int_equal(json_object_size(json_object_get(j, "provenance")), line_nfields);
    assert_int_equal(json_array_size(json_object_get(j, "locked")), 0);
    json_object_del(j, "provenance");
    json_object_del(j, "locked");
    char *s = dump(j);
    assert_string_equal(s,
        "{\"line\":3,\"enabled\":false,\"label\":\"\",\"display_name\":\"\",\"user\":\"\","
        "\"auth_user\":\"\",\"password_set\":false,\"domain\":\"\",\"dns_srv\":true,"
        "\"register\":true,\"register_expires\":3600,\"proxy\":null,\"registrar\":null,"
        "\"outbound_proxy\":null,\"backup_proxy\":null,\"backup_registrar\":null}");
    free(s);
    /* An empty object is the factory line (PUT: absent fields take defaults). */
    struct line back;
    struct diag_list errs;
    diag_init(&errs);
    json_t *empty = json_object();
    assert_int_equal(line_from_json(empty, 3, NULL, &back, "", &errs), 0);
    assert_true(line_equal(&l, &back, true));
    json_decref(empty);
    json_decref(j);
}

/* api/lines.c keeps a line's JSON and ETag while the bytes before
 * `resolved` stay the same: the last DNS answers must not show in the JSON. */
static void test_json_ignores_resolved(void **state)
{
    (void)state;
    struct line l;
    line_defaults(&l);
    json_t *j = line_to_json(&l, 1);
    char *before = dump(j);
    json_decref(j);
    for (int f = 0; f < SF_COUNT; f++)
        snprintf(l.resolved[f], sizeof l.resolved[f], "udp:192.0.2.%d:5060", f + 1);
    j = line_to_json(&l, 1);
    char *after = dump(j);
    json_decref(j);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_api_example_round_trip(void **state)
{
    (void)state;
    struct line cur, l;
    struct diag_list errs;
    line_defaults(&cur);
    snprintf(cur.password, sizeof cur.password, "S3cr3t-XYZ");
    diag_init(&errs);
    json_t *in = parse(api_example);
    /* What a GET returns can be sent back as a PUT. */
    assert_int_equal(line_from_json(in, 1, &cur, &l, "", &errs), 0);
    assert_true(l.enabled);
    assert_string_equal(l.label, "Office");
    assert_string_equal(l.password, "S3cr3t-XYZ");      /* absent: kept */
    assert_true(l.srv[SF_PROXY].set);
    assert_string_equal(l.srv[SF_PROXY].host, "example.com");
    json_t *out = line_to_json(&l, 1);
    json_t *bare = json_deep_copy(out);
    json_object_del(bare, "provenance");
    json_object_del(bare, "locked");
    char *s = dump(bare);
    json_decref(bare);
    assert_string_equal(s, api_example);
    assert_null(strstr(s, "S3cr3t"));
    free(s);
    /* line -> JSON -> line */
    struct line again;
    assert_int_equal(line_from_json(out, 1, &l, &again, "", &errs), 0);
    assert_true(line_equal(&l, &again, true));
    json_decref(in);
    json_decref(out);
}

static void test_full_line_round_trip(void **state)
{
    (void)state;
    struct line l, back;
    struct diag_list errs;
    diag_init(&errs);
    line_defaults(&l);
    l.enabled = true;
    snprintf(l.label, sizeof l.label, "B\xc3\xbcro <3> \"x\"");
    snprintf(l.display_name, sizeof l.display_name, "Zo\xc3\xab O'Brien");
    snprintf(l.user, sizeof l.user, "+49%%2030");
    snprintf(l.auth_user, sizeof l.auth_user, "auth.1001");
    snprintf(l.password, sizeof l.password, "pa ss=word;$(x)");
    snprintf(l.domain, sizeof l.domain, "example.com");
    l.dns_srv = false;
    l.reg = false;
    l.register_expires = 86400;
    const char *srv[SF_COUNT] = {"sips:pbx.example.com:5061", "192.0.2.7:5070;transport=udp",
                                 "[2001:db8::1]", "sip:pbx2.example.com;transport=tcp", ""};
    for (int f = 0; f < SF_COUNT; f++)
        assert_int_equal(server_parse(srv[f], &l.srv[f], "x", &errs), 0);
    json_t *j = line_to_json(&l, 2);
    char *s = dump(j);
    assert_null(strstr(s, "pa ss"));
    assert_non_null(strstr(s, "\"password_set\":true"));
    free(s);
    assert_int_equal(line_from_json(j, 2, &l, &back, "", &errs), 0);
    assert_true(line_equal(&l, &back, true));
    /* without a current line, a password not given is none */
    assert_int_equal(line_from_json(j, 2, NULL, &back, "", &errs), 0);
    assert_string_equal(back.password, "");
    json_decref(j);
    assert_int_equal(errs.n, 0);
}

static void test_password_semantics(void **state)
{
    (void)state;
    struct line cur, l;
    struct diag_list errs;
    diag_init(&errs);
    line_defaults(&cur);
    snprintf(cur.password, sizeof cur.password, "old-secret");
    json_t *j = parse("{\"password\":\"new-secret\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_string_equal(l.password, "new-secret");
    json_decref(j);
    j = parse("{\"password\":\"\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_string_equal(l.password, "");
    json_decref(j);
    j = parse("{\"label\":\"x\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_string_equal(l.password, "old-secret");
    json_decref(j);
    j = parse("{\"password\":null}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), -EINVAL);
    assert_string_equal(errs.item[0].code, "invalid_type");
    json_decref(j);
    /* a bad password is refused without quoting it */
    diag_init(&errs);
    j = parse("{\"password\":\"hunter2\\r\\nline1.password=x\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), -EINVAL);
    assert_string_equal(errs.item[0].code, "control_character");
    assert_null(strstr(errs.item[0].message, "hunter"));
    json_decref(j);
}

/* ---- errors: code and path for each, with prefix "lines[0]" ---- */

struct bad_body {
    const char *body;
    const char *code;
    const char *field;
};

static const struct bad_body bad_bodies[] = {
    /* unknown keys */
    {"{\"outbound\":null}", "unknown_field", "lines[0].outbound"},
    {"{\"sip_server\":\"pbx.example.com\"}", "unknown_field", "lines[0].sip_server"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"hots\":1}}", "unknown_field", "lines[0].proxy.hots"},
    {"{\"evil\":1}", "unknown_field", "lines[0].evil"},
    {"{\"auth_password\":\"x\"}", "unknown_field", "lines[0].auth_password"},
    /* types */
    {"{\"enabled\":\"true\"}", "invalid_type", "lines[0].enabled"},
    {"{\"enabled\":1}", "invalid_type", "lines[0].enabled"},
    {"{\"dns_srv\":null}", "invalid_type", "lines[0].dns_srv"},
    {"{\"register_expires\":3600.0}", "invalid_type", "lines[0].register_expires"},
    {"{\"register_expires\":\"3600\"}", "invalid_type", "lines[0].register_expires"},
    {"{\"register_expires\":29}", "out_of_range", "lines[0].register_expires"},
    {"{\"register_expires\":86401}", "out_of_range", "lines[0].register_expires"},
    {"{\"register_expires\":-5}", "out_of_range", "lines[0].register_expires"},
    {"{\"register_expires\":99999999999999999}", "out_of_range", "lines[0].register_expires"},
    {"{\"label\":42}", "invalid_type", "lines[0].label"},
    {"{\"label\":null}", "invalid_type", "lines[0].label"},
    {"{\"line\":2}", "read_only", "lines[0].line"},
    {"{\"line\":\"1\"}", "invalid_type", "lines[0].line"},
    {"{\"password_set\":\"yes\"}", "invalid_type", "lines[0].password_set"},
    {"{\"proxy\":42}", "invalid_type", "lines[0].proxy"},
    {"{\"proxy\":[\"pbx.example.com\"]}", "invalid_type", "lines[0].proxy"},
    {"{\"proxy\":true}", "invalid_type", "lines[0].proxy"},
    {"{\"proxy\":{}}", "missing_field", "lines[0].proxy.host"},
    {"{\"proxy\":{\"port\":5060}}", "missing_field", "lines[0].proxy.host"},
    {"{\"proxy\":{\"host\":5}}", "invalid_type", "lines[0].proxy.host"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"port\":\"5060\"}}", "invalid_type", "lines[0].proxy.port"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"port\":5060.0}}", "invalid_type", "lines[0].proxy.port"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"port\":0}}", "invalid_port", "lines[0].proxy.port"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"port\":65536}}", "invalid_port", "lines[0].proxy.port"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"transport\":\"sctp\"}}", "invalid_transport", "lines[0].proxy.transport"},
    {"{\"proxy\":{\"host\":\"pbx.example.com\",\"transport\":6}}", "invalid_type", "lines[0].proxy.transport"},
    {"{\"proxy\":{\"host\":\"pbx.example.com:5060\"}}", "invalid_host", "lines[0].proxy.host"},
    {"{\"proxy\":{\"host\":\"sip:pbx.example.com\"}}", "invalid_host", "lines[0].proxy.host"},
    /* server strings */
    {"{\"proxy\":\"pbx example.com\"}", "invalid_host", "lines[0].proxy.host"},
    {"{\"outbound_proxy\":\"sip.example.com;reboot\"}", "invalid_parameter", "lines[0].outbound_proxy"},
    {"{\"registrar\":\"$(id)\"}", "invalid_host", "lines[0].registrar.host"},
    {"{\"backup_proxy\":\"a.example.com\\r\\nline1.password=x\"}", "invalid_host", "lines[0].backup_proxy.host"},
    {"{\"backup_registrar\":\"pbx.example.com:0\"}", "invalid_port", "lines[0].backup_registrar.port"},
    {"{\"proxy\":\"pbx.example.com\\uff1breboot\"}", "invalid_host", "lines[0].proxy.host"},
    {"{\"proxy\":\"\\tpbx.example.com\"}", "invalid_host", "lines[0].proxy.host"},
    /* text fields */
    {"{\"label\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "too_long", "lines[0].label"},
    {"{\"display_name\":\"a\\nb\"}", "control_character", "lines[0].display_name"},
    {"{\"display_name\":\"a\\u0085b\"}", "control_character", "lines[0].display_name"},
    {"{\"label\":\"\\u001b[31m\"}", "control_character", "lines[0].label"},
    {"{\"user\":\";reboot\"}", "invalid_user", "lines[0].user"},
    {"{\"user\":\"$(id)\"}", "invalid_user", "lines[0].user"},
    {"{\"user\":\"a%0ab\"}", "invalid_user", "lines[0].user"},
    {"{\"user\":\"1001\\uff1b\"}", "invalid_user", "lines[0].user"},
    {"{\"auth_user\":\" 1001\"}", "invalid_user", "lines[0].auth_user"},
    {"{\"domain\":\"exa mple.com\"}", "invalid_host", "lines[0].domain"},
    {"{\"domain\":\"example.com;x\"}", "invalid_host", "lines[0].domain"},
};

static void test_bad_bodies(void **state)
{
    (void)state;
    struct line cur;
    line_defaults(&cur);
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
        const struct bad_body *b = &bad_bodies[i];
        struct line l;
        struct diag_list errs;
        diag_init(&errs);
        json_t *j = parse(b->body);
        int rc = line_from_json(j, 1, &cur, &l, "lines[0]", &errs);
        json_decref(j);
        if (rc != -EINVAL || errs.n == 0)
            fail_msg("#%zu %s accepted", i, b->body);
        if (strcmp(errs.item[0].code, b->code) != 0 || strcmp(errs.item[0].field, b->field) != 0)
            fail_msg("#%zu %s: %s at %s (%s), want %s at %s", i, b->body, errs.item[0].code,
                     errs.item[0].field, errs.item[0].message, b->code, b->field);
    }
    /* 64 bytes is fine */
    struct line l;
    struct diag_list errs;
    diag_init(&errs);
    json_t *j = parse("{\"label\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_int_equal(strlen(l.label), 64);
    json_decref(j);
}

static const char *first_message(const char *body, const char *prefix)
{
    static struct diag_list errs;
    struct line l;
    diag_init(&errs);
    json_t *j = parse(body);
    assert_int_equal(line_from_json(j, 1, NULL, &l, prefix, &errs), -EINVAL);
    json_decref(j);
    return errs.item[0].message;
}

static void test_hints_and_messages(void **state)
{
    (void)state;
    assert_string_equal(first_message("{\"outbound\":null}", ""),
                        "'outbound' is not a field of a line: did you mean 'outbound_proxy'?");
    assert_string_equal(first_message("{\"sip_server\":\"x\"}", ""),
                        "'sip_server' is not a field of a line: 'sip_server' is what Grandstream "
                        "calls 'proxy'");
    assert_string_equal(first_message("{\"Outbound Proxy Server\":\"x\"}", ""),
                        "'Outbound Proxy Server' is not a field of a line: 'Outbound Proxy "
                        "Server' is what Yealink and Aastra call 'outbound_proxy'");
    assert_string_equal(first_message("{\"proxy\":{\"host\":\"a.example\",\"hots\":1}}", ""),
                        "'hots' is not a field of a server: did you mean 'host'?");
    assert_string_equal(first_message("{\"registrer\":null}", ""),
                        "'registrer' is not a field of a line: did you mean 'register' or 'registrar'?");
    assert_string_equal(first_message("{\"outbond_proxy\":null}", ""),
                        "'outbond_proxy' is not a field of a line: did you mean 'outbound_proxy'?");
    assert_string_equal(first_message("{\"Display-Name\":\"x\"}", ""),
                        "'Display-Name' is not a field of a line: did you mean 'display_name'?");
    assert_string_equal(first_message("{\"SIP Server 2\":\"x\"}", ""),
                        "'SIP Server 2' is not a field of a line: 'SIP Server 2' is what Yealink "
                        "calls 'backup_proxy'");
    assert_string_equal(first_message("{\"reg.1.outboundProxy\":\"x\"}", ""),
                        "'reg.1.outboundProxy' is not a field of a line: 'reg.1.outboundProxy' is "
                        "what Polycom calls 'outbound_proxy'");
    assert_string_equal(first_message("{\"reg.12.server.2\":\"x\"}", ""),
                        "'reg.12.server.2' is not a field of a line: 'reg.12.server.2' is what "
                        "Polycom calls 'backup_proxy'");
    assert_string_equal(first_message("{\"x\\u0001y\":1}", ""),
                        "'x\\x01y' is not a field of a line");
    assert_string_equal(first_message("{\"line\":2}", ""),
                        "'line' is read-only: this is line 1, not line 2");
    assert_string_equal(first_message("{\"proxy\":\"pbx example.com\"}", ""),
                        "'pbx example.com' is not a host name: it contains a space");
    assert_string_equal(first_message("{\"register_expires\":5060.0}", ""),
                        "register_expires must be an integer, not a number with a fraction");
    assert_string_equal(first_message("{\"enabled\":\"yes\"}", ""),
                        "enabled must be true or false, not a string");
}

/* Every problem of a body is reported, not just the first. */
static void test_all_errors_reported(void **state)
{
    (void)state;
    struct line l;
    struct diag_list errs;
    diag_init(&errs);
    json_t *j = parse("{\"enabled\":1,\"label\":\"a\\nb\",\"proxy\":\"bad host:0\",\"x\":1}");
    assert_int_equal(line_from_json(j, 1, NULL, &l, "", &errs), -EINVAL);
    assert_int_equal(errs.n, 5);
    json_decref(j);
}

/* After line_from_json accepted a body, check_line finds no error in it. */
static void test_accepted_passes_check_line(void **state)
{
    (void)state;
    struct line l;
    struct diag_list errs, warns;
    diag_init(&errs);
    diag_init(&warns);
    json_t *j = parse("{\"enabled\":true,\"user\":\"a%20b\",\"domain\":\"EXAMPLE.com.\","
                      "\"proxy\":\"PBX.example.com.\",\"backup_proxy\":\"sip:pbx.example.com\"}");
    assert_int_equal(line_from_json(j, 1, NULL, &l, "", &errs), 0);
    assert_string_equal(l.domain, "example.com");
    assert_int_equal(check_line(&l, "", &errs, &warns), 0);
    assert_int_equal(errs.n, 0);
    assert_int_equal(warns.n, 1);
    assert_string_equal(warns.item[0].code, "backup_same_as_primary");
    json_decref(j);
}

static void test_server_json(void **state)
{
    (void)state;
    struct server s;
    struct diag_list errs;
    diag_init(&errs);
    json_t *j = parse("{\"s\":{\"host\":\"[2001:DB8::1]\",\"port\":null,\"transport\":\"TLS\"}}");
    assert_int_equal(server_from_json(json_object_get(j, "s"), &s, "s", &errs), 0);
    assert_string_equal(s.host, "2001:db8::1");
    assert_int_equal(s.transport, TRANSPORT_TLS);
    assert_int_equal(s.port, 0);
    json_decref(j);
    j = parse("{\"s\":{\"host\":\"Pbx.Example.com.\",\"port\":5062,\"transport\":null}}");
    assert_int_equal(server_from_json(json_object_get(j, "s"), &s, "s", &errs), 0);
    json_t *o = server_to_json(&s);
    char *d = dump(o);
    assert_string_equal(d, "{\"host\":\"pbx.example.com\",\"port\":5062,\"transport\":\"auto\"}");
    free(d);
    json_decref(o);
    json_decref(j);
    assert_int_equal(server_from_json(NULL, &s, "s", &errs), 0);
    assert_false(s.set);
    j = json_null();
    assert_int_equal(server_from_json(j, &s, "s", &errs), 0);
    assert_false(s.set);
    j = json_string("");
    assert_int_equal(server_from_json(j, &s, "s", &errs), 0);
    assert_false(s.set);
    json_decref(j);
    assert_int_equal(errs.n, 0);
}

/* A stored resolution stays with an unchanged server and goes with a changed one. */
static void test_resolved_kept_only_when_unchanged(void **state)
{
    (void)state;
    struct line cur, l;
    struct diag_list errs;
    diag_init(&errs);
    line_defaults(&cur);
    assert_int_equal(server_parse("pbx.example.com", &cur.srv[SF_PROXY], "p", &errs), 0);
    assert_int_equal(server_parse("reg.example.com", &cur.srv[SF_REGISTRAR], "p", &errs), 0);
    snprintf(cur.resolved[SF_PROXY], sizeof cur.resolved[0], "10 60 5060 udp a.example.com 192.0.2.1");
    snprintf(cur.resolved[SF_REGISTRAR], sizeof cur.resolved[0], "10 60 5060 udp b.example.com 192.0.2.2");
    json_t *j = parse("{\"proxy\":\"PBX.example.com\",\"registrar\":\"reg2.example.com\"}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_string_equal(l.resolved[SF_PROXY], cur.resolved[SF_PROXY]);
    assert_string_equal(l.resolved[SF_REGISTRAR], "");
    json_decref(j);
    j = parse("{\"proxy\":\"pbx.example.com\",\"dns_srv\":false}");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_string_equal(l.resolved[SF_PROXY], "");
    json_decref(j);
}

/* ---- the whole configuration ---- */

static void sample_config(struct config *c)
{
    struct diag_list errs;
    diag_init(&errs);
    config_defaults(c, 3);
    c->line[0].enabled = true;
    snprintf(c->line[0].user, sizeof c->line[0].user, "1001");
    snprintf(c->line[0].password, sizeof c->line[0].password, "S3cr3t-XYZ");
    assert_int_equal(server_parse("sips:pbx.example.com", &c->line[0].srv[SF_PROXY], "p", &errs), 0);
    snprintf(c->line[2].label, sizeof c->line[2].label, "Lab");
    snprintf(c->line[2].password, sizeof c->line[2].password, "other-pass");
    snprintf(c->admin_ha1, sizeof c->admin_ha1, "%064d", 7);
}

static void test_config_round_trip(void **state)
{
    (void)state;
    struct config c, back;
    struct diag_list errs;
    diag_init(&errs);
    sample_config(&c);
    json_t *j = config_to_json(&c);
    char *s = dump(j);
    assert_null(strstr(s, "S3cr3t"));
    assert_null(strstr(s, "other-pass"));
    assert_null(strstr(s, "0000007"));
    assert_int_equal(strncmp(s, "{\"format\":1,\"lines\":[{\"line\":1,", 31), 0);
    free(s);
    assert_int_equal(config_from_json(j, &c, &back, &errs), 0);
    assert_true(config_diff(&c, &back) == 0);
    json_decref(j);
}

static void test_config_from_json(void **state)
{
    (void)state;
    struct config cur, out;
    struct diag_list errs;
    sample_config(&cur);

    /* format may be left out; lines not listed are reset (their passwords too) */
    diag_init(&errs);
    json_t *j = parse("{\"lines\":[{\"label\":\"A\"}]}");
    assert_int_equal(config_from_json(j, &cur, &out, &errs), 0);
    assert_int_equal(out.nlines, 3);
    assert_string_equal(out.line[0].label, "A");
    assert_string_equal(out.line[0].password, "S3cr3t-XYZ");
    assert_string_equal(out.line[2].label, "");
    assert_string_equal(out.line[2].password, "");
    assert_string_equal(out.admin_ha1, cur.admin_ha1);
    json_decref(j);

    static const struct bad_body bad[] = {
        {"{\"format\":2,\"lines\":[]}", "unsupported_format", "format"},
        {"{\"format\":\"1\",\"lines\":[]}", "invalid_type", "format"},
        {"{\"format\":1}", "missing_field", "lines"},
        {"{\"format\":1,\"lines\":{}}", "invalid_type", "lines"},
        {"{\"format\":1,\"lines\":[{},{},{},{}]}", "out_of_range", "lines"},
        {"{\"format\":1,\"lines\":[{},{\"line\":3}]}", "read_only", "lines[1].line"},
        {"{\"format\":1,\"lines\":[{},{\"proxy\":\"pbx example.com\"}]}", "invalid_host", "lines[1].proxy.host"},
        {"{\"format\":1,\"lines\":[5]}", "invalid_type", "lines[0]"},
        {"{\"format\":1,\"line\":[],\"lines\":[]}", "unknown_field", "line"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        diag_init(&errs);
        j = parse(bad[i].body);
        int rc = config_from_json(j, &cur, &out, &errs);
        json_decref(j);
        if (rc != -EINVAL || errs.n == 0)
            fail_msg("#%zu accepted", i);
        if (strcmp(errs.item[0].code, bad[i].code) || strcmp(errs.item[0].field, bad[i].field))
            fail_msg("#%zu %s: %s at %s, want %s at %s", i, bad[i].body, errs.item[0].code,
                     errs.item[0].field, bad[i].code, bad[i].field);
    }
    diag_init(&errs);
    j = parse("{\"format\":1,\"line\":[],\"lines\":[]}");
    config_from_json(j, &cur, &out, &errs);
    assert_string_equal(errs.item[0].message,
                        "'line' is not a field of the configuration: did you mean 'lines'?");
    json_decref(j);
}

static void test_diag_to_json(void **state)
{
    (void)state;
    struct diag_list l;
    diag_init(&l);
    diag_add(&l, "lines[0].proxy.host", "invalid_host", "'%s' is not a host name", "x y");
    json_t *j = diag_to_json(&l);
    char *s = dump(j);
    assert_string_equal(s, "[{\"field\":\"lines[0].proxy.host\",\"code\":\"invalid_host\","
                           "\"message\":\"'x y' is not a host name\"}]");
    free(s);
    json_decref(j);
    for (int i = 0; i < DIAG_MAX + 5; i++)
        diag_add(&l, "f", "c", "m");
    j = diag_to_json(&l);
    assert_int_equal(json_array_size(j), DIAG_MAX + 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, DIAG_MAX), "code")),
                        "too_many_errors");
    json_decref(j);
}

static void test_fields_json(void **state)
{
    (void)state;
    json_t *f = line_fields_to_json();
    assert_int_equal(json_array_size(f), line_nfields);
    json_t *proxy = NULL;
    for (size_t i = 0; i < json_array_size(f); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(f, i), "name")), "proxy") == 0)
            proxy = json_array_get(f, i);
    assert_non_null(proxy);
    json_t *v = json_object_get(proxy, "vendors");
    assert_string_equal(json_string_value(json_object_get(v, "Snom")), "Registrar");
    assert_string_equal(json_string_value(json_object_get(v, "Polycom")), "reg.x.server.1");
    assert_string_equal(json_string_value(json_object_get(proxy, "type")), "server");
    json_decref(f);
}

/* ---- RFC 7396 appendix A ---- */

static void test_merge_patch_rfc7396(void **state)
{
    (void)state;
    static const char *const ex[][3] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        json_error_t e;
        json_t *t = json_loads(ex[i][0], JSON_DECODE_ANY, &e);
        json_t *p = json_loads(ex[i][1], JSON_DECODE_ANY, &e);
        json_t *want = json_loads(ex[i][2], JSON_DECODE_ANY, &e);
        json_t *t_before = json_deep_copy(t);
        json_t *p_before = json_deep_copy(p);
        json_t *got = json_merge_patch(t, p);
        if (!json_equal(got, want)) {
            char *g = dump(got);
            fail_msg("example %zu: got %s, want %s", i + 1, g, ex[i][2]);
        }
        assert_true(json_equal(t, t_before));     /* arguments untouched */
        assert_true(json_equal(p, p_before));
        json_decref(t);
        json_decref(p);
        json_decref(want);
        json_decref(got);
        json_decref(t_before);
        json_decref(p_before);
    }
    json_t *p = json_loads("{\"a\":1}", 0, NULL);
    json_t *got = json_merge_patch(NULL, p);
    assert_int_equal(json_integer_value(json_object_get(got, "a")), 1);
    json_decref(got);
    json_decref(p);
}

/* PATCH /lines/{n} as json.h describes it: merge into the stored line's JSON. */
static void test_patch_flow(void **state)
{
    (void)state;
    struct line cur, l;
    struct diag_list errs;
    diag_init(&errs);
    line_defaults(&cur);
    cur.enabled = true;
    snprintf(cur.password, sizeof cur.password, "keep-me");
    assert_int_equal(server_parse("pbx.example.com;transport=tcp", &cur.srv[SF_PROXY], "p", &errs), 0);
    json_t *stored = line_to_json(&cur, 4);
    json_t *patch = parse("{\"proxy\":{\"port\":5070},\"label\":\"Desk\",\"password\":null}");
    json_t *merged = json_merge_patch(stored, patch);
    assert_int_equal(line_from_json(merged, 4, &cur, &l, "", &errs), 0);
    assert_string_equal(l.label, "Desk");
    assert_string_equal(l.srv[SF_PROXY].host, "pbx.example.com");
    assert_int_equal(l.srv[SF_PROXY].port, 5070);
    assert_int_equal(l.srv[SF_PROXY].transport, TRANSPORT_TCP);
    assert_string_equal(l.password, "keep-me");
    assert_true(l.enabled);
    json_decref(merged);
    json_decref(patch);
    /* "proxy": null removes the server */
    patch = parse("{\"proxy\":null}");
    merged = json_merge_patch(stored, patch);
    assert_int_equal(line_from_json(merged, 4, &cur, &l, "", &errs), 0);
    assert_false(l.srv[SF_PROXY].set);
    json_decref(merged);
    json_decref(patch);
    json_decref(stored);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_defaults_json),
        cmocka_unit_test(test_json_ignores_resolved),
        cmocka_unit_test(test_api_example_round_trip),
        cmocka_unit_test(test_full_line_round_trip),
        cmocka_unit_test(test_password_semantics),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_hints_and_messages),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_accepted_passes_check_line),
        cmocka_unit_test(test_server_json),
        cmocka_unit_test(test_resolved_kept_only_when_unchanged),
        cmocka_unit_test(test_config_round_trip),
        cmocka_unit_test(test_config_from_json),
        cmocka_unit_test(test_diag_to_json),
        cmocka_unit_test(test_fields_json),
        cmocka_unit_test(test_merge_patch_rfc7396),
        cmocka_unit_test(test_patch_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

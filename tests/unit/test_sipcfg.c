/* The SIP core's view: include/sipcfg.h over a real image file. */
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
#include "kv.h"
#include "sipcfg.h"
#include "store.h"

struct fixture {
    char path[64];
    struct config *cfg;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->path, sizeof f->path, "/tmp/test_sipcfg.%d.img", (int)getpid());
    unlink(f->path);
    f->cfg = calloc(1, sizeof *f->cfg);
    config_defaults(f->cfg, LINE_DEFAULT_LINES);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    free(f->cfg);
    free(f);
    return 0;
}

/* What the daemon or the CLI would do: commit the configuration to the image. */
static void commit(struct fixture *f)
{
    struct store *st;
    assert_int_equal(store_open(f->path, STORE_CREATE, &st), 0);
    struct kv *kv = kv_new();
    assert_int_equal(config_to_kv(f->cfg, kv), 0);
    assert_true(store_commit(st, kv, NULL, NULL) >= 0);
    kv_free(kv);
    store_close(st);
}

static void office_line(struct line *l)
{
    l->enabled = true;
    strcpy(l->label, "Office");
    strcpy(l->user, "1001");
    strcpy(l->password, "sip-secret");
    l->srv[SF_PROXY].set = true;
    strcpy(l->srv[SF_PROXY].host, "pbx.example.com");
    l->srv[SF_PROXY].transport = TRANSPORT_AUTO;
    strcpy(l->resolved[SF_PROXY],
           "10 60 5060 udp sip1.example.com 192.0.2.10,2001:db8::10;20 0 5062 tcp sip2.example.com 192.0.2.20");
    l->srv[SF_OUTBOUND_PROXY].set = true;
    strcpy(l->srv[SF_OUTBOUND_PROXY].host, "2001:db8::1");
    l->srv[SF_OUTBOUND_PROXY].port = 5060;
    l->srv[SF_OUTBOUND_PROXY].transport = TRANSPORT_UDP;
}

static void test_missing_image(void **state)
{
    struct fixture *f = *state;
    sipcfg *c = (sipcfg *)0x1;
    assert_int_equal(sipcfg_open(f->path, &c), -ENOENT);
    assert_null(c);
    assert_string_equal(sipcfg_strerror(-ENOENT), "no such flash image");
}

static void test_reads_line_with_servers_and_resolutions(void **state)
{
    struct fixture *f = *state;
    office_line(&f->cfg->line[0]);
    commit(f);

    sipcfg *c;
    assert_int_equal(sipcfg_open(f->path, &c), 0);
    assert_int_equal(sipcfg_lines(c), LINE_DEFAULT_LINES);
    assert_string_equal(sipcfg_get(c, "line1.proxy.host"), "pbx.example.com");
    assert_string_equal(sipcfg_get(c, "line1.enabled"), "1");
    assert_null(sipcfg_get(c, "line1.registrar.host"));

    struct sipcfg_line l;
    assert_int_equal(sipcfg_get_line(c, 1, &l), 0);
    assert_int_equal(l.number, 1);
    assert_true(l.enabled);
    assert_string_equal(l.user, "1001");
    assert_string_equal(l.password, "sip-secret");   /* the SIP core needs it to authenticate */
    assert_true(l.proxy.set);
    assert_string_equal(l.proxy.transport, "auto");
    assert_int_equal(l.proxy.port, 0);
    assert_false(l.registrar.set);
    assert_string_equal(l.outbound_proxy.host, "2001:db8::1");
    assert_int_equal(l.outbound_proxy.port, 5060);

    /* The last good resolution: what to try when DNS is down at boot. */
    assert_int_equal(l.proxy.ntargets, 2);
    assert_string_equal(l.proxy.targets[0].host, "sip1.example.com");
    assert_int_equal(l.proxy.targets[0].priority, 10);
    assert_int_equal(l.proxy.targets[0].weight, 60);
    assert_int_equal(l.proxy.targets[0].port, 5060);
    assert_string_equal(l.proxy.targets[0].transport, "udp");
    assert_int_equal(l.proxy.targets[0].naddrs, 2);
    assert_string_equal(l.proxy.targets[0].addrs[1], "2001:db8::10");
    assert_string_equal(l.proxy.targets[1].transport, "tcp");
    assert_int_equal(l.proxy.targets[1].port, 5062);

    assert_int_equal(sipcfg_get_line(c, 0, &l), -ERANGE);
    assert_int_equal(sipcfg_get_line(c, LINE_DEFAULT_LINES + 1, &l), -ERANGE);
    sipcfg_close(c);
}

static void test_notices_and_loads_a_newer_generation(void **state)
{
    struct fixture *f = *state;
    commit(f);
    sipcfg *c;
    assert_int_equal(sipcfg_open(f->path, &c), 0);
    uint32_t g = sipcfg_generation(c);
    assert_int_equal(sipcfg_changed(c), 0);

    strcpy(f->cfg->line[1].user, "2002");
    commit(f);
    assert_int_equal(sipcfg_changed(c), 1);
    assert_string_equal(sipcfg_get(c, "line2.user"), "");   /* still the loaded one */
    assert_int_equal(sipcfg_reload(c), 0);
    assert_int_equal(sipcfg_generation(c), g + 1);
    assert_string_equal(sipcfg_get(c, "line2.user"), "2002");
    assert_int_equal(sipcfg_changed(c), 0);

    /* Iteration sees every key once, sorted. */
    size_t n = sipcfg_count(c);
    assert_true(n > 10);
    for (size_t i = 1; i < n; i++)
        assert_true(strcmp(sipcfg_key_at(c, i - 1), sipcfg_key_at(c, i)) < 0);
    assert_null(sipcfg_key_at(c, n));
    sipcfg_close(c);
}

/* Provenance and locks travel with the line through flash to the SIP core. */
static void test_provenance(void **state)
{
    struct fixture *f = *state;
    struct line *l = &f->cfg->line[0];
    office_line(l);
    size_t proxy = (size_t)(line_field("proxy") - line_fields);
    size_t pw = (size_t)(line_field("password") - line_fields);
    l->prov[proxy] = (struct prov){.source = PROV_PROVISIONING, .at = 1795907400};
    l->prov[pw] = (struct prov){.source = PROV_PAGE, .at = 1795907460};
    l->locked = UINT32_C(1) << proxy;
    l->lock[proxy] = (struct prov){.source = PROV_PROVISIONING, .at = 1795907400};
    commit(f);

    sipcfg *c;
    assert_int_equal(sipcfg_open(f->path, &c), 0);
    struct sipcfg_provenance p;
    assert_int_equal(sipcfg_get_provenance(c, 1, "proxy", &p), 0);
    assert_string_equal(p.source, "provisioning");
    assert_string_equal(p.at, "2026-11-28T23:10:00Z");
    assert_int_equal(p.locked, 1);
    assert_string_equal(p.locked_by, "provisioning");
    assert_string_equal(p.locked_at, "2026-11-28T23:10:00Z");
    assert_int_equal(sipcfg_get_provenance(c, 1, "password_set", &p), 0);
    assert_string_equal(p.source, "page");
    assert_int_equal(p.locked, 0);
    assert_string_equal(p.locked_by, "");
    assert_int_equal(sipcfg_get_provenance(c, 1, "label", &p), 0);
    assert_string_equal(p.source, "default");
    assert_string_equal(p.at, "");
    assert_int_equal(sipcfg_get_provenance(c, 1, "nosuch", &p), -ENOENT);
    assert_int_equal(sipcfg_get_provenance(c, 99, "proxy", &p), -ERANGE);
    assert_string_equal(sipcfg_get(c, "line1.locked.proxy"), "provisioning 2026-11-28T23:10:00Z");
    assert_string_equal(sipcfg_get(c, "line1.provenance.password"), "page 2026-11-28T23:11:00Z");
    assert_null(sipcfg_get(c, "line1.provenance.label"));   /* default: no key */
    sipcfg_close(c);
}

static void test_hand_edited_value_falls_back_to_default(void **state)
{
    struct fixture *f = *state;
    struct store *st;
    assert_int_equal(store_open(f->path, STORE_CREATE, &st), 0);
    struct kv *kv = kv_new();
    assert_int_equal(config_to_kv(f->cfg, kv), 0);
    /* A value no web admin would write: a command where a host belongs. */
    assert_int_equal(kv_set(kv, "line1.proxy.host", "pbx;reboot"), 0);
    assert_int_equal(kv_set(kv, "line1.register_expires", "5"), 0);
    assert_true(store_commit(st, kv, NULL, NULL) >= 0);
    kv_free(kv);
    store_close(st);

    sipcfg *c;
    assert_int_equal(sipcfg_open(f->path, &c), 0);
    struct sipcfg_line l;
    assert_int_equal(sipcfg_get_line(c, 1, &l), 0);
    assert_false(l.proxy.set && strchr(l.proxy.host, ';'));
    assert_int_equal(l.register_expires, 3600);
    sipcfg_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_image, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_line_with_servers_and_resolutions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_notices_and_loads_a_newer_generation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_provenance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hand_edited_value_falls_back_to_default, setup,
                                        teardown),
    };
    return cmocka_run_group_tests_name("sipcfg reader API", tests, NULL, NULL);
}

/* The configuration the store tests commit: a phone's six lines as the daemon
 * stores them, provenance and locks included (~3 KB), shared by test_store.c, test_store_file.c and test_powercut.c.
 * Include after <cmocka.h>, "kv.h", "store.h" and <stdio.h>/<string.h>. */
#ifndef SIPCFG_TEST_STORE_FIXTURE_H
#define SIPCFG_TEST_STORE_FIXTURE_H

/* Six lines as the daemon stores them, ~3 KB; `variant` changes a few values.
 * `bulk` adds that many bytes of extra values (a payload spanning blocks). */
static struct kv *make_config(int variant, size_t bulk)
{
    struct kv *kv = kv_new();
    char k[KV_KEY_MAX + 1], v[KV_VALUE_MAX + 1];
    static const char *servers[] = {"proxy", "registrar", "outbound_proxy", "backup_proxy"};
    assert_non_null(kv);
    for (int n = 1; n <= 6; n++) {
#define SET(key, ...)                                             \
    do {                                                          \
        snprintf(k, sizeof(k), "line%d." key, n);                 \
        snprintf(v, sizeof(v), __VA_ARGS__);                      \
        assert_int_equal(kv_set(kv, k, v), 0);                    \
    } while (0)
        SET("enabled", "%d", n <= 4);
        SET("label", "Office %d rev %d", n, n == 1 ? variant : 0);
        SET("display_name", "Alice Example %d", n);
        SET("user", "%d", 1000 + n);
        SET("auth_user", "%d", 1000 + n);
        SET("password", "s3cret-%d-%d", n, n == 2 ? variant : 0);
        SET("domain", "example.com");
        SET("dns_srv", "1");
        SET("register", "1");
        SET("register_expires", "%d", n == 3 ? 3600 + variant : 3600);
        /* provenance and locks live in the same bank (lib/provenance.h) */
        if (n <= 2) {
            SET("provenance.user", "provisioning 2026-11-28T23:%02d:00Z", n == 1 ? variant % 60 : 0);
            SET("provenance.password", "%s 2026-11-28T23:10:00Z", n == 2 && variant ? "page" : "api");
            SET("locked.proxy", "provisioning 2026-11-28T23:10:00Z");
        }
#undef SET
        for (int f = 0; f < 4; f++) {
            if (f > 0 && n > 1)
                continue;
            snprintf(k, sizeof(k), "line%d.%s.host", n, servers[f]);
            snprintf(v, sizeof(v), "sip%d.pbx%d.example.com", f, n);
            assert_int_equal(kv_set(kv, k, v), 0);
            snprintf(k, sizeof(k), "line%d.%s.port", n, servers[f]);
            assert_int_equal(kv_set(kv, k, "5060"), 0);
            snprintf(k, sizeof(k), "line%d.%s.transport", n, servers[f]);
            assert_int_equal(kv_set(kv, k, "auto"), 0);
            if (f > 1)
                continue;
            snprintf(k, sizeof(k), "line%d.%s.resolved", n, servers[f]);
            snprintf(v, sizeof(v), "10 60 5060 udp sip1.example.com 192.0.2.%d;20 0 5060 udp "
                     "sip2.example.com 192.0.2.%d", n + variant % 100, n + 100);
            assert_int_equal(kv_set(kv, k, v), 0);
        }
    }
    assert_int_equal(kv_set(kv, "admin.ha1",
                            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"), 0);
    for (int i = 0; bulk > 0; i++) {
        size_t n = bulk > 2000 ? 2000 : bulk;
        memset(v, 'a' + (variant + i) % 26, n);
        v[n] = '\0';
        snprintf(k, sizeof(k), "bulk.%d", i);
        assert_int_equal(kv_set(kv, k, v), 0);
        bulk -= n;
    }
    return kv;
}

/* Loads and returns the kv (asserting rc), or NULL for a corrupt image. */
static inline struct kv *load(struct store *st, int want_rc, struct store_info *info)
{
    struct kv *kv = (struct kv *)1;
    assert_int_equal(store_load(st, &kv, info), want_rc);
    if (want_rc < 0)
        assert_null(kv);
    return kv;
}

static inline void assert_loads(struct store *st, const struct kv *want)
{
    struct kv *got = load(st, 0, NULL);
    assert_true(kv_equal(got, want));
    kv_free(got);
}


#endif

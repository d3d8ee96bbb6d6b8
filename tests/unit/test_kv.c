/* kv: the sorted key=value set and its strict payload parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

/* kv_parse over a literal that may contain NULs (sizeof - 1 drops C's own NUL). */
#define PARSE(lit, out) kv_parse((const unsigned char *)(lit), sizeof(lit) - 1, (out))

static void test_set_get_sorted(void **state)
{
    struct kv *kv = kv_new();
    assert_non_null(kv);
    assert_int_equal(kv_set(kv, "line2.user", "2002"), 0);
    assert_int_equal(kv_set(kv, "line1.user", "1001"), 0);
    assert_int_equal(kv_set(kv, "admin.ha1", "ab"), 0);
    assert_int_equal(kv_count(kv), 3);
    assert_string_equal(kv_key_at(kv, 0), "admin.ha1");
    assert_string_equal(kv_key_at(kv, 1), "line1.user");
    assert_string_equal(kv_key_at(kv, 2), "line2.user");
    assert_string_equal(kv_value_at(kv, 2), "2002");
    assert_null(kv_key_at(kv, 3));
    assert_string_equal(kv_get(kv, "line1.user"), "1001");
    assert_null(kv_get(kv, "line3.user"));

    /* Replace keeps one entry. */
    assert_int_equal(kv_set(kv, "line1.user", "1009"), 0);
    assert_int_equal(kv_count(kv), 3);
    assert_string_equal(kv_get(kv, "line1.user"), "1009");

    assert_int_equal(kv_del(kv, "line1.user"), 0);
    assert_int_equal(kv_del(kv, "line1.user"), -ENOENT);
    assert_int_equal(kv_count(kv), 2);
    assert_null(kv_get(kv, "line1.user"));
    assert_string_equal(kv_key_at(kv, 1), "line2.user");

    kv_clear(kv);
    assert_int_equal(kv_count(kv), 0);
    kv_free(kv);
}

static void test_set_rejects(void **state)
{
    struct kv *kv = kv_new();
    char key[KV_KEY_MAX + 2];
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';                /* 65 characters */
    assert_int_equal(kv_set(kv, key, "x"), -EINVAL);
    key[KV_KEY_MAX] = '\0';                      /* 64: the limit */
    assert_int_equal(kv_set(kv, key, "x"), 0);

    const char *bad_keys[] = {"", "Line1", "a=b", "a b", "a\nb", "a/b", "ä", "a;reboot"};
    for (size_t i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++)
        assert_int_equal(kv_set(kv, bad_keys[i], "x"), -EINVAL);

    const char *bad_values[] = {"a\nline2.proxy=evil", "a\r\nb", "tab\there", "del\x7f", "\x1b[0m"};
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
        assert_int_equal(kv_set(kv, "k", bad_values[i]), -EINVAL);

    char *big = malloc(KV_VALUE_MAX + 2);
    memset(big, 'v', KV_VALUE_MAX + 1);
    big[KV_VALUE_MAX + 1] = '\0';
    assert_int_equal(kv_set(kv, "big", big), -EINVAL);
    big[KV_VALUE_MAX] = '\0';
    assert_int_equal(kv_set(kv, "big", big), 0);
    free(big);

    /* '=' and UTF-8 are fine inside a value; the first '=' ends the key. */
    assert_int_equal(kv_set(kv, "v", "a=b=c ünïcode"), 0);
    assert_int_equal(kv_count(kv), 3);
    kv_free(kv);
}

static void test_serialize_exact_bytes(void **state)
{
    struct kv *kv = kv_new();
    unsigned char *buf;
    size_t len;
    assert_int_equal(kv_serialize(kv, &buf, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(buf[0], 0);
    free(buf);

    kv_set(kv, "b", "2");
    kv_set(kv, "a", "x=1");
    kv_set(kv, "c", "");
    assert_int_equal(kv_serialize(kv, &buf, &len), 0);
    static const char want[] = "a=x=1\0b=2\0c=\0";    /* plus the literal's NUL = final empty entry */
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));

    struct kv *back;
    assert_int_equal(kv_parse(buf, len, &back), 0);
    assert_true(kv_equal(kv, back));
    assert_string_equal(kv_get(back, "a"), "x=1");
    assert_string_equal(kv_get(back, "c"), "");
    free(buf);
    kv_free(back);
    kv_free(kv);
}

static void test_parse_strict(void **state)
{
    struct kv *kv = (struct kv *)1;
    assert_int_equal(PARSE("\0", &kv), 0);
    assert_int_equal(kv_count(kv), 0);
    kv_free(kv);
    assert_int_equal(PARSE("z=1\0a=2\0\0", &kv), 0);    /* unsorted input is accepted, sorted out */
    assert_string_equal(kv_key_at(kv, 0), "a");
    kv_free(kv);

    static const struct {
        const char *what;
        const char *data;
        size_t len;
    } bad[] = {
#define B(w, lit) {w, lit, sizeof(lit) - 1}
        B("empty buffer", ""),
        B("missing final empty entry", "a=1\0"),
        B("not NUL terminated", "a=1\0\0x"),
        B("no terminator at all", "a=1"),
        B("data after the end", "a=1\0\0b=2\0\0"),
        B("missing '='", "a1\0\0"),
        B("empty key", "=1\0\0"),
        B("upper-case key", "A=1\0\0"),
        B("space in key", "a b=1\0\0"),
        B("duplicate key", "a=1\0a=2\0\0"),
        B("duplicate key, apart", "a=1\0b=1\0a=1\0\0"),
        B("newline in value", "a=x\nb=y\0\0"),
        B("CR in value", "a=x\r\0\0"),
        B("DEL in value", "a=\x7f\0\0"),
        B("two empty entries", "\0\0"),
#undef B
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kv = (struct kv *)1;
        int rc = kv_parse((const unsigned char *)bad[i].data, bad[i].len, &kv);
        if (rc != -EBADMSG)
            fail_msg("%s: got %d", bad[i].what, rc);
        assert_null(kv);
    }

    /* Key and value at their limits parse; one more byte does not. */
    size_t n = KV_KEY_MAX + 1 + KV_VALUE_MAX + 2;
    unsigned char *buf = malloc(n + 1);
    memset(buf, 'k', KV_KEY_MAX);
    buf[KV_KEY_MAX] = '=';
    memset(buf + KV_KEY_MAX + 1, 'v', KV_VALUE_MAX);
    buf[n - 1] = buf[n - 2] = 0;
    assert_int_equal(kv_parse(buf, n, &kv), 0);
    assert_int_equal(strlen(kv_value_at(kv, 0)), KV_VALUE_MAX);
    kv_free(kv);
    memset(buf + KV_KEY_MAX + 1, 'v', KV_VALUE_MAX + 1);    /* value one too long */
    buf[n] = 0;
    buf[n - 1] = 0;
    assert_int_equal(kv_parse(buf, n + 1, &kv), -EBADMSG);
    free(buf);
}

static void test_equal_and_dup(void **state)
{
    struct kv *a = kv_new(), *b = kv_new();
    assert_true(kv_equal(a, b));
    kv_set(a, "x", "1");
    assert_false(kv_equal(a, b));
    kv_set(b, "x", "2");
    assert_false(kv_equal(a, b));
    kv_set(b, "x", "1");
    assert_true(kv_equal(a, b));
    kv_set(a, "y", "");
    struct kv *d = kv_dup(a);
    assert_true(kv_equal(a, d));
    kv_set(d, "y", "changed");
    assert_string_equal(kv_get(a, "y"), "");    /* a deep copy */
    kv_free(a);
    kv_free(b);
    kv_free(d);
}

/* Many keys in random order stay sorted and unique (the binary search and insert). */
static void test_many_keys(void **state)
{
    struct kv *kv = kv_new();
    char key[32], val[32];
    unsigned x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245u + 12345u;
        snprintf(key, sizeof(key), "k%u", (x >> 8) % 1000);
        snprintf(val, sizeof(val), "%d", i);
        assert_int_equal(kv_set(kv, key, val), 0);
    }
    assert_true(kv_count(kv) <= 1000);
    for (size_t i = 1; i < kv_count(kv); i++)
        assert_true(strcmp(kv_key_at(kv, i - 1), kv_key_at(kv, i)) < 0);
    unsigned char *buf;
    size_t len;
    assert_int_equal(kv_serialize(kv, &buf, &len), 0);
    struct kv *back;
    assert_int_equal(kv_parse(buf, len, &back), 0);
    assert_true(kv_equal(kv, back));
    free(buf);
    kv_free(back);
    kv_free(kv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_sorted),
        cmocka_unit_test(test_set_rejects),
        cmocka_unit_test(test_serialize_exact_bytes),
        cmocka_unit_test(test_parse_strict),
        cmocka_unit_test(test_equal_and_dup),
        cmocka_unit_test(test_many_keys),
    };
    return cmocka_run_group_tests_name("kv", tests, NULL, NULL);
}

/* Unit tests of admin.c: HA1 = SHA-256("admin:sipcfg:" password) as RFC 7616
 * digest auth expects it, the password rules, and random passwords. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"

/* printf 'admin:sipcfg:S3cr3t-XYZ' | sha256sum */
#define HA1_S3CR3T "1daebd7cc2222419b8d330aba1199f882cfb65afe7e31d66f125b563f65363d6"

static void test_ha1(void **state)
{
    (void)state;
    char hex[65];
    admin_ha1_hex("S3cr3t-XYZ", hex);
    assert_string_equal(hex, HA1_S3CR3T);
    admin_ha1_hex("", hex);
    assert_string_equal(hex, "38a252f59571afb9f6a119591def878e8684a6ef1edf4dc90cfe5b0333858633");

    uint8_t bin[32], direct[32];
    assert_int_equal(admin_hex_to_bin(HA1_S3CR3T, bin), 0);
    admin_ha1("S3cr3t-XYZ", direct);
    assert_memory_equal(bin, direct, 32);
    assert_int_equal(admin_hex_to_bin("1DAEBD7CC2222419B8D330ABA1199F882CFB65AFE7E31D66F125B563F65363D6", bin), 0);
    assert_memory_equal(bin, direct, 32);
    assert_int_equal(admin_hex_to_bin("1daebd", bin), -EINVAL);
    assert_int_equal(admin_hex_to_bin(HA1_S3CR3T "00", bin), -EINVAL);
    char bad[65];
    memcpy(bad, HA1_S3CR3T, sizeof bad);
    bad[10] = 'g';
    assert_int_equal(admin_hex_to_bin(bad, bin), -EINVAL);
    assert_int_equal(admin_hex_to_bin(NULL, bin), -EINVAL);
}

static void test_matches(void **state)
{
    (void)state;
    assert_true(admin_password_matches("S3cr3t-XYZ", HA1_S3CR3T));
    assert_false(admin_password_matches("S3cr3t-XYz", HA1_S3CR3T));
    assert_false(admin_password_matches("S3cr3t-XY", HA1_S3CR3T));
    assert_false(admin_password_matches("", HA1_S3CR3T));
    assert_false(admin_password_matches(NULL, HA1_S3CR3T));
    /* the stored hash itself is not a password (THREATS C4) */
    assert_false(admin_password_matches(HA1_S3CR3T, HA1_S3CR3T));
    /* no stored hash, or a broken one, matches nothing */
    assert_false(admin_password_matches("S3cr3t-XYZ", ""));
    assert_false(admin_password_matches("S3cr3t-XYZ", NULL));
    assert_false(admin_password_matches("S3cr3t-XYZ", "not hex"));
    /* A stored hash that differs only in its last (or first) hex digit does
     * not match: the whole hash is compared, not a prefix (issue 7). */
    char near[sizeof HA1_S3CR3T];
    for (size_t at = 0; at < 2; at++) {
        memcpy(near, HA1_S3CR3T, sizeof near);
        size_t i = at ? 0 : strlen(near) - 1;
        near[i] = near[i] == '0' ? '1' : '0';
        assert_false(admin_password_matches("S3cr3t-XYZ", near));
    }
    memcpy(near, HA1_S3CR3T, sizeof near);
    near[32] = near[32] == '0' ? '1' : '0';          /* the second half */
    assert_false(admin_password_matches("S3cr3t-XYZ", near));
}

static const char *check(const char *pw)
{
    static struct diag_list errs;
    diag_init(&errs);
    int rc = admin_password_check(pw, "new", &errs);
    if (rc == 0) {
        assert_int_equal(errs.n, 0);
        return NULL;
    }
    assert_int_equal(rc, -EINVAL);
    assert_int_equal(errs.n, 1);
    assert_string_equal(errs.item[0].field, "new");
    /* no message quotes the password ("password" is a word of the message) */
    if (pw && strlen(pw) >= 3 && strcmp(pw, "password") != 0)
        assert_null(strstr(errs.item[0].message, pw));
    return errs.item[0].code;
}

static void test_password_rules(void **state)
{
    (void)state;
    char max[ADMIN_PASSWORD_MAX + 2];
    memset(max, 'k', sizeof max);
    max[ADMIN_PASSWORD_MAX] = '\0';
    assert_null(check("S3cr3t-XYZ"));
    assert_null(check("eight ch"));
    assert_null(check("p\xc3\xa4ssw\xc3\xb6rt!"));     /* UTF-8 is fine */
    assert_null(check(max));
    max[ADMIN_PASSWORD_MAX] = 'k';
    max[ADMIN_PASSWORD_MAX + 1] = '\0';
    assert_string_equal(check(max), "too_long");
    assert_string_equal(check("seven c"), "too_short");
    assert_string_equal(check(""), "too_short");
    assert_string_equal(check(NULL), "too_short");
    assert_string_equal(check("good pass\n"), "control_character");
    assert_string_equal(check("good\tpass"), "control_character");
    assert_string_equal(check("good pass\xff"), "invalid_utf8");
    static const char *const known[] = {"password", "PASSWORD", "12345678", "administrator",
                                        "adminadmin", "Passw0rd", "changeme"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        assert_string_equal(check(known[i]), "common_password");

    struct diag_list errs;
    diag_init(&errs);
    admin_password_check("short", "new", &errs);
    admin_password_check("password", "new", &errs);
    assert_string_equal(errs.item[0].message, "the password is 5 bytes long, at least 8 are needed");
    assert_string_equal(errs.item[1].message,
                        "this password is on the list of passwords attackers try first: choose "
                        "another one");
}

static void test_random_password(void **state)
{
    (void)state;
    enum { N = 200 };
    static char seen[N][17];
    for (int i = 0; i < N; i++) {
        assert_int_equal(admin_random_password(seen[i], sizeof seen[i]), 0);
        assert_int_equal(strlen(seen[i]), 16);
        /* easy to read and type: no look-alikes, nothing but letters and digits */
        assert_int_equal(strcspn(seen[i], "0O1lI"), 16);
        for (int k = 0; k < 16; k++)
            assert_true((seen[i][k] >= 'a' && seen[i][k] <= 'z') ||
                        (seen[i][k] >= 'A' && seen[i][k] <= 'Z') ||
                        (seen[i][k] >= '2' && seen[i][k] <= '9'));
        /* it passes the rules it will be checked against */
        struct diag_list errs;
        diag_init(&errs);
        assert_int_equal(admin_password_check(seen[i], "new", &errs), 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    char small[16];
    assert_int_equal(admin_random_password(small, sizeof small), -ENOSPC);
}

static void test_random_bytes(void **state)
{
    (void)state;
    uint8_t a[64], b[64], zero[64] = {0};
    assert_int_equal(admin_random_bytes(a, sizeof a), 0);
    assert_int_equal(admin_random_bytes(b, sizeof b), 0);
    assert_memory_not_equal(a, b, sizeof a);
    assert_memory_not_equal(a, zero, sizeof a);
    assert_int_equal(admin_random_bytes(a, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ha1),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_random_password),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Sessions and the login rate limiter, driven by a fake clock (no sleeping). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static int64_t fake_now;
static int64_t fake_clock(void *arg)
{
    (void)arg;
    return fake_now;
}

static void test_fresh_ids_are_random_hex(void **state)
{
    (void)state;
    struct session_table *t;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char id[200][SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(session_table_create(t, id[i], csrf), 0);
        assert_int_equal(strlen(id[i]), 64);
        assert_int_equal(strspn(id[i], "0123456789abcdef"), 64);
        assert_string_not_equal(id[i], csrf);
        for (int j = 0; j < i; j++) assert_string_not_equal(id[i], id[j]);
    }
    session_table_free(t);
}

/* THREATS.md D2: 10,000 ids, all different, with no time or counter
 * structure: every one of the 256 bit positions is set in about half of them
 * (a counter or a clock leaves high bits fixed), and two ids made one after
 * the other differ in about half their bits. The bounds are 6 standard
 * deviations wide, so a good generator fails them about once in 10^5 runs.
 * The clock stands still: ids must not depend on it. */
#define D2_IDS 10000
static int hex_nibble(char c)
{
    return c <= '9' ? c - '0' : c - 'a' + 10;
}
static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SESSION_ID_HEX);
}
static void test_ids_have_no_structure(void **state)
{
    (void)state;
    struct session_table *t;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    static char ids[D2_IDS][SESSION_ID_HEX + 1];
    static unsigned ones[SESSION_ID_HEX * 4];
    char csrf[SESSION_ID_HEX + 1];
    memset(ones, 0, sizeof ones);
    for (int i = 0; i < D2_IDS; i++) {
        assert_int_equal(session_table_create(t, ids[i], csrf), 0);
        unsigned differ = 0;
        for (int k = 0; k < SESSION_ID_HEX; k++) {
            int v = hex_nibble(ids[i][k]);
            for (int b = 0; b < 4; b++)
                ones[k * 4 + b] += (unsigned)(v >> b) & 1u;
            if (i > 0)
                differ += (unsigned)__builtin_popcount((unsigned)(v ^ hex_nibble(ids[i - 1][k])));
        }
        if (i > 0 && (differ < 80 || differ > 176))
            fail_msg("ids %d and %d differ in %u of 256 bits", i - 1, i, differ);
    }
    for (int b = 0; b < SESSION_ID_HEX * 4; b++)
        if (ones[b] < 4700 || ones[b] > 5300)
            fail_msg("bit %d is set in %u of %d ids", b, ones[b], D2_IDS);
    qsort(ids, D2_IDS, sizeof ids[0], cmp_id);
    for (int i = 1; i < D2_IDS; i++)
        assert_memory_not_equal(ids[i - 1], ids[i], SESSION_ID_HEX);
    session_table_free(t);
}

static void test_lookup_returns_csrf_and_rejects_unknown(void **state)
{
    (void)state;
    struct session_table *t;
    fake_now = 1000;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char id[SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1], got[SESSION_ID_HEX + 1];
    assert_int_equal(session_table_create(t, id, csrf), 0);
    assert_int_equal(session_table_lookup(t, id, got), 0);
    assert_string_equal(got, csrf);

    char other[SESSION_ID_HEX + 1];
    memcpy(other, id, sizeof other);
    other[10] = other[10] == 'a' ? 'b' : 'a';
    assert_int_equal(session_table_lookup(t, other, NULL), -ENOENT);
    assert_int_equal(session_table_lookup(t, "", NULL), -ENOENT);
    assert_int_equal(session_table_lookup(t, NULL, NULL), -ENOENT);
    /* Upper-case or longer forms of a valid id are not the id. */
    char upper[SESSION_ID_HEX + 1];
    for (int i = 0; i <= SESSION_ID_HEX; i++) upper[i] = (char)(id[i] >= 'a' ? id[i] - 32 : id[i]);
    if (strcmp(upper, id)) assert_int_equal(session_table_lookup(t, upper, NULL), -ENOENT);
    char longer[SESSION_ID_HEX + 2];
    snprintf(longer, sizeof longer, "%s0", id);
    assert_int_equal(session_table_lookup(t, longer, NULL), -ENOENT);
    session_table_free(t);
}

static void test_idle_timeout_renewed_on_use(void **state)
{
    (void)state;
    struct session_table *t;
    fake_now = 5000;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char id[SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1];
    assert_int_equal(session_table_create(t, id, csrf), 0);
    fake_now += SESSION_IDLE_S - 1;
    assert_int_equal(session_table_lookup(t, id, NULL), 0);     /* renews */
    fake_now += SESSION_IDLE_S - 1;
    assert_int_equal(session_table_lookup(t, id, NULL), 0);
    fake_now += SESSION_IDLE_S;
    assert_int_equal(session_table_lookup(t, id, NULL), -ENOENT);
    assert_int_equal(session_table_count(t), 0);
    session_table_free(t);
}

static void test_absolute_limit(void **state)
{
    (void)state;
    struct session_table *t;
    fake_now = 0;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char id[SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1];
    assert_int_equal(session_table_create(t, id, csrf), 0);
    /* Used every 10 minutes: alive until 12 h after login, then gone. */
    while (fake_now + 600 < SESSION_ABSOLUTE_S) {
        fake_now += 600;
        assert_int_equal(session_table_lookup(t, id, NULL), 0);
    }
    fake_now = SESSION_ABSOLUTE_S;
    assert_int_equal(session_table_lookup(t, id, NULL), -ENOENT);
    session_table_free(t);
}

static void test_delete_and_clear(void **state)
{
    (void)state;
    struct session_table *t;
    fake_now = 0;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char a[SESSION_ID_HEX + 1], b[SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1];
    assert_int_equal(session_table_create(t, a, csrf), 0);
    assert_int_equal(session_table_create(t, b, csrf), 0);
    assert_int_equal(session_table_delete(t, a), 0);
    assert_int_equal(session_table_delete(t, a), -ENOENT);
    assert_int_equal(session_table_lookup(t, a, NULL), -ENOENT);
    assert_int_equal(session_table_lookup(t, b, NULL), 0);
    session_table_clear(t);
    assert_int_equal(session_table_lookup(t, b, NULL), -ENOENT);
    assert_int_equal(session_table_count(t), 0);
    session_table_free(t);
}

static void test_full_table_evicts_least_recently_used(void **state)
{
    (void)state;
    struct session_table *t;
    fake_now = 100;
    assert_int_equal(session_table_new(fake_clock, NULL, &t), 0);
    char id[SESSION_MAX][SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1];
    for (int i = 0; i < SESSION_MAX; i++) {
        fake_now++;
        assert_int_equal(session_table_create(t, id[i], csrf), 0);
    }
    fake_now++;
    assert_int_equal(session_table_lookup(t, id[0], NULL), 0);   /* 0 is now recent; 1 is the LRU */
    char extra[SESSION_ID_HEX + 1];
    fake_now++;
    assert_int_equal(session_table_create(t, extra, csrf), 0);
    assert_int_equal(session_table_count(t), SESSION_MAX);
    assert_int_equal(session_table_lookup(t, id[1], NULL), -ENOENT);
    assert_int_equal(session_table_lookup(t, id[0], NULL), 0);
    assert_int_equal(session_table_lookup(t, id[2], NULL), 0);
    assert_int_equal(session_table_lookup(t, extra, NULL), 0);
    session_table_free(t);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_true(session_token_equal("abc", "abc"));
    assert_false(session_token_equal("abc", "abd"));
    assert_false(session_token_equal("ab", "abc"));
    assert_false(session_token_equal("abcd", "abc"));
    assert_false(session_token_equal("", "abc"));
    assert_false(session_token_equal(NULL, "abc"));
    assert_true(session_token_equal("", ""));
}

static void test_limiter_locks_after_five_failures(void **state)
{
    (void)state;
    struct login_limiter *l;
    fake_now = 10000;
    assert_int_equal(login_limiter_new(fake_clock, NULL, &l), 0);
    for (int i = 0; i < LOGIN_MAX_FAILURES; i++) {
        assert_int_equal(login_limiter_check(l, "192.0.2.1"), 0);
        login_limiter_fail(l, "192.0.2.1");
        fake_now += 2;
    }
    /* failures at 10000..10008; now 10010: locked until 10060 */
    assert_int_equal(login_limiter_check(l, "192.0.2.1"), 50);
    assert_int_equal(login_limiter_check(l, "192.0.2.2"), 0);      /* other addresses unaffected */
    /* More failures while locked do not extend the lock. */
    login_limiter_fail(l, "192.0.2.1");
    fake_now = 10059;
    assert_int_equal(login_limiter_check(l, "192.0.2.1"), 1);
    fake_now = 10060;
    assert_int_equal(login_limiter_check(l, "192.0.2.1"), 0);
    /* Sliding window: one more failure now makes 5 within 60 s (10002..10060). */
    login_limiter_fail(l, "192.0.2.1");
    assert_int_equal(login_limiter_check(l, "192.0.2.1"), 2);
    login_limiter_free(l);
}

static void test_limiter_spread_out_failures_never_lock(void **state)
{
    (void)state;
    struct login_limiter *l;
    fake_now = 0;
    assert_int_equal(login_limiter_new(fake_clock, NULL, &l), 0);
    for (int i = 0; i < 101; i++) {
        assert_int_equal(login_limiter_check(l, "198.51.100.7"), 0);
        login_limiter_fail(l, "198.51.100.7");
        fake_now += 15;     /* 4 per minute */
    }
    login_limiter_free(l);
}

static void test_limiter_success_resets(void **state)
{
    (void)state;
    struct login_limiter *l;
    fake_now = 0;
    assert_int_equal(login_limiter_new(fake_clock, NULL, &l), 0);
    for (int i = 0; i < LOGIN_MAX_FAILURES - 1; i++) login_limiter_fail(l, "::1");
    login_limiter_success(l, "::1");
    login_limiter_fail(l, "::1");
    assert_int_equal(login_limiter_check(l, "::1"), 0);
    login_limiter_free(l);
}

static void test_limiter_many_addresses(void **state)
{
    (void)state;
    struct login_limiter *l;
    fake_now = 0;
    assert_int_equal(login_limiter_new(fake_clock, NULL, &l), 0);
    /* 5 addresses each locked independently */
    char addr[32];
    for (int a = 0; a < 5; a++) {
        snprintf(addr, sizeof addr, "10.0.0.%d", a);
        for (int i = 0; i < LOGIN_MAX_FAILURES; i++) login_limiter_fail(l, addr);
    }
    for (int a = 0; a < 5; a++) {
        snprintf(addr, sizeof addr, "10.0.0.%d", a);
        assert_int_equal(login_limiter_check(l, addr), LOGIN_WINDOW_S);
    }
    /* A flood of other addresses evicts idle entries but never crashes. */
    for (int a = 0; a < 10 * LOGIN_ADDR_MAX; a++) {
        fake_now++;
        snprintf(addr, sizeof addr, "172.16.%d.%d", a / 256, a % 256);
        login_limiter_fail(l, addr);
    }
    login_limiter_free(l);
}

/* Issue 7.2: 70 addresses taking turns used to escape the 64-entry table
 * (each evicted before its fifth failure). Now no number of addresses buys
 * more than the global buckets allow, and a clean address still gets in. */
static void test_limiter_global_ceiling(void **state)
{
    (void)state;
    fake_now = 10000;
    struct login_limiter *l;
    assert_int_equal(login_limiter_new(fake_clock, NULL, &l), 0);
    char addr[32];
    unsigned checked = 0, attempts = 0;
    for (int sec = 0; sec < 10; sec++) {
        for (int i = 0; i < 500; i++) {
            snprintf(addr, sizeof addr, "127.0.1.%d", (attempts++ % 70) + 1);
            if (login_limiter_check(l, addr) == 0) {
                checked++;
                login_limiter_fail(l, addr);
            }
        }
        fake_now++;
    }
    /* the buckets' bursts plus ten seconds of refill, whatever the addresses */
    assert_true(checked <= LOGIN_SUSPECT_BURST + LOGIN_CLEAN_BURST +
                               10 * (LOGIN_SUSPECT_RATE + LOGIN_CLEAN_RATE));
    assert_true(checked >= LOGIN_SUSPECT_BURST);
    /* every attacker is suspect now, so the clean bucket has refilled for the admin */
    assert_int_equal(login_limiter_check(l, "127.0.2.1"), 0);
    /* a thousand fresh addresses drain the clean bucket too: then 1 s to wait */
    for (int i = 0; i < 1000; i++) {
        snprintf(addr, sizeof addr, "10.9.%d.%d", i / 256, i % 256);
        if (login_limiter_check(l, addr) == 0) login_limiter_fail(l, addr);
    }
    assert_int_equal(login_limiter_check(l, "127.0.2.1"), 1);
    fake_now++;
    assert_int_equal(login_limiter_check(l, "127.0.2.1"), 0);

    /* The admin's address logged in before: fresh attacker addresses that
     * drain the clean bucket never lock it out; its own failures still do. */
    login_limiter_success(l, "192.0.2.77");
    for (int i = 0; i < 1000; i++) {
        snprintf(addr, sizeof addr, "10.8.%d.%d", i / 256, i % 256);
        if (login_limiter_check(l, addr) == 0) login_limiter_fail(l, addr);
    }
    assert_int_equal(login_limiter_check(l, "127.0.2.2"), 1);
    assert_int_equal(login_limiter_check(l, "192.0.2.77"), 0);
    for (int i = 0; i < LOGIN_MAX_FAILURES; i++) login_limiter_fail(l, "192.0.2.77");
    assert_true(login_limiter_check(l, "192.0.2.77") > 1);
    login_limiter_free(l);
}

/* How server/auth.c uses the table: valid (the MAC), then use (the count). */
static int use_text(struct nonce_table *t, const char *nonce, uint64_t nc)
{
    struct nonce_ref ref;
    int rc = nonce_table_valid(t, nonce, &ref);
    return rc ? rc : nonce_table_use(t, &ref, nc);
}

/* Digest nonces: each count once, forged or expired ones stale, and a
 * full table never forgets a nonce in a way that re-opens a replay. */
static void test_nonce_counts_once(void **state)
{
    (void)state;
    fake_now = 5000;
    struct nonce_table *t;
    assert_int_equal(nonce_table_new(fake_clock, NULL, &t), 0);
    char n1[NONCE_HEX + 1], n2[NONCE_HEX + 1];
    nonce_table_issue(t, n1);
    nonce_table_issue(t, n2);
    assert_int_equal(strlen(n1), NONCE_HEX);
    assert_string_not_equal(n1, n2);            /* same second, still distinct */
    assert_int_equal(nonce_table_valid(t, n1, NULL), 0);
    assert_int_equal(use_text(t, n1, 0), -EALREADY);
    assert_int_equal(use_text(t, n1, 1), 0);
    assert_int_equal(use_text(t, n1, 1), -EALREADY);
    assert_int_equal(use_text(t, n1, 3), 0);
    assert_int_equal(use_text(t, n1, 2), 0);   /* out of order, once */
    assert_int_equal(use_text(t, n1, 2), -EALREADY);
    assert_int_equal(use_text(t, n1, 3), -EALREADY);
    assert_int_equal(use_text(t, n1, 200), 0);
    assert_int_equal(use_text(t, n1, 100), -EALREADY);  /* below the window */
    assert_int_equal(use_text(t, n2, 1), 0);
    /* forged: one hex digit of the MAC changed */
    char f[NONCE_HEX + 1];
    memcpy(f, n2, sizeof f);
    f[NONCE_HEX - 1] = f[NONCE_HEX - 1] == '0' ? '1' : '0';
    assert_int_equal(nonce_table_valid(t, f, NULL), -ESTALE);
    assert_int_equal(use_text(t, f, 9), -ESTALE);
    assert_int_equal(nonce_table_valid(t, "00", NULL), -ESTALE);
    fake_now += NONCE_LIFETIME_S + 1;
    assert_int_equal(nonce_table_valid(t, n2, NULL), -ESTALE);
    assert_int_equal(use_text(t, n2, 5), -ESTALE);
    nonce_table_free(t);
}

/* nonce_table_use trusts nonce_table_valid's MAC check but not its clock:
 * a nonce that expires, or is forgotten, in between is stale. */
static void test_nonce_use_rechecks_time(void **state)
{
    (void)state;
    fake_now = 7000;
    struct nonce_table *t;
    assert_int_equal(nonce_table_new(fake_clock, NULL, &t), 0);
    char n[NONCE_HEX + 1], m[NONCE_HEX + 1];
    nonce_table_issue(t, n);
    struct nonce_ref ref;
    assert_int_equal(nonce_table_valid(t, n, &ref), 0);
    fake_now += NONCE_LIFETIME_S + 1;
    assert_int_equal(nonce_table_use(t, &ref, 1), -ESTALE);
    /* forgotten in between: the table filled up with newer nonces */
    nonce_table_issue(t, n);
    assert_int_equal(nonce_table_valid(t, n, &ref), 0);
    for (int i = 0; i < NONCE_USED_MAX; i++) {
        nonce_table_issue(t, m);
        assert_int_equal(use_text(t, m, 1), 0);
    }
    assert_int_equal(nonce_table_use(t, &ref, 1), -ESTALE);
    nonce_table_free(t);
}

static void test_nonce_full_table_forgets_safely(void **state)
{
    (void)state;
    fake_now = 100;
    struct nonce_table *t;
    assert_int_equal(nonce_table_new(fake_clock, NULL, &t), 0);
    char first[NONCE_HEX + 1], n[NONCE_HEX + 1], unused[NONCE_HEX + 1];
    nonce_table_issue(t, first);
    nonce_table_issue(t, unused);
    assert_int_equal(use_text(t, first, 1), 0);
    for (int i = 0; i < NONCE_USED_MAX; i++) {
        nonce_table_issue(t, n);
        assert_int_equal(use_text(t, n, 1), 0);
    }
    /* "first" was forgotten: it is stale now, never usable again */
    assert_int_equal(use_text(t, first, 1), -ESTALE);
    assert_int_equal(nonce_table_valid(t, first, NULL), -ESTALE);
    assert_int_equal(use_text(t, unused, 1), -ESTALE);
    assert_int_equal(use_text(t, n, 1), -EALREADY);
    assert_int_equal(use_text(t, n, 2), 0);
    nonce_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_ids_are_random_hex),
        cmocka_unit_test(test_ids_have_no_structure),
        cmocka_unit_test(test_lookup_returns_csrf_and_rejects_unknown),
        cmocka_unit_test(test_idle_timeout_renewed_on_use),
        cmocka_unit_test(test_absolute_limit),
        cmocka_unit_test(test_delete_and_clear),
        cmocka_unit_test(test_full_table_evicts_least_recently_used),
        cmocka_unit_test(test_token_equal),
        cmocka_unit_test(test_limiter_locks_after_five_failures),
        cmocka_unit_test(test_limiter_spread_out_failures_never_lock),
        cmocka_unit_test(test_limiter_success_resets),
        cmocka_unit_test(test_limiter_many_addresses),
        cmocka_unit_test(test_limiter_global_ceiling),
        cmocka_unit_test(test_nonce_counts_once),
        cmocka_unit_test(test_nonce_use_rechecks_time),
        cmocka_unit_test(test_nonce_full_table_forgets_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

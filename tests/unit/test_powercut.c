/* Power cut at every byte and every erase of a commit (THREATS.md 3.3, I1),
 * with the torn byte half-programmed, garbage or unstable (item 5), and a
 * reader running between every step of a commit (item 10).
 *
 * For each cut point: restore the image as it was before the commit, arm the
 * cut, commit B, keep what the flash holds at the cut, "reboot" (a fresh flash
 * handle with those bytes, or a reopened file) and check what a reader gets:
 *   - exactly the old configuration A or exactly the new B, never a mix, never
 *     "corrupt";
 *   - B whenever the commit had returned success;
 *   - the same answer from three more loads (unstable bits read afresh);
 *   - the next commit (C) works and is read back;
 *   - no program over unerased bytes anywhere. */
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
#include <zlib.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "flash.h"
#include "kv.h"
#include "store.h"
#include "tmpdir.h"

#define NB FLASH_DEFAULT_BLOCKS
#define IMG_SIZE ((size_t)NB * FLASH_BLOCK_SIZE)
#define BANK_SIZE (IMG_SIZE / 2)

#include "store_fixture.h"


static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A bank exactly as docs/STORE.md lays it out, written straight into an image. */
static void craft_bank(unsigned char *img, int bank, uint32_t seq, const struct kv *kv)
{
    unsigned char *p;
    size_t n;
    assert_int_equal(kv_serialize(kv, &p, &n), 0);
    unsigned char *b = img + (size_t)bank * BANK_SIZE;
    memset(b, 0xFF, BANK_SIZE);
    memcpy(b, "SCFG", 4);
    put32(b + 4, 1);
    put32(b + 8, seq);
    put32(b + 12, (uint32_t)n);
    memset(b + 16, 0, 8);
    memcpy(b + 28, p, n);
    uLong c = crc32(0L, b, 24);
    c = crc32(c, p, (uInt)n);
    put32(b + 24, (uint32_t)c);
    free(p);
}

/* Under valgrind (much slower) the byte loops are sampled: every 4th offset
 * plus the edges of each write. The ASan run (`make test`) covers every byte. */
static unsigned sampling(void)
{
    return RUNNING_ON_VALGRIND || getenv("VALGRIND") ? 4 : 1;
}

/* ---- one cut ---- */

struct scenario {
    const char *name;
    unsigned char *before;      /* image with A committed (or blank) */
    struct kv *a, *b, *c;
};

/* One in-memory chip serves every cut: restored before each commit, and after
 * the cut its power comes back (flash_power_cycle) with whatever the cut left. */
static struct flash *chip;

struct cut {
    long long bytes, erases;
    enum flash_torn torn;
    uint64_t seed;
};

#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            print_error("%s: cut bytes=%lld erases=%lld torn=%d seed=%llu: ", sc->name,    \
                        cut->bytes, cut->erases, (int)cut->torn,                           \
                        (unsigned long long)cut->seed);                                    \
            fail_msg(__VA_ARGS__);                                                         \
        }                                                                                  \
    } while (0)

/* Commits `next` on a chip holding `img`, with the cut armed. The chip keeps
 * what the cut left. Returns the commit's result. */
static int commit_with_cut(const struct scenario *sc, const unsigned char *img,
                           const struct kv *next, const struct cut *cut)
{
    struct store *st;
    flash_power_cycle(chip);
    assert_int_equal(flash_restore(chip, img, IMG_SIZE), 0);
    assert_int_equal(store_open_flash(chip, &st), 0);
    flash_fault_arm(chip, cut->bytes, cut->erases, cut->torn, cut->seed);
    int rc = store_commit(st, next, NULL, NULL);
    CHECK(rc == 0 || rc == -EIO, "commit returned %d", rc);
    CHECK((rc == 0) == !flash_powered_off(chip), "commit returned %d, powered off %d", rc,
          flash_powered_off(chip));
    CHECK(flash_violations(chip) == 0, "programmed over unerased bytes");
    store_close(st);
    return rc;
}

/* Reboots on what the cut left: returns which of old/new loads (asserting it
 * is exactly one of them) and the store, open, for the next commit. */
static const struct kv *boot_and_check(const struct scenario *sc, const struct kv *old,
                                       const struct kv *new, int commit_rc,
                                       const struct cut *cut, struct store **stp)
{
    struct store *st;
    flash_power_cycle(chip);
    assert_int_equal(store_open_flash(chip, &st), 0);
    unsigned long long p0 = flash_bytes_programmed(chip), e0 = flash_erases(chip);

    struct kv *got = NULL;
    struct store_info info;
    int rc = store_load(st, &got, &info);
    CHECK(rc == 0, "load after the cut returned %d (state %d)", rc, (int)info.state);
    bool is_old = kv_equal(got, old), is_new = kv_equal(got, new);
    CHECK(is_old != is_new, "loaded neither the old nor the new configuration");
    CHECK(commit_rc != 0 || is_new, "the commit succeeded but the old configuration loads");
    CHECK(info.state == STORE_OK || (info.state == STORE_EMPTY && kv_count(got) == 0),
          "state %d", (int)info.state);

    /* Unstable bits read differently every time: more loads, same answer. */
    for (int i = 0; i < 3; i++) {
        struct kv *again = NULL;
        CHECK(store_load(st, &again, NULL) == 0 && kv_equal(again, got), "load %d differs", i + 2);
        kv_free(again);
    }
    kv_free(got);
    CHECK(flash_bytes_programmed(chip) == p0 && flash_erases(chip) == e0, "a load wrote to flash");
    *stp = st;
    return is_new ? new : old;
}

static void next_commit_works(const struct scenario *sc, struct store *st, const struct kv *next,
                              const struct cut *cut)
{
    int rc = store_commit(st, next, NULL, NULL);
    CHECK(rc == 0 || rc == 1, "the next commit returned %d", rc);
    struct kv *got = NULL;
    CHECK(store_load(st, &got, NULL) == 0 && kv_equal(got, next), "the next commit does not load");
    kv_free(got);
    CHECK(flash_violations(chip) == 0, "programmed over unerased bytes after the reboot");
    store_close(st);
}

static void one_cut(const struct scenario *sc, const struct cut *cut)
{
    int rc = commit_with_cut(sc, sc->before, sc->b, cut);
    struct store *st;
    boot_and_check(sc, sc->a, sc->b, rc, cut, &st);
    next_commit_works(sc, st, sc->c, cut);
}

/* The commit's size without a cut: bytes programmed and erases. */
static void golden(const struct scenario *sc, unsigned long long *bytes, unsigned long long *erases)
{
    struct flash *fl;
    struct store *st;
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    assert_int_equal(flash_restore(fl, sc->before, IMG_SIZE), 0);
    assert_int_equal(store_open_flash(fl, &st), 0);
    assert_int_equal(store_commit(st, sc->b, NULL, NULL), 0);
    *bytes = flash_bytes_programmed(fl);
    *erases = flash_erases(fl);
    store_close(st);
    flash_close(fl);
}

/* Every byte offset (torn modes up to `last_torn`) and every erase (several
 * seeds; with FLASH_TORN_UNSTABLE every other one leaves unstable bits); `step`
 * > 1 samples the byte offsets (always including both ends of each write). */
static void cut_everywhere(const struct scenario *sc, unsigned step, enum flash_torn last_torn)
{
    step *= sampling();
    assert_false(kv_equal(sc->a, sc->b));
    assert_false(kv_equal(sc->b, sc->c));
    unsigned long long total, erases;
    golden(sc, &total, &erases);
    assert_true(total > 0 && erases > 0);
    size_t plen;
    unsigned char *p;
    assert_int_equal(kv_serialize(sc->b, &p, &plen), 0);
    free(p);
    assert_int_equal(total, plen + STORE_HEADER_SIZE);   /* payload + header, nothing else */

    unsigned long iterations = 0;
    for (unsigned long long n = 0; n <= total; n++) {
        bool edge = n <= 1 || (n + 2 >= plen && n <= plen + 2) || n + 30 >= total;
        if (step > 1 && n % step != 0 && !edge)
            continue;
        for (int torn = FLASH_TORN_PARTIAL; torn <= (int)last_torn; torn++) {
            struct cut c = {(long long)n, -1, (enum flash_torn)torn, n * 3 + (uint64_t)torn + 1};
            one_cut(sc, &c);
            iterations++;
        }
    }
    for (unsigned long long e = 0; e < erases; e++)
        for (uint64_t seed = 1; seed <= 24; seed++) {
            enum flash_torn t = seed % 2 ? FLASH_TORN_PARTIAL : last_torn;
            struct cut c = {-1, (long long)e, t, seed * 1000 + e};
            one_cut(sc, &c);
            iterations++;
        }
    print_message("%s: %lu cuts over %llu bytes and %llu erases\n", sc->name, iterations, total,
                  erases);
}

/* ---- scenarios ---- */

static struct scenario *scenario_new(const char *name, int variant)
{
    struct scenario *sc = calloc(1, sizeof(*sc));
    sc->name = name;
    sc->before = malloc(IMG_SIZE);
    memset(sc->before, 0xFF, IMG_SIZE);
    sc->b = make_config(variant + 1, 0);
    sc->c = make_config(variant + 2, 0);
    return sc;
}

static void scenario_free(struct scenario *sc)
{
    kv_free(sc->a);
    kv_free(sc->b);
    kv_free(sc->c);
    free(sc->before);
    free(sc);
}

/* Commits `n` configurations on the image and leaves the last one as A. */
static void age(struct scenario *sc, int n)
{
    struct flash *fl;
    struct store *st;
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    assert_int_equal(flash_restore(fl, sc->before, IMG_SIZE), 0);
    assert_int_equal(store_open_flash(fl, &st), 0);
    for (int i = 0; i < n; i++) {
        kv_free(sc->a);
        sc->a = make_config(500 + i, 0);
        assert_int_equal(store_commit(st, sc->a, NULL, NULL), 0);
    }
    struct store_info info;
    assert_int_equal(store_info(st, &info), 0);
    assert_true(info.valid[0] && info.valid[1]);
    assert_int_equal(flash_snapshot(fl, sc->before, IMG_SIZE), 0);
    store_close(st);
    flash_close(fl);
}

static void test_cut_fresh_image(void **state)
{
    struct scenario *sc = scenario_new("fresh", 10);
    sc->a = kv_new();   /* a blank image reads as an empty configuration */
    cut_everywhere(sc, 1, FLASH_TORN_UNSTABLE);
    scenario_free(sc);
}

static void test_cut_aged_image(void **state)
{
    struct scenario *sc = scenario_new("aged", 20);
    age(sc, 75);
    cut_everywhere(sc, 1, FLASH_TORN_UNSTABLE);
    scenario_free(sc);
}

static void test_cut_at_sequence_wrap(void **state)
{
    struct scenario *sc = scenario_new("wrap", 30);
    struct kv *older = make_config(31, 0);
    sc->a = make_config(32, 0);
    craft_bank(sc->before, 0, 0xFFFFFFFEu, older);
    craft_bank(sc->before, 1, 0xFFFFFFFFu, sc->a);   /* the commit writes bank 0, seq 1 */
    kv_free(older);
    cut_everywhere(sc, 1, FLASH_TORN_GARBAGE);
    scenario_free(sc);
}

/* A payload over two blocks: two erases, and a cut in either. Bytes sampled. */
static void test_cut_two_block_payload(void **state)
{
    struct scenario *sc = scenario_new("two-block", 40);
    age(sc, 3);
    kv_free(sc->b);
    sc->b = make_config(41, 3000);
    cut_everywhere(sc, 7, FLASH_TORN_UNSTABLE);
    scenario_free(sc);
}

/* Cut during the commit that follows a cut (littlefs "exhaustive", depth 2), sampled. */
static void test_nested_cuts(void **state)
{
    struct scenario *sc = scenario_new("nested", 50);
    age(sc, 4);
    struct kv *d = make_config(53, 0);
    unsigned long long total, erases;
    golden(sc, &total, &erases);
    unsigned char *mid = malloc(IMG_SIZE);
    uint64_t rng = 0x1234567;
    for (int i = 0; i < (int)(1500 / sampling()); i++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = rng >> 16;
        struct cut c1 = {(long long)(r % (total + 1)), -1, (enum flash_torn)(r & 1), r};
        if (r % 16 == 0)
            c1 = (struct cut){-1, 0, FLASH_TORN_PARTIAL, r};
        int rc1 = commit_with_cut(sc, sc->before, sc->b, &c1);
        struct store *st;
        const struct kv *first = boot_and_check(sc, sc->a, sc->b, rc1, &c1, &st);
        store_close(st);
        assert_int_equal(flash_snapshot(chip, mid, IMG_SIZE), 0);

        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        r = rng >> 16;
        struct cut c2 = {(long long)(r % (total + 1)), -1, (enum flash_torn)(r & 1), r};
        if (r % 16 == 0)
            c2 = (struct cut){-1, 0, FLASH_TORN_PARTIAL, r};
        int rc2 = commit_with_cut(sc, mid, sc->c, &c2);
        boot_and_check(sc, first, sc->c, rc2, &c2, &st);
        next_commit_works(sc, st, d, &c2);
    }
    free(mid);
    kv_free(d);
    scenario_free(sc);
}

/* A cut in the magic's last byte with FLASH_TORN_UNSTABLE: the byte reads
 * differently each time (sometimes complete), yet every load says "old" and the
 * next commit erases the bank instead of programming over the unstable byte. */
static void test_unstable_magic(void **state)
{
    struct scenario *sc = scenario_new("unstable-magic", 70);
    age(sc, 2);
    unsigned long long total, erases;
    golden(sc, &total, &erases);
    struct store_info info;
    struct store *st;
    assert_int_equal(store_open_flash(chip, &st), 0);
    assert_int_equal(flash_restore(chip, sc->before, IMG_SIZE), 0);
    assert_int_equal(store_info(st, &info), 0);
    size_t magic_end = (size_t)(1 - info.active_bank) * BANK_SIZE + 3;   /* "G" of the new bank */
    store_close(st);

    int complete = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct cut cv = {(long long)total - 1, -1, FLASH_TORN_UNSTABLE, seed};
        const struct cut *cut = &cv;
        int rc = commit_with_cut(sc, sc->before, sc->b, cut);
        CHECK(rc == -EIO, "commit returned %d", rc);
        flash_power_cycle(chip);
        unsigned char seen[256] = {0};
        int distinct = 0;
        for (int i = 0; i < 64; i++) {
            unsigned char g;
            assert_int_equal(flash_read(chip, magic_end, &g, 1), 0);
            CHECK((g & 'G') == 'G', "byte 0x%02x is not on the way from 0xFF to 'G'", g);
            distinct += !seen[g]++;
            complete += g == 'G';
        }
        CHECK(distinct > 1, "the torn byte reads the same 64 times");
        boot_and_check(sc, sc->a, sc->b, rc, cut, &st);
        next_commit_works(sc, st, sc->c, cut);
    }
    assert_true(complete > 0);  /* the byte did read as finished now and then */
    scenario_free(sc);
}

/* ---- reader isolation: the SIP core reads between every step of a commit ---- */

struct reader {
    const struct scenario *sc;
    struct store *st;           /* a second handle on the same chip */
    int steps, first_new;       /* first_new: the step from which it sees B (-1: never) */
};

static void reader_hook(struct flash *fl, void *arg)
{
    struct reader *r = arg;
    struct kv *got = NULL;
    r->steps++;
    int rc = store_load(r->st, &got, NULL);
    if (rc != 0)
        fail_msg("%s: step %d: the reader's load returned %d", r->sc->name, r->steps, rc);
    bool is_old = kv_equal(got, r->sc->a), is_new = kv_equal(got, r->sc->b);
    kv_free(got);
    if (is_old == is_new)
        fail_msg("%s: step %d: the reader sees neither the old nor the new configuration",
                 r->sc->name, r->steps);
    if (is_new && r->first_new < 0)
        r->first_new = r->steps;
    if (is_old && r->first_new >= 0)
        fail_msg("%s: step %d: the reader went back to the old configuration", r->sc->name,
                 r->steps);
}

static void reader_sees_old_then_new(struct scenario *sc)
{
    struct store *writer;
    struct reader r = {sc, NULL, 0, -1};
    flash_power_cycle(chip);
    assert_int_equal(flash_restore(chip, sc->before, IMG_SIZE), 0);
    assert_int_equal(store_open_flash(chip, &writer), 0);
    assert_int_equal(store_open_flash(chip, &r.st), 0);
    unsigned long long e0 = flash_erases(chip);
    flash_set_hook(chip, reader_hook, &r);
    assert_int_equal(store_commit(writer, sc->b, NULL, NULL), 0);
    flash_set_hook(chip, NULL, NULL);
    /* Erases, payload, header fields, magic: B appears with the magic, not before. */
    int ops = (int)(flash_erases(chip) - e0) + 3;
    assert_int_equal(r.steps, ops);
    assert_int_equal(r.first_new, ops);
    assert_int_equal(flash_violations(chip), 0);
    store_close(r.st);
    store_close(writer);
}

static void test_reader_isolation(void **state)
{
    struct scenario *sc = scenario_new("reader-fresh", 80);
    sc->a = kv_new();
    reader_sees_old_then_new(sc);
    scenario_free(sc);

    sc = scenario_new("reader-aged", 90);
    age(sc, 9);
    reader_sees_old_then_new(sc);
    kv_free(sc->b);
    sc->b = make_config(91, 3000);  /* two blocks: two erases */
    reader_sees_old_then_new(sc);
    scenario_free(sc);
}

/* ---- on a real image file: the cut state is what the file holds; reboot = reopen ---- */

static char path[300];

static int file_setup(void **state)
{
    if (tmpdir_make("test_powercut") != 0)
        return -1;
    tmpdir_file(path, sizeof(path), "flash.img");
    return 0;
}

static int file_teardown(void **state)
{
    static const char *const names[] = {"flash.img"};
    return tmpdir_remove(names, 1);
}

static void file_put(const unsigned char *img)
{
    struct flash *fl;
    assert_int_equal(flash_open(path, true, NB, &fl), 0);
    assert_int_equal(flash_restore(fl, img, IMG_SIZE), 0);
    assert_int_equal(flash_sync(fl), 0);
    flash_close(fl);
}

/* Reopens the file (a reboot) and checks old-or-new, then the next commit. */
static void file_reboot_check(const struct scenario *sc, int commit_rc, const struct cut *cut)
{
    struct store *st;
    assert_int_equal(store_open(path, 0, &st), 0);
    struct kv *got = NULL, *again = NULL;
    int rc = store_load(st, &got, NULL);
    CHECK(rc == 0, "load after the cut returned %d", rc);
    bool is_old = kv_equal(got, sc->a), is_new = kv_equal(got, sc->b);
    CHECK(is_old != is_new, "loaded neither the old nor the new configuration");
    CHECK(commit_rc != 0 || is_new, "the commit succeeded but the old configuration loads");
    CHECK(store_load(st, &again, NULL) == 0 && kv_equal(again, got), "second load differs");
    kv_free(got);
    kv_free(again);
    CHECK(store_commit(st, sc->c, NULL, NULL) == 0, "the next commit failed");
    store_close(st);

    assert_int_equal(store_open(path, 0, &st), 0);
    CHECK(store_load(st, &got, NULL) == 0 && kv_equal(got, sc->c), "the next commit is lost");
    CHECK(flash_violations(store_flash(st)) == 0, "violations");
    kv_free(got);
    store_close(st);
}

static void test_cut_file_image(void **state)
{
    struct scenario *sc = scenario_new("file", 60);
    age(sc, 5);
    unsigned long long total, erases;
    golden(sc, &total, &erases);
    int iterations = 0;
    for (unsigned long long n = 0; n <= total; n += n + 40 >= total ? 1 : 37 * sampling()) {
        for (int torn = FLASH_TORN_PARTIAL; torn <= FLASH_TORN_GARBAGE; torn++) {
            struct cut cv = {(long long)n, -1, (enum flash_torn)torn, n + 7};
            const struct cut *cut = &cv;
            file_put(sc->before);
            struct flash *fl;
            struct store *st;
            assert_int_equal(flash_open(path, false, 0, &fl), 0);
            assert_int_equal(store_open_flash(fl, &st), 0);
            flash_fault_arm(fl, cut->bytes, -1, cut->torn, cut->seed);
            int rc = store_commit(st, sc->b, NULL, NULL);
            CHECK((rc == 0) == (n == total), "commit returned %d", rc);
            store_close(st);
            flash_close(fl);    /* the power is gone: the file keeps what the cut left */
            file_reboot_check(sc, rc, cut);
            iterations++;
        }
    }
    for (uint64_t seed = 1; seed <= 8; seed++) {
        struct cut cv = {-1, 0, FLASH_TORN_PARTIAL, seed};
            const struct cut *cut = &cv;
        file_put(sc->before);
        struct flash *fl;
        struct store *st;
        assert_int_equal(flash_open(path, false, 0, &fl), 0);
        assert_int_equal(store_open_flash(fl, &st), 0);
        flash_fault_arm(fl, -1, 0, FLASH_TORN_PARTIAL, seed);
        int rc = store_commit(st, sc->b, NULL, NULL);
        CHECK(rc == -EIO, "commit returned %d", rc);
        store_close(st);
        flash_close(fl);
        file_reboot_check(sc, rc, cut);
        iterations++;
    }

    /* The environment variable the CLI and daemon honour: store_open arms it. */
    for (long long n = 0; n < (long long)total; n += (long long)total / 5) {
        struct cut cv = {n, -1, FLASH_TORN_PARTIAL, 0};
            const struct cut *cut = &cv;
        file_put(sc->before);
        char val[32];
        snprintf(val, sizeof(val), "%lld", n);
        setenv("SIPCFG_FLASH_CUT_AFTER", val, 1);
        struct store *st;
        int orc = store_open(path, 0, &st);
        unsetenv("SIPCFG_FLASH_CUT_AFTER");
        assert_int_equal(orc, 0);
        int rc = store_commit(st, sc->b, NULL, NULL);
        CHECK(rc == -EIO, "commit returned %d", rc);
        struct kv *got = NULL;
        CHECK(store_load(st, &got, NULL) == -EIO, "a load after the cut must fail, not guess");
        store_close(st);
        file_reboot_check(sc, rc, cut);
        iterations++;
    }
    print_message("file: %d cuts over %llu bytes\n", iterations, total);
    scenario_free(sc);
}

static int chip_setup(void **state)
{
    return flash_open_mem(NB, &chip);
}

static int chip_teardown(void **state)
{
    flash_close(chip);
    chip = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest mem[] = {
        cmocka_unit_test(test_cut_fresh_image),
        cmocka_unit_test(test_cut_aged_image),
        cmocka_unit_test(test_cut_at_sequence_wrap),
        cmocka_unit_test(test_cut_two_block_payload),
        cmocka_unit_test(test_nested_cuts),
        cmocka_unit_test(test_unstable_magic),
        cmocka_unit_test(test_reader_isolation),
    };
    const struct CMUnitTest file[] = {
        cmocka_unit_test(test_cut_file_image),
    };
    int failed = cmocka_run_group_tests_name("powercut", mem, chip_setup, chip_teardown);
    failed += cmocka_run_group_tests_name("powercut_file", file, file_setup, file_teardown);
    return failed;
}

/* store: the two-bank format, selection, corruption, wear, staleness (in memory;
 * image files, damaged files and two processes: test_store_file.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "flash.h"
#include "kv.h"
#include "store.h"

#define NB FLASH_DEFAULT_BLOCKS
#define IMG_SIZE ((size_t)NB * FLASH_BLOCK_SIZE)
#define BANK_SIZE (IMG_SIZE / 2)
#define CAPACITY (BANK_SIZE - STORE_HEADER_SIZE)

/* ---- fixtures ---- */

#include "store_fixture.h"


static size_t payload_len(const struct kv *kv)
{
    unsigned char *p;
    size_t n;
    assert_int_equal(kv_serialize(kv, &p, &n), 0);
    free(p);
    return n;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Writes a bank into an image buffer exactly as docs/STORE.md describes it,
 * independently of store.c. `len` overrides the length field (the CRC is still
 * computed over the header as written and the real payload). */
static void craft_bank(unsigned char *img, int bank, uint32_t seq, const unsigned char *payload,
                       size_t plen, uint32_t version, const uint32_t *len)
{
    unsigned char *b = img + (size_t)bank * BANK_SIZE;
    memset(b, 0xFF, BANK_SIZE);
    memcpy(b, "SCFG", 4);
    put32(b + 4, version);
    put32(b + 8, seq);
    put32(b + 12, len ? *len : (uint32_t)plen);
    int64_t t = 1700000000;
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)((uint64_t)t >> (8 * i));
    memcpy(b + 28, payload, plen);
    uLong c = crc32(0L, b, 24);
    c = crc32(c, payload, (uInt)plen);
    put32(b + 24, (uint32_t)c);
}

static void craft_kv_bank(unsigned char *img, int bank, uint32_t seq, const struct kv *kv)
{
    unsigned char *p;
    size_t n;
    assert_int_equal(kv_serialize(kv, &p, &n), 0);
    craft_bank(img, bank, seq, p, n, 1, NULL);
    free(p);
}

struct rig {
    struct flash *fl;
    struct store *st;
    struct kv *a, *b, *c;
    unsigned char *img, *img2;
};

static int rig_setup(void **state)
{
    struct rig *r = calloc(1, sizeof(*r));
    if (!r || flash_open_mem(NB, &r->fl) < 0 || store_open_flash(r->fl, &r->st) < 0)
        return -1;
    r->a = make_config(1, 0);
    r->b = make_config(2, 0);
    r->c = make_config(3, 0);
    r->img = malloc(IMG_SIZE);
    r->img2 = malloc(IMG_SIZE);
    *state = r;
    return 0;
}

static int rig_teardown(void **state)
{
    struct rig *r = *state;
    /* No test ever programs over unerased bytes. */
    unsigned long v = flash_violations(r->fl);
    store_close(r->st);
    flash_close(r->fl);
    kv_free(r->a);
    kv_free(r->b);
    kv_free(r->c);
    free(r->img);
    free(r->img2);
    free(r);
    return v == 0 ? 0 : -1;
}

static void restore(struct rig *r, const unsigned char *img)
{
    assert_int_equal(flash_restore(r->fl, img, IMG_SIZE), 0);
}

/* A load must not change one byte or erase anything. */
static void assert_load_is_read_only(struct rig *r, int want_rc, const struct kv *want)
{
    unsigned long long p0 = flash_bytes_programmed(r->fl), e0 = flash_erases(r->fl);
    assert_int_equal(flash_snapshot(r->fl, r->img2, IMG_SIZE), 0);
    struct store_info info;
    struct kv *got = load(r->st, want_rc, &info);
    if (want_rc == 0) {
        assert_true(kv_equal(got, want));
        assert_int_equal(info.state, kv_count(want) ? STORE_OK : STORE_EMPTY);
    } else {
        assert_int_equal(info.state, STORE_CORRUPT);
        assert_int_equal(info.active_bank, -1);
    }
    kv_free(got);
    assert_int_equal(flash_bytes_programmed(r->fl), p0);
    assert_int_equal(flash_erases(r->fl), e0);
    unsigned char *now = malloc(IMG_SIZE);
    assert_int_equal(flash_snapshot(r->fl, now, IMG_SIZE), 0);
    assert_memory_equal(now, r->img2, IMG_SIZE);
    free(now);
}

/* ---- tests ---- */

static void test_blank_image(void **state)
{
    struct rig *r = *state;
    struct store_info info;
    struct kv *kv = load(r->st, 0, &info);
    assert_int_equal(kv_count(kv), 0);
    kv_free(kv);
    assert_int_equal(info.state, STORE_EMPTY);
    assert_int_equal(info.active_bank, -1);
    assert_int_equal(info.generation, 0);
    assert_false(info.valid[0]);
    assert_false(info.valid[1]);
    assert_int_equal(info.capacity, CAPACITY);
    assert_int_equal(flash_bytes_programmed(r->fl), 0);
    assert_int_equal(flash_erases(r->fl), 0);

    /* An odd block count cannot be split into two banks. */
    struct flash *odd;
    struct store *st = (struct store *)1;
    assert_int_equal(flash_open_mem(3, &odd), 0);
    assert_int_equal(store_open_flash(odd, &st), -EINVAL);
    flash_close(odd);
}

static void test_commit_alternates_banks(void **state)
{
    struct rig *r = *state;
    struct store_info info;
    time_t t0 = time(NULL);
    assert_int_equal(store_commit(r->st, r->a, NULL, &info), 0);
    assert_int_equal(info.state, STORE_OK);
    assert_int_equal(info.active_bank, 0);
    assert_int_equal(info.generation, 1);
    assert_true(info.valid[0]);
    assert_false(info.valid[1]);
    assert_int_equal(info.length[0], payload_len(r->a));
    assert_true(info.saved_at >= t0 && info.saved_at <= time(NULL));
    assert_loads(r->st, r->a);

    assert_int_equal(store_commit(r->st, r->b, NULL, &info), 0);
    assert_int_equal(info.active_bank, 1);
    assert_int_equal(info.generation, 2);
    assert_true(info.valid[0] && info.valid[1]);
    assert_int_equal(info.seq[0], 1);
    assert_int_equal(info.seq[1], 2);
    assert_loads(r->st, r->b);

    assert_int_equal(store_commit(r->st, r->c, NULL, &info), 0);
    assert_int_equal(info.active_bank, 0);
    assert_int_equal(info.generation, 3);
    assert_loads(r->st, r->c);

    struct store_info again;
    assert_int_equal(store_info(r->st, &again), 0);
    assert_memory_equal(&again, &info, sizeof(info));

    /* Emptying the configuration is a commit like any other, not "blank". */
    struct kv *empty = kv_new();
    assert_int_equal(store_commit(r->st, empty, NULL, &info), 0);
    assert_int_equal(info.state, STORE_OK);
    assert_int_equal(info.length[1], 1);
    struct kv *got = load(r->st, 0, &info);
    assert_int_equal(kv_count(got), 0);
    assert_int_equal(info.state, STORE_OK);
    assert_int_equal(info.generation, 4);
    kv_free(got);
    kv_free(empty);
}

/* Each step of a commit is durable before the next (API.md section 8):
 * erase, sync, payload, sync, header fields, sync, magic, sync. The hook
 * sees every erase and program with the number of syncs so far (issue 7: a
 * commit missing the sync before the magic passed every other test). */
struct sync_log {
    unsigned n;
    unsigned long long at[64];
};

static void log_syncs(struct flash *fl, void *arg)
{
    struct sync_log *l = arg;
    if (l->n < 64) l->at[l->n++] = flash_syncs(fl);
}

static void test_commit_syncs_each_step(void **state)
{
    struct rig *r = *state;
    struct store_info info;
    for (int round = 0; round < 3; round++) {   /* both banks, and a bank written before */
        struct sync_log l = {0};
        unsigned long long s0 = flash_syncs(r->fl);
        flash_set_hook(r->fl, log_syncs, &l);
        assert_int_equal(store_commit(r->st, round == 1 ? r->b : r->a, NULL, &info), 0);
        flash_set_hook(r->fl, NULL, NULL);
        assert_true(l.n >= 4);                  /* >= 1 erase, then 3 programs */
        for (unsigned i = 0; i + 3 < l.n; i++)
            assert_int_equal(l.at[i], s0);      /* erases, nothing synced in between */
        assert_int_equal(l.at[l.n - 3], s0 + 1);   /* payload after the erase's sync */
        assert_int_equal(l.at[l.n - 2], s0 + 2);   /* header fields after the payload's */
        assert_int_equal(l.at[l.n - 1], s0 + 3);   /* the magic after the fields' */
        assert_int_equal(flash_syncs(r->fl), s0 + 4);  /* and the magic made durable */
    }
}

/* The bytes on flash are exactly the documented layout (what a SIP core in
 * another language will parse). */
static void test_bank_layout(void **state)
{
    struct rig *r = *state;
    time_t t0 = time(NULL);
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);
    assert_int_equal(flash_snapshot(r->fl, r->img, IMG_SIZE), 0);
    unsigned char *p;
    size_t n;
    assert_int_equal(kv_serialize(r->a, &p, &n), 0);
    if (n < 2000 || n > 3500)                /* a realistic payload, inside one block */
        fail_msg("payload of %zu bytes", n);
    print_message("payload %zu bytes\n", n);

    const unsigned char *b = r->img;        /* bank 0 */
    assert_memory_equal(b, "SCFG", 4);
    assert_int_equal(get32(b + 4), 1);
    assert_int_equal(get32(b + 8), 1);
    assert_int_equal(get32(b + 12), n);
    int64_t saved = (int64_t)((uint64_t)get32(b + 16) | (uint64_t)get32(b + 20) << 32);
    assert_true(saved >= t0 && saved <= time(NULL));
    uLong c = crc32(0L, b, 24);
    c = crc32(c, b + 28, (uInt)n);
    assert_int_equal(get32(b + 24), (uint32_t)c);
    assert_memory_equal(b + 28, p, n);
    assert_int_equal(b[28 + n], 0xFF);              /* nothing after the payload */
    assert_int_equal(r->img[BANK_SIZE], 0xFF);      /* bank 1 untouched */
    free(p);

    /* Only the block the bank occupies was erased. */
    assert_int_equal(flash_erase_count(r->fl, 0), 1);
    assert_int_equal(flash_erase_count(r->fl, 1), 0);
    assert_int_equal(flash_erases(r->fl), 1);
}

static void test_unchanged_commit_writes_nothing(void **state)
{
    struct rig *r = *state;
    struct store_info info;
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);
    assert_int_equal(store_commit(r->st, r->b, NULL, NULL), 0);

    assert_int_equal(flash_snapshot(r->fl, r->img, IMG_SIZE), 0);
    uint32_t e0 = flash_erase_count(r->fl, 0), e1 = flash_erase_count(r->fl, NB / 2);
    unsigned long long p = flash_bytes_programmed(r->fl), e = flash_erases(r->fl);
    for (int i = 0; i < 50; i++) {
        struct kv *same = kv_dup(r->b);     /* equal content, another object */
        assert_int_equal(store_commit(r->st, same, NULL, &info), 1);
        kv_free(same);
    }
    assert_int_equal(info.generation, 2);
    assert_int_equal(flash_bytes_programmed(r->fl), p);
    assert_int_equal(flash_erases(r->fl), e);
    assert_int_equal(flash_erase_count(r->fl, 0), e0);
    assert_int_equal(flash_erase_count(r->fl, NB / 2), e1);
    assert_int_equal(flash_snapshot(r->fl, r->img2, IMG_SIZE), 0);
    assert_memory_equal(r->img, r->img2, IMG_SIZE);

    /* Committing the older bank's content is a change: it goes to a new generation. */
    assert_int_equal(store_commit(r->st, r->a, NULL, &info), 0);
    assert_int_equal(info.generation, 3);
    assert_int_equal(flash_erase_count(r->fl, 0), e0 + 1);
    assert_int_equal(flash_erase_count(r->fl, NB / 2), e1);

    /* Alternating changes wear both banks evenly, one erase per commit. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(store_commit(r->st, i % 2 ? r->a : r->c, NULL, NULL), 0);
    uint32_t w0 = flash_erase_count(r->fl, 0), w1 = flash_erase_count(r->fl, NB / 2);
    assert_int_equal(w0 + w1, 43);
    assert_true(w0 - w1 + 1 <= 2);           /* |w0 - w1| <= 1 */
    for (unsigned blk = 1; blk < NB / 2; blk++)
        assert_int_equal(flash_erase_count(r->fl, blk), 0);
}

/* Sampled single-bit flips in either bank: the reader falls back to the other bank. */
static void flip_bank(struct rig *r, int bank, const struct kv *other_cfg, size_t plen)
{
    size_t nbits = (STORE_HEADER_SIZE + plen) * 8;
    int tried = 0;
    for (size_t bit = 0; bit < nbits; bit += bit < STORE_HEADER_SIZE * 8 ? 1 : 29) {
        size_t off = (size_t)bank * BANK_SIZE + bit / 8;
        r->img2[off] = r->img[off] ^ (unsigned char)(1u << (bit % 8));
        assert_int_equal(flash_restore(r->fl, r->img2, IMG_SIZE), 0);
        struct store_info info;
        struct kv *got = load(r->st, 0, &info);
        if (!kv_equal(got, other_cfg))
            fail_msg("bank %d bit %zu flipped: did not fall back", bank, bit);
        assert_int_equal(info.active_bank, 1 - bank);
        assert_false(info.valid[bank]);
        if (bit >= STORE_HEADER_SIZE * 8) {
            /* a finished commit damaged since: reported, and a rollback when it was the newer */
            assert_int_equal(info.damaged_bank, bank);
            assert_int_equal(info.rolled_back, bank == 1);
        }
        kv_free(got);
        r->img2[off] = r->img[off];
        tried++;
    }
    assert_true(tried > 224 + 500);
}

static void test_bit_flips(void **state)
{
    struct rig *r = *state;
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);   /* bank 0, seq 1 */
    assert_int_equal(store_commit(r->st, r->b, NULL, NULL), 0);   /* bank 1, seq 2 */
    assert_int_equal(flash_snapshot(r->fl, r->img, IMG_SIZE), 0);
    memcpy(r->img2, r->img, IMG_SIZE);
    flip_bank(r, 1, r->a, payload_len(r->b));
    flip_bank(r, 0, r->b, payload_len(r->a));

    /* Both banks damaged: -EBADMSG, no kv, a corrupt state, and still no writes. */
    r->img2[100] ^= 0x10;
    r->img2[BANK_SIZE + 7] ^= 0x01;    /* bank 1's version */
    restore(r, r->img2);
    assert_load_is_read_only(r, -EBADMSG, NULL);
    struct store_info info;
    assert_int_equal(store_info(r->st, &info), 0);
    assert_int_equal(info.state, STORE_CORRUPT);
    assert_int_equal(info.generation, 0);

    /* A commit recovers a corrupt image. */
    assert_int_equal(store_commit(r->st, r->c, NULL, &info), 0);
    assert_int_equal(info.generation, 1);
    assert_loads(r->st, r->c);
}

/* Headers whose CRC is right but whose fields are not: never trusted, never read past. */
static void test_bad_fields(void **state)
{
    struct rig *r = *state;
    unsigned char *pa, *pb;
    size_t na, nb;
    assert_int_equal(kv_serialize(r->a, &pa, &na), 0);
    assert_int_equal(kv_serialize(r->b, &pb, &nb), 0);

    const uint32_t lens[] = {0, CAPACITY + 1, 0xFFFFFFFFu, 0x80000000u, (uint32_t)nb - 1,
                             (uint32_t)nb + 1};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        memset(r->img, 0xFF, IMG_SIZE);
        craft_bank(r->img, 0, 5, pa, na, 1, NULL);
        craft_bank(r->img, 1, 6, pb, nb, 1, &lens[i]);  /* newer, but its length is wrong */
        restore(r, r->img);
        assert_load_is_read_only(r, 0, r->a);
        /* Alone it is a corrupt image. */
        memset(r->img, 0xFF, BANK_SIZE);
        restore(r, r->img);
        assert_load_is_read_only(r, -EBADMSG, NULL);
    }

    /* Unknown format version. */
    craft_bank(r->img, 0, 5, pa, na, 1, NULL);
    craft_bank(r->img, 1, 6, pb, nb, 2, NULL);
    restore(r, r->img);
    assert_load_is_read_only(r, 0, r->a);

    /* A CRC-correct payload that breaks the kv rules (duplicate key, no terminator). */
    static const unsigned char dup[] = "a=1\0a=2\0";
    static const unsigned char unterminated[] = {'a', '=', '1', 0};
    craft_bank(r->img, 1, 6, dup, sizeof(dup), 1, NULL);
    restore(r, r->img);
    assert_load_is_read_only(r, 0, r->a);
    craft_bank(r->img, 1, 6, unterminated, sizeof(unterminated), 1, NULL);
    restore(r, r->img);
    assert_load_is_read_only(r, 0, r->a);

    /* A CRC-correct bank of the full capacity whose one value is over KV_VALUE_MAX. */
    unsigned char *big = malloc(CAPACITY);
    memset(big, 'x', CAPACITY);
    memcpy(big, "k=", 2);
    big[CAPACITY - 2] = big[CAPACITY - 1] = 0;
    craft_bank(r->img, 1, 6, big, CAPACITY, 1, NULL);
    restore(r, r->img);
    assert_load_is_read_only(r, 0, r->a);
    free(big);

    /* All-0x00 bank: the other bank wins; both all-0x00: corrupt; all-0xFF: blank. */
    craft_bank(r->img, 0, 5, pa, na, 1, NULL);
    memset(r->img + BANK_SIZE, 0x00, BANK_SIZE);
    restore(r, r->img);
    assert_load_is_read_only(r, 0, r->a);
    memset(r->img, 0x00, IMG_SIZE);
    restore(r, r->img);
    assert_load_is_read_only(r, -EBADMSG, NULL);
    memset(r->img, 0xFF, IMG_SIZE);
    restore(r, r->img);
    struct kv *empty = kv_new();
    assert_load_is_read_only(r, 0, empty);
    kv_free(empty);
    free(pa);
    free(pb);
}

static void test_equal_sequence_numbers(void **state)
{
    struct rig *r = *state;
    memset(r->img, 0xFF, IMG_SIZE);
    craft_kv_bank(r->img, 0, 7, r->a);
    craft_kv_bank(r->img, 1, 7, r->b);
    restore(r, r->img);
    struct store_info info;
    for (int i = 0; i < 3; i++) {   /* the same answer every time */
        struct kv *got = load(r->st, 0, &info);
        assert_true(kv_equal(got, r->a));
        assert_int_equal(info.active_bank, 0);
        kv_free(got);
    }
    assert_int_equal(store_commit(r->st, r->c, NULL, &info), 0);
    assert_int_equal(info.active_bank, 1);
    assert_int_equal(info.generation, 8);
    assert_loads(r->st, r->c);
}

static void test_sequence_wraps(void **state)
{
    struct rig *r = *state;
    memset(r->img, 0xFF, IMG_SIZE);
    craft_kv_bank(r->img, 0, 0xFFFFFFFEu, r->a);
    craft_kv_bank(r->img, 1, 0xFFFFFFFFu, r->b);
    restore(r, r->img);
    assert_loads(r->st, r->b);

    struct store_info info;
    assert_int_equal(store_commit(r->st, r->c, NULL, &info), 0);
    assert_int_equal(info.active_bank, 0);
    assert_int_equal(info.generation, 1);       /* 0 is skipped: it means "nothing stored" */
    assert_loads(r->st, r->c);
    assert_int_equal(store_commit(r->st, r->a, NULL, &info), 0);
    assert_int_equal(info.active_bank, 1);
    assert_int_equal(info.generation, 2);
    assert_loads(r->st, r->a);

    /* A reader must use serial-number order: 0 is newer than 0xFFFFFFFF. */
    craft_kv_bank(r->img, 0, 0xFFFFFFFFu, r->a);
    craft_kv_bank(r->img, 1, 0, r->b);
    restore(r, r->img);
    assert_loads(r->st, r->b);
    craft_kv_bank(r->img, 0, 0x7FFFFFFFu, r->a);
    craft_kv_bank(r->img, 1, 0x80000000u, r->b);
    restore(r, r->img);
    assert_loads(r->st, r->b);
    assert_true(store_seq_newer(1, 0xFFFFFFFFu));
    assert_false(store_seq_newer(0xFFFFFFFFu, 1));
    assert_false(store_seq_newer(5, 5));
}

static void test_stale_generation(void **state)
{
    struct rig *r = *state;
    struct store *other;
    assert_int_equal(store_open_flash(r->fl, &other), 0);
    struct store_info info;
    uint32_t five = 5, zero = 0;
    assert_int_equal(store_commit(r->st, r->a, &five, &info), -ESTALE);
    assert_int_equal(flash_bytes_programmed(r->fl), 0);
    assert_int_equal(store_commit(r->st, r->a, &zero, &info), 0);   /* blank = generation 0 */

    uint32_t seen = info.generation;
    assert_int_equal(store_commit(other, r->b, &seen, &info), 0);
    assert_int_equal(info.generation, seen + 1);

    /* The first handle still believes in `seen`: refused, nothing written, told the news. */
    assert_int_equal(flash_snapshot(r->fl, r->img, IMG_SIZE), 0);
    assert_int_equal(store_commit(r->st, r->c, &seen, &info), -ESTALE);
    assert_int_equal(info.generation, seen + 1);
    assert_int_equal(flash_snapshot(r->fl, r->img2, IMG_SIZE), 0);
    assert_memory_equal(r->img, r->img2, IMG_SIZE);
    /* It sees the other handle's commit without reopening: no cache. */
    assert_loads(r->st, r->b);
    /* An unchanged commit against a stale generation is still stale. */
    assert_int_equal(store_commit(r->st, r->b, &seen, &info), -ESTALE);
    seen = info.generation;
    assert_int_equal(store_commit(r->st, r->c, &seen, &info), 0);
    assert_loads(other, r->c);
    store_close(other);
}

/* Polling the generation costs no bank read while nothing changed, and never
 * hides a commit made through another handle. */
static void test_poll_generation(void **state)
{
    struct rig *r = *state;
    struct store *other;
    assert_int_equal(store_open_flash(r->fl, &other), 0);
    uint32_t g = 99;
    enum store_state s;
    assert_int_equal(store_generation(r->st, &g, &s), 0);
    assert_int_equal(g, 0);
    assert_int_equal(s, STORE_EMPTY);

    struct store_info info;
    assert_int_equal(store_commit(other, r->a, NULL, &info), 0);
    assert_int_equal(store_generation(r->st, &g, &s), 0);
    assert_int_equal(g, info.generation);
    assert_int_equal(s, STORE_OK);

    unsigned long long reads = flash_reads(r->fl);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(store_generation(r->st, &g, NULL), 0);
        assert_int_equal(g, info.generation);
    }
    assert_int_equal(flash_reads(r->fl), reads);     /* answered without reading */

    assert_int_equal(store_commit(other, r->b, NULL, &info), 0);
    assert_int_equal(store_generation(r->st, &g, NULL), 0);
    assert_int_equal(g, info.generation);
    store_close(other);
}

static void test_flash_errors_keep_old_config(void **state)
{
    struct rig *r = *state;
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);
    assert_int_equal(store_commit(r->st, r->b, NULL, NULL), 0);
    struct {
        long long progs, erases;
    } when[] = {{-1, 0}, {0, -1}, {1, -1}, {2, -1}};    /* erase, payload, header, magic */
    for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
        flash_error_arm(r->fl, when[i].progs, when[i].erases, -EIO);
        struct store_info info;
        assert_int_equal(store_commit(r->st, r->c, NULL, &info), -EIO);
        assert_loads(r->st, r->b);          /* same handle, no reboot */
        assert_int_equal(store_info(r->st, &info), 0);
        assert_int_equal(info.generation, 2);
    }
    assert_int_equal(store_commit(r->st, r->c, NULL, NULL), 0);
    assert_loads(r->st, r->c);
}

static void test_too_large(void **state)
{
    struct rig *r = *state;
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);
    /* Fill a payload to exactly the capacity. */
    struct kv *kv = kv_new();
    char key[16], *val = malloc(KV_VALUE_MAX + 1);
    size_t used = 1;
    int i = 0;
    for (;; i++) {
        snprintf(key, sizeof(key), "k%04d", i);
        size_t left = CAPACITY - used, vlen = 4000;
        if (left < strlen(key) + 2 + 4000 + 200) {
            vlen = left - strlen(key) - 2;
            assert_true(vlen <= KV_VALUE_MAX);
        }
        memset(val, 'a' + i % 26, vlen);
        val[vlen] = '\0';
        assert_int_equal(kv_set(kv, key, val), 0);
        used += strlen(key) + 2 + vlen;
        if (used == CAPACITY)
            break;
    }
    assert_int_equal(payload_len(kv), CAPACITY);
    struct store_info info;
    assert_int_equal(store_commit(r->st, kv, NULL, &info), 0);
    assert_int_equal(info.length[info.active_bank], CAPACITY);
    assert_int_equal(flash_erase_count(r->fl, NB / 2 + NB / 2 - 1), 1);   /* all 32 blocks */
    assert_loads(r->st, kv);

    /* One byte more: -EFBIG (not -ENOSPC, which means a full disk), and nothing touched. */
    assert_int_equal(kv_set(kv, "z", ""), 0);
    assert_int_equal(flash_snapshot(r->fl, r->img, IMG_SIZE), 0);
    unsigned long long e = flash_erases(r->fl);
    assert_int_equal(store_commit(r->st, kv, NULL, NULL), -EFBIG);
    assert_int_equal(flash_erases(r->fl), e);
    assert_int_equal(flash_snapshot(r->fl, r->img2, IMG_SIZE), 0);
    assert_memory_equal(r->img, r->img2, IMG_SIZE);
    kv_del(kv, "z");
    assert_loads(r->st, kv);

    /* Back to a small configuration: one block erased, the stale tail never read. */
    assert_int_equal(store_commit(r->st, r->a, NULL, NULL), 0);
    assert_int_equal(store_commit(r->st, r->b, NULL, NULL), 0);
    assert_loads(r->st, r->b);
    free(val);
    kv_free(kv);
}

/* ---- on a real image file, as the CLI and the daemon use it ---- */

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, rig_setup, rig_teardown)
    const struct CMUnitTest mem[] = {
        T(test_blank_image),
        T(test_commit_syncs_each_step),
        T(test_commit_alternates_banks),
        T(test_bank_layout),
        T(test_unchanged_commit_writes_nothing),
        T(test_bit_flips),
        T(test_bad_fields),
        T(test_equal_sequence_numbers),
        T(test_sequence_wraps),
        T(test_stale_generation),
        T(test_poll_generation),
        T(test_flash_errors_keep_old_config),
        T(test_too_large),
    };
#undef T
    return cmocka_run_group_tests_name("store", mem, NULL, NULL);
}

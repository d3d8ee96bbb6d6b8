/* flash: NOR semantics, the image file and its trailer, power-cut injection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flash.h"
#include "tmpdir.h"

#define NB 4u

static int group_setup(void **state)
{
    return tmpdir_make("test_flash");
}

static int group_teardown(void **state)
{
    /* Only files this test made, by name. */
    static const char *const names[] = {"a.img", "b.img", "junk.img", "short.img", "env.img",
                                        "lock.img", "ro.img"};
    return tmpdir_remove(names, sizeof(names) / sizeof(names[0]));
}

static unsigned char byte_at(struct flash *fl, size_t off)
{
    unsigned char b = 0;
    assert_int_equal(flash_read(fl, off, &b, 1), 0);
    return b;
}

static void test_nor_semantics(void **state)
{
    struct flash *fl;
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    assert_int_equal(flash_size(fl), NB * FLASH_BLOCK_SIZE);
    assert_int_equal(flash_nblocks(fl), NB);
    assert_int_equal(byte_at(fl, 0), 0xFF);
    assert_int_equal(byte_at(fl, flash_size(fl) - 1), 0xFF);

    unsigned char v = 0xF0;
    assert_int_equal(flash_prog(fl, 10, &v, 1), 0);
    assert_int_equal(byte_at(fl, 10), 0xF0);
    v = 0x30;                                   /* only clears bits: allowed */
    assert_int_equal(flash_prog(fl, 10, &v, 1), 0);
    assert_int_equal(byte_at(fl, 10), 0x30);
    assert_int_equal(flash_violations(fl), 0);

    /* 0x3C needs bits 2 and 3 back to 1: refused, counted, nothing written
     * (not even the first byte of a longer write). */
    unsigned char two[2] = {0x00, 0x3C};
    assert_int_equal(flash_prog(fl, 9, two, 2), -EPERM);
    assert_int_equal(flash_violations(fl), 1);
    assert_int_equal(byte_at(fl, 9), 0xFF);
    assert_int_equal(byte_at(fl, 10), 0x30);

    assert_int_equal(flash_erase_count(fl, 0), 0);
    assert_int_equal(flash_erase(fl, 0), 0);
    assert_int_equal(flash_erase_count(fl, 0), 1);
    assert_int_equal(flash_erase_count(fl, 1), 0);
    assert_int_equal(byte_at(fl, 10), 0xFF);
    assert_int_equal(flash_erases(fl), 1);
    assert_int_equal(flash_bytes_programmed(fl), 2);

    /* Bounds. */
    unsigned char buf[8];
    assert_int_equal(flash_read(fl, flash_size(fl) - 4, buf, 8), -EINVAL);
    assert_int_equal(flash_prog(fl, flash_size(fl), buf, 1), -EINVAL);
    assert_int_equal(flash_read(fl, SIZE_MAX, buf, 2), -EINVAL);
    assert_int_equal(flash_erase(fl, NB), -EINVAL);
    assert_int_equal(flash_read(fl, flash_size(fl), buf, 0), 0);

    flash_close(fl);
    struct flash *none = NULL;
    assert_int_equal(flash_open_mem(0, &none), -EINVAL);
    assert_null(none);
}

static void test_file_image(void **state)
{
    char path[300];
    tmpdir_file(path, sizeof(path), "a.img");
    struct flash *fl;
    assert_int_equal(flash_open(path, false, NB, &fl), -ENOENT);
    assert_int_equal(flash_open(path, true, NB, &fl), 0);

    /* On disk: data then trailer (magic, version, block size, count, reserved, counts). */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, NB * FLASH_BLOCK_SIZE + FLASH_TRAILER_FIXED + 4 * NB);

    unsigned char data[100];
    memset(data, 0x5A, sizeof(data));
    assert_int_equal(flash_prog(fl, FLASH_BLOCK_SIZE + 7, data, sizeof(data)), 0);
    assert_int_equal(flash_erase(fl, 3), 0);
    assert_int_equal(flash_erase(fl, 3), 0);
    assert_int_equal(flash_sync(fl), 0);

    /* A second handle (as another process would) sees it at once: no cache. */
    struct flash *other;
    assert_int_equal(flash_open(path, false, 0, &other), 0);
    assert_int_equal(flash_nblocks(other), NB);     /* the image's own geometry */
    assert_int_equal(byte_at(other, FLASH_BLOCK_SIZE + 7), 0x5A);
    assert_int_equal(flash_erase_count(other, 3), 2);
    unsigned char z = 0;
    assert_int_equal(flash_prog(other, 0, &z, 1), 0);
    assert_int_equal(byte_at(fl, 0), 0x00);
    flash_close(other);
    flash_close(fl);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char t[FLASH_TRAILER_FIXED + 4 * NB];
    assert_int_equal(fseek(f, NB * FLASH_BLOCK_SIZE, SEEK_SET), 0);
    assert_int_equal(fread(t, 1, sizeof(t), f), sizeof(t));
    fclose(f);
    assert_memory_equal(t, "SIPCFGFL", 8);
    assert_int_equal(t[8], 1);                       /* version, LE */
    assert_int_equal(t[12] | t[13] << 8, 4096);      /* block size */
    assert_int_equal(t[16], NB);
    assert_int_equal(t[24 + 4 * 3], 2);              /* block 3 erased twice */
    assert_int_equal(t[24], 0);

    /* Reopen with create: the existing image is kept, not re-made. */
    assert_int_equal(flash_open(path, true, 64, &fl), 0);
    assert_int_equal(flash_nblocks(fl), NB);
    assert_int_equal(byte_at(fl, FLASH_BLOCK_SIZE + 7), 0x5A);
    assert_int_equal(flash_erase_count(fl, 3), 2);
    flash_close(fl);
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void test_not_an_image(void **state)
{
    char path[300];
    struct flash *fl;
    tmpdir_file(path, sizeof(path), "junk.img");
    write_file(path, "hello", 5);
    assert_int_equal(flash_open(path, true, NB, &fl), -EMEDIUMTYPE);
    assert_int_equal(flash_open_guess(path, 0, &fl), -EMEDIUMTYPE);    /* not even two banks */

    /* Right size, nothing of a trailer: no geometry to trust. */
    size_t n = 2 * FLASH_BLOCK_SIZE + FLASH_TRAILER_FIXED + 8;
    unsigned char *img = calloc(1, n);
    write_file(path, img, n);
    assert_int_equal(flash_open(path, false, 2, &fl), -EMEDIUMTYPE);
    free(img);
}

static size_t file_size_of(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (size_t)sb.st_size;
}

/* A 4-block image with a byte programmed, block 1 erased 3 times and block 3
 * twice, read back whole into img (n bytes). */
static unsigned char *made_image(const char *path, size_t *n)
{
    struct flash *fl;
    unlink(path);
    assert_int_equal(flash_open(path, true, NB, &fl), 0);
    unsigned char z = 0x42;
    assert_int_equal(flash_prog(fl, 5, &z, 1), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(flash_erase(fl, 1), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(flash_erase(fl, 3), 0);
    flash_close(fl);
    *n = file_size_of(path);
    unsigned char *img = malloc(*n);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(img, 1, *n, f), *n);
    fclose(f);
    return img;
}

/* Opens a damaged image: its own geometry, `state`, and `want` as the words. */
static struct flash *open_damaged(const char *path, enum flash_image_state state, const char *want)
{
    struct flash *fl;
    char why[200];
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    assert_int_equal(flash_nblocks(fl), NB);
    assert_int_equal(flash_damage(fl, why, sizeof why), state);
    assert_string_equal(why, want);
    return fl;
}

/* Cut short by 1..4*NB bytes (inside the erase counts): the trailer still
 * gives the geometry. Reads work, the damage is named, and the first write
 * gives the file its size and trailer back; lost counts restart at the
 * highest one left. */
static void test_short_image(void **state)
{
    char path[300], why[200];
    tmpdir_file(path, sizeof(path), "short.img");
    size_t n;
    unsigned char *img = made_image(path, &n);
    static const size_t cuts[] = {1, 3, 4, 5, 4 * NB};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        write_file(path, img, n - cuts[c]);
        char want[200];
        snprintf(want, sizeof want, "the image file is %zu byte%s shorter than its trailer's "
                 "geometry (4 blocks) says; the erase counts of %zu block%s are lost",
                 cuts[c], cuts[c] == 1 ? "" : "s", (cuts[c] + 3) / 4, cuts[c] <= 4 ? "" : "s");
        struct flash *fl = open_damaged(path, FLASH_IMAGE_SHORT, want);
        assert_int_equal(byte_at(fl, 5), 0x42);
        assert_int_equal(flash_erase_count(fl, 1), cuts[c] <= 8 ? 3 : 0);
        assert_int_equal(file_size_of(path), n - cuts[c]);   /* reading wrote nothing */

        unsigned char z = 0x40;
        assert_int_equal(flash_prog(fl, 5, &z, 1), 0);
        assert_int_equal(flash_damage(fl, why, sizeof why), FLASH_IMAGE_INTACT);
        assert_string_equal(why, "");
        assert_int_equal(file_size_of(path), n);
        flash_close(fl);
        assert_int_equal(flash_open(path, false, 0, &fl), 0);
        assert_int_equal(flash_damage(fl, NULL, 0), FLASH_IMAGE_INTACT);
        assert_int_equal(byte_at(fl, 5), 0x40);
        /* Block 3's count (the last) was lost with the cut: it restarts at the
         * highest surviving one; block 1's stayed. */
        assert_int_equal(flash_erase_count(fl, 3), cuts[c] <= 4 ? 3 : cuts[c] <= 8 ? 3 : 0);
        assert_int_equal(flash_erase_count(fl, 1), cuts[c] <= 8 ? 3 : 0);
        flash_close(fl);
    }
    /* Grown by a few bytes: the same, and the save cuts them off. */
    unsigned char *longer = calloc(1, n + 7);
    memcpy(longer, img, n);
    write_file(path, longer, n + 7);
    struct flash *fl;
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    assert_int_equal(flash_damage(fl, why, sizeof why), FLASH_IMAGE_LONG);
    assert_string_equal(why, "the image file is 7 bytes longer than its trailer's geometry (4 blocks) says");
    assert_int_equal(flash_erase(fl, 2), 0);
    assert_int_equal(file_size_of(path), n);
    assert_int_equal(flash_erase_count(fl, 3), 2);
    flash_close(fl);
    free(longer);
    free(img);
}

/* A repair cut midway (here the file size limit, as a full disk would):
 * the file grew only with the erase counts written, so it is still short
 * with an intact trailer, and no lost count reads 0 (an ftruncate first
 * would have left it full-sized with zeros for counts). */
static void test_repair_cut(void **state)
{
    char path[300];
    tmpdir_file(path, sizeof(path), "short.img");
    size_t n;
    unsigned char *img = made_image(path, &n);
    write_file(path, img, n - 8);   /* blocks 2 and 3 lost their counts */
    struct flash *fl;
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    assert_int_equal(flash_damage(fl, NULL, 0), FLASH_IMAGE_SHORT);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = n - 2;
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = flash_repair(fl);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(rc, -EFBIG);
    flash_close(fl);
    assert_int_equal(file_size_of(path), n - 2);
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    assert_int_equal(flash_damage(fl, NULL, 0), FLASH_IMAGE_SHORT);
    assert_int_equal(flash_erase_count(fl, 2), 3);  /* the highest that survived */
    assert_int_equal(flash_repair(fl), 0);
    flash_close(fl);
    assert_int_equal(file_size_of(path), n);
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    assert_int_equal(flash_damage(fl, NULL, 0), FLASH_IMAGE_INTACT);
    assert_int_equal(flash_erase_count(fl, 3), 3);
    flash_close(fl);
    free(img);
}

/* A read-only damaged image (a guessed geometry, a foreign trailer): it
 * reads, every write answers -EUCLEAN, and the file stays img. Closes fl. */
static void check_read_only(struct flash *fl, const char *path, const unsigned char *img, size_t n)
{
    assert_int_equal(byte_at(fl, 5), 0x42);
    unsigned char z = 0;
    assert_int_equal(flash_prog(fl, 5, &z, 1), -EUCLEAN);
    assert_int_equal(flash_erase(fl, 1), -EUCLEAN);
    assert_int_equal(flash_repair(fl), -EUCLEAN);
    flash_close(fl);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *now = malloc(n);
    assert_int_equal(fread(now, 1, n, f), n);
    fclose(f);
    assert_memory_equal(now, img, n);   /* never written */
    free(now);
}

/* One trailer field damaged, the size right: the size gives the geometry.
 * Two fields damaged: nothing to trust (flash_open refuses; a guess is
 * read-only and never writes). */
static void test_trailer_damaged(void **state)
{
    char path[300], why[200];
    tmpdir_file(path, sizeof(path), "short.img");
    size_t n;
    unsigned char *img = made_image(path, &n);
    static const struct { size_t off; const char *name; } fields[] = {
        {0, "magic"}, {7, "magic"}, {16, "block count"}};
    size_t t = NB * FLASH_BLOCK_SIZE;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        img[t + fields[i].off] ^= 0x10;
        write_file(path, img, n);
        img[t + fields[i].off] ^= 0x10;
        char want[200];
        snprintf(want, sizeof want, "the image's trailer has a damaged %s; the file's size gives "
                 "its geometry (4 blocks)", fields[i].name);
        struct flash *fl = open_damaged(path, FLASH_IMAGE_TRAILER, want);
        assert_int_equal(flash_erase_count(fl, 1), 3);
        assert_int_equal(flash_erase(fl, 2), 0);    /* repairs first */
        flash_close(fl);
        FILE *f = fopen(path, "rb");
        unsigned char *now = malloc(n);
        assert_int_equal(fread(now, 1, n, f), n);
        fclose(f);
        assert_memory_equal(now + t, img + t, FLASH_TRAILER_FIXED);
        free(now);
    }
    /* The version or the block size not ours: maybe a newer format, never
     * rewritten as ours; read-only. */
    static const struct { size_t off; const char *want; } foreign[] = {
        {8, "the image's trailer has a version this program does not know (17, not 1); the "
            "file's size gives its geometry (4 blocks)"},
        {12, "the image's trailer has a block size this program does not know (4112, not 4096); "
             "the file's size gives its geometry (4 blocks)"}};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        img[t + foreign[i].off] ^= 0x10;
        write_file(path, img, n);
        struct flash *fl = open_damaged(path, FLASH_IMAGE_FOREIGN, foreign[i].want);
        check_read_only(fl, path, img, n);
        img[t + foreign[i].off] ^= 0x10;
    }

    img[t + 0] ^= 0x10;
    img[t + 16] ^= 0x10;
    write_file(path, img, n);
    struct flash *fl;
    assert_int_equal(flash_open(path, false, 0, &fl), -EMEDIUMTYPE);
    assert_int_equal(flash_open_guess(path, 0, &fl), 0);
    assert_int_equal(flash_damage(fl, why, sizeof why), FLASH_IMAGE_GUESSED);
    assert_string_equal(why, "the image file's size (16424 bytes) and its trailer do not agree "
                             "on a geometry; it was read as 4 blocks");
    check_read_only(fl, path, img, n);

    /* Cut into the data area: the guess reads what the file lost as 0x00. */
    write_file(path, img, NB * FLASH_BLOCK_SIZE - 10);
    assert_int_equal(flash_open_guess(path, 0, &fl), 0);
    assert_int_equal(flash_nblocks(fl), NB);
    assert_int_equal(byte_at(fl, NB * FLASH_BLOCK_SIZE - 1), 0x00);
    assert_int_equal(byte_at(fl, NB * FLASH_BLOCK_SIZE - 11), 0xFF);
    flash_close(fl);
    free(img);
}

/* The byte at the cut: with PARTIAL only some of its 1->0 transitions happen. */
static void test_cut_prog_partial(void **state)
{
    unsigned char want[16];
    for (size_t i = 0; i < sizeof(want); i++)
        want[i] = (unsigned char)(0x11 * i);   /* 0x00, 0x11, ... 0xFF */
    int torn_between = 0;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct flash *fl;
        assert_int_equal(flash_open_mem(NB, &fl), 0);
        size_t k = seed % sizeof(want);
        flash_fault_arm(fl, (long long)k, -1, FLASH_TORN_PARTIAL, seed);
        assert_int_equal(flash_prog(fl, 100, want, sizeof(want)), -EIO);
        assert_true(flash_powered_off(fl));

        unsigned char img[NB * FLASH_BLOCK_SIZE];
        assert_int_equal(flash_snapshot(fl, img, sizeof(img)), 0);
        assert_memory_equal(img + 100, want, k);                 /* before the cut: done */
        unsigned char t = img[100 + k];
        assert_int_equal(t & want[k], want[k]);                   /* only 1->0 moves, a subset */
        if (t != want[k] && t != 0xFF)
            torn_between++;
        for (size_t i = k + 1; i < sizeof(want); i++)
            assert_int_equal(img[100 + i], 0xFF);                 /* after the cut: untouched */
        assert_int_equal(flash_bytes_programmed(fl), k);

        /* Dead until "reboot". */
        unsigned char b;
        assert_int_equal(flash_read(fl, 0, &b, 1), -EIO);
        assert_int_equal(flash_prog(fl, 0, &b, 1), -EIO);
        assert_int_equal(flash_erase(fl, 0), -EIO);
        assert_int_equal(flash_sync(fl), -EIO);
        assert_int_equal(flash_violations(fl), 0);
        flash_close(fl);
    }
    assert_true(torn_between > 50);     /* the tear really is half-way, often */
}

static void test_cut_prog_garbage_and_budget(void **state)
{
    int not_subset = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        struct flash *fl;
        assert_int_equal(flash_open_mem(NB, &fl), 0);
        unsigned char want[4] = {0xF0, 0xF0, 0xF0, 0xF0};
        /* Budget spans calls: 3 bytes in the first prog, the cut in the second. */
        flash_fault_arm(fl, 5, -1, FLASH_TORN_GARBAGE, seed);
        assert_int_equal(flash_prog(fl, 0, want, 3), 0);
        assert_int_equal(flash_prog(fl, 3, want, 4), -EIO);
        unsigned char img[NB * FLASH_BLOCK_SIZE];
        assert_int_equal(flash_snapshot(fl, img, sizeof(img)), 0);
        for (int i = 0; i < 5; i++)
            assert_int_equal(img[i], 0xF0);
        if ((img[5] & 0xF0) != 0xF0)
            not_subset++;
        assert_int_equal(img[6], 0xFF);
        flash_close(fl);
    }
    assert_true(not_subset > 50);       /* garbage is not just a partial program */

    /* A cut exactly at the end of a write: the write completes, the next byte tears. */
    struct flash *fl;
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    unsigned char z[4] = {0};
    flash_fault_arm(fl, 4, -1, FLASH_TORN_PARTIAL, 9);
    assert_int_equal(flash_prog(fl, 0, z, 4), 0);
    assert_false(flash_powered_off(fl));
    assert_int_equal(flash_prog(fl, 4, z, 1), -EIO);
    flash_close(fl);

    /* Disarmed: nothing happens. */
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    flash_fault_arm(fl, 0, 0, FLASH_TORN_PARTIAL, 9);
    flash_fault_disarm(fl);
    assert_int_equal(flash_prog(fl, 0, z, 4), 0);
    assert_int_equal(flash_erase(fl, 0), 0);
    assert_false(flash_powered_off(fl));
    flash_close(fl);
}

static void test_cut_erase(void **state)
{
    int partial = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        struct flash *fl;
        assert_int_equal(flash_open_mem(NB, &fl), 0);
        unsigned char zeros[FLASH_BLOCK_SIZE] = {0};
        assert_int_equal(flash_prog(fl, FLASH_BLOCK_SIZE, zeros, sizeof(zeros)), 0);
        flash_fault_arm(fl, -1, 1, FLASH_TORN_PARTIAL, seed);
        assert_int_equal(flash_erase(fl, 2), 0);             /* one complete erase */
        assert_int_equal(flash_erase(fl, 1), -EIO);          /* then the cut */
        assert_true(flash_powered_off(fl));
        assert_int_equal(flash_erase_count(fl, 1), 1);       /* it did wear the block */

        unsigned char img[NB * FLASH_BLOCK_SIZE];
        assert_int_equal(flash_snapshot(fl, img, sizeof(img)), 0);
        size_t ff = 0;
        for (size_t i = 0; i < FLASH_BLOCK_SIZE; i++)
            ff += img[FLASH_BLOCK_SIZE + i] == 0xFF;
        if (ff > 0 && ff < FLASH_BLOCK_SIZE)
            partial++;
        assert_int_equal(img[0], 0xFF);                      /* other blocks untouched */
        assert_int_equal(img[2 * FLASH_BLOCK_SIZE], 0xFF);
        flash_close(fl);
    }
    assert_true(partial > 90);
}

static void test_transient_error(void **state)
{
    struct flash *fl;
    assert_int_equal(flash_open_mem(NB, &fl), 0);
    unsigned char z = 0;
    flash_error_arm(fl, 1, 0, -EIO);
    assert_int_equal(flash_erase(fl, 0), -EIO);
    assert_int_equal(flash_erase_count(fl, 0), 0);
    assert_int_equal(flash_erase(fl, 0), 0);                 /* one-shot */
    assert_int_equal(flash_prog(fl, 0, &z, 1), 0);
    assert_int_equal(flash_prog(fl, 1, &z, 1), -EIO);
    assert_int_equal(byte_at(fl, 1), 0xFF);                  /* nothing written */
    assert_int_equal(flash_prog(fl, 1, &z, 1), 0);
    assert_false(flash_powered_off(fl));
    flash_close(fl);
}

static void test_env_cut(void **state)
{
    char path[300];
    tmpdir_file(path, sizeof(path), "env.img");
    struct flash *fl;
    setenv("SIPCFG_FLASH_CUT_AFTER", "5", 1);
    setenv("SIPCFG_FLASH_TORN", "garbage", 1);
    assert_int_equal(flash_open(path, true, NB, &fl), 0);
    unsetenv("SIPCFG_FLASH_CUT_AFTER");
    unsetenv("SIPCFG_FLASH_TORN");
    unsigned char z[10] = {0};
    assert_int_equal(flash_prog(fl, 0, z, sizeof(z)), -EIO);
    assert_int_equal(flash_sync(fl), -EIO);
    flash_close(fl);

    /* The file keeps what the cut left; the reopened flash works. */
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    unsigned char b[10];
    assert_int_equal(flash_read(fl, 0, b, sizeof(b)), 0);
    for (int i = 0; i < 5; i++)
        assert_int_equal(b[i], 0);
    for (int i = 6; i < 10; i++)
        assert_int_equal(b[i], 0xFF);
    assert_int_equal(flash_prog(fl, 20, z, 1), 0);
    flash_close(fl);

    setenv("SIPCFG_FLASH_CUT_ERASE", "0", 1);
    assert_int_equal(flash_open(path, false, 0, &fl), 0);
    unsetenv("SIPCFG_FLASH_CUT_ERASE");
    assert_int_equal(flash_erase(fl, 1), -EIO);
    flash_close(fl);
}

/* flash_lock is a real flock: a second open of the image cannot take it meanwhile. */
static int child_try_lock(const char *path, int op)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(path, O_RDWR);
        if (fd < 0)
            _exit(3);
        if (flock(fd, op | LOCK_NB) == 0)
            _exit(0);
        _exit(errno == EWOULDBLOCK ? 1 : 2);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_lock(void **state)
{
    char path[300];
    tmpdir_file(path, sizeof(path), "lock.img");
    struct flash *fl;
    assert_int_equal(flash_open(path, true, 2, &fl), 0);
    assert_int_equal(child_try_lock(path, LOCK_EX), 0);
    assert_int_equal(flash_lock(fl), 0);
    assert_int_equal(child_try_lock(path, LOCK_EX), 1);
    assert_int_equal(child_try_lock(path, LOCK_SH), 1);
    flash_unlock(fl);
    assert_int_equal(child_try_lock(path, LOCK_EX), 0);
    assert_int_equal(flash_lock_shared(fl), 0);
    assert_int_equal(child_try_lock(path, LOCK_SH), 0);
    assert_int_equal(child_try_lock(path, LOCK_EX), 1);
    flash_unlock(fl);
    flash_close(fl);

    /* In memory the lock is a no-op that succeeds. */
    assert_int_equal(flash_open_mem(2, &fl), 0);
    assert_int_equal(flash_lock(fl), 0);
    flash_unlock(fl);
    flash_close(fl);
}

/* What a reader without write permission (the SIP core) can do: 0 = as expected. */
static int read_only_checks(const char *path)
{
    struct flash *fl;
    if (flash_open(path, false, 0, &fl) != 0)
        return 1;
    unsigned char z = 0;
    int bad = 0;
    bad |= flash_read(fl, 5, &z, 1) != 0 || z != 0x42;
    bad |= flash_prog(fl, 5, &z, 1) != -EROFS;
    bad |= flash_erase(fl, 0) != -EROFS;
    bad |= flash_lock_shared(fl) != 0;
    flash_unlock(fl);
    flash_close(fl);
    /* A writer gets the image to read (sipcfgd serves it) and is told at
     * its first program or erase. */
    if (flash_open(path, true, 0, &fl) != 0)
        return 3;
    bad |= flash_read(fl, 5, &z, 1) != 0 || z != 0x42;
    bad |= flash_prog(fl, 5, &z, 1) != -EROFS;
    bad |= flash_erase(fl, 1) != -EROFS;
    flash_close(fl);
    return bad ? 2 : 0;
}

/* A damaged image that cannot be written: read, never repaired (-EROFS). */
static int read_only_damaged_checks(const char *path)
{
    struct flash *fl;
    if (flash_open(path, false, 0, &fl) != 0)
        return 1;
    unsigned char z = 0;
    int bad = flash_damage(fl, NULL, 0) != FLASH_IMAGE_SHORT;
    bad |= flash_read(fl, 5, &z, 1) != 0 || z != 0x42;
    bad |= flash_prog(fl, 5, &z, 1) != -EROFS;
    bad |= flash_repair(fl) != -EROFS;
    flash_close(fl);
    return bad ? 2 : 0;
}

static void test_read_only_image(void **state)
{
    char path[300];
    tmpdir_file(path, sizeof(path), "ro.img");
    struct flash *fl;
    assert_int_equal(flash_open(path, true, 2, &fl), 0);
    unsigned char z = 0x42;
    assert_int_equal(flash_prog(fl, 5, &z, 1), 0);
    flash_close(fl);
    assert_int_equal(chmod(path, 0444), 0);
    char shortp[300];
    tmpdir_file(shortp, sizeof(shortp), "short.img");
    size_t n;
    unsigned char *img = made_image(shortp, &n);
    write_file(shortp, img, n - 3);
    free(img);
    assert_int_equal(chmod(shortp, 0444), 0);
    if (geteuid() != 0) {
        assert_int_equal(read_only_checks(path), 0);
        assert_int_equal(read_only_damaged_checks(shortp), 0);
        assert_int_equal(file_size_of(shortp), n - 3);
        return;
    }
    /* Root writes anything: check as an unprivileged user instead. */
    assert_int_equal(chmod(tmpdir_path(), 0755), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0)
            _exit(3);
        int rc = read_only_checks(path);
        _exit(rc ? rc : read_only_damaged_checks(shortp) ? 4 : 0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(file_size_of(shortp), n - 3);
    chmod(shortp, 0644);
}

static void test_snapshot_restore(void **state)
{
    struct flash *a, *b;
    assert_int_equal(flash_open_mem(NB, &a), 0);
    assert_int_equal(flash_open_mem(NB, &b), 0);
    unsigned char z[3] = {1, 2, 3};
    assert_int_equal(flash_prog(a, 4000, z, 3), 0);
    static unsigned char img[NB * FLASH_BLOCK_SIZE];
    assert_int_equal(flash_snapshot(a, img, sizeof(img)), 0);
    assert_int_equal(flash_snapshot(a, img, sizeof(img) - 1), -EINVAL);
    assert_int_equal(flash_restore(b, img, sizeof(img)), 0);
    assert_int_equal(byte_at(b, 4001), 2);
    assert_int_equal(flash_restore(b, img, 10), -EINVAL);
    flash_close(a);
    flash_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nor_semantics),
        cmocka_unit_test(test_file_image),
        cmocka_unit_test(test_not_an_image),
        cmocka_unit_test(test_short_image),
        cmocka_unit_test(test_repair_cut),
        cmocka_unit_test(test_trailer_damaged),
        cmocka_unit_test(test_cut_prog_partial),
        cmocka_unit_test(test_cut_prog_garbage_and_budget),
        cmocka_unit_test(test_cut_erase),
        cmocka_unit_test(test_transient_error),
        cmocka_unit_test(test_env_cut),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_read_only_image),
        cmocka_unit_test(test_snapshot_restore),
    };
    return cmocka_run_group_tests_name("flash", tests, group_setup, group_teardown);
}

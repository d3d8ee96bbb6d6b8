/* store on image files: two handles, damaged files (cut short, trailer wrong,
 * a guessed geometry), generation polling, two processes committing. */
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
#include "tmpdir.h"

#define NB FLASH_DEFAULT_BLOCKS
#define IMG_SIZE ((size_t)NB * FLASH_BLOCK_SIZE)
#define BANK_SIZE (IMG_SIZE / 2)
#define CAPACITY (BANK_SIZE - STORE_HEADER_SIZE)

/* ---- fixtures ---- */

#include "store_fixture.h"

static void image_path(char *buf, size_t n)
{
    tmpdir_file(buf, n, "store.img");
}

static int file_setup(void **state)
{
    return tmpdir_make("test_store");
}

static int file_teardown(void **state)
{
    static const char *const names[] = {"store.img"};
    return tmpdir_remove(names, 1);
}

static void test_file_two_handles(void **state)
{
    char path[300];
    image_path(path, sizeof(path));
    unlink(path);
    struct store *s1, *s2;
    assert_int_equal(store_open(path, 0, &s1), -ENOENT);
    assert_int_equal(store_open(path, STORE_CREATE, &s1), 0);
    assert_int_equal(store_open(path, STORE_CREATE, &s2), 0);
    struct kv *a = make_config(1, 0), *b = make_config(2, 0);
    struct store_info info;
    assert_int_equal(store_commit(s1, a, NULL, &info), 0);
    assert_loads(s2, a);
    uint32_t g = info.generation;
    assert_int_equal(store_commit(s2, b, &g, &info), 0);
    assert_loads(s1, b);
    assert_int_equal(store_commit(s1, a, &g, &info), -ESTALE);
    assert_int_equal(info.erase_count[0], 1);
    assert_int_equal(info.erase_count[1], 1);
    store_close(s1);
    store_close(s2);

    /* Reopened later (a reboot): the same configuration and counts. */
    assert_int_equal(store_open(path, 0, &s1), 0);
    assert_loads(s1, b);
    assert_int_equal(store_info(s1, &info), 0);
    assert_int_equal(info.generation, 2);
    assert_int_equal(info.erase_count[1], 1);
    store_close(s1);
    kv_free(a);
    kv_free(b);
}

/* The same on a file, where another process's write shows in the file's
 * stamp; a stamp younger than the coarse-clock margin is never trusted. */
static void test_file_poll_generation(void **state)
{
    char path[300];
    image_path(path, sizeof(path));
    unlink(path);
    struct store *s1, *s2;
    assert_int_equal(store_open(path, STORE_CREATE, &s1), 0);
    assert_int_equal(store_open(path, STORE_CREATE, &s2), 0);
    struct kv *a = make_config(1, 0), *b = make_config(2, 0);
    struct store_info info;
    uint32_t g;
    assert_int_equal(store_commit(s1, a, NULL, &info), 0);
    /* Right after a write: every poll reads, so a second write in the same
     * clock tick cannot hide. */
    assert_int_equal(store_generation(s2, &g, NULL), 0);
    assert_int_equal(g, info.generation);
    assert_int_equal(store_commit(s1, b, NULL, &info), 0);
    assert_int_equal(store_generation(s2, &g, NULL), 0);
    assert_int_equal(g, info.generation);

    sleep(3);   /* let the image settle past the margin (no timing is asserted) */
    assert_int_equal(store_generation(s2, &g, NULL), 0);   /* scans, and caches */
    unsigned long long reads = flash_reads(store_flash(s2));
    assert_int_equal(store_generation(s2, &g, NULL), 0);
    assert_int_equal(flash_reads(store_flash(s2)), reads);
    assert_int_equal(g, info.generation);

    assert_int_equal(store_commit(s1, a, NULL, &info), 0);
    assert_int_equal(store_generation(s2, &g, NULL), 0);
    assert_int_equal(g, info.generation);
    store_close(s1);
    store_close(s2);
    kv_free(a);
    kv_free(b);
}

static long file_size_at(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

/* An image file cut short (or with a damaged trailer) whose banks are intact:
 * the newest bank loads, the damage is said with the bank that was used, a
 * commit repairs the file (seen by another handle too). Cut so short that the
 * geometry is only a guess: it loads, commits get -EUCLEAN, nothing written.
 * A guess no bank confirms: not an image. */
static void test_file_damaged(void **state)
{
    char path[300], why[400];
    image_path(path, sizeof(path));
    unlink(path);
    struct store *s1, *s2;
    struct kv *a = make_config(1, 0), *b = make_config(2, 0), *kv;
    struct store_info info;
    assert_int_equal(store_open(path, STORE_CREATE, &s1), 0);
    assert_int_equal(store_commit(s1, a, NULL, NULL), 0);
    assert_int_equal(store_commit(s1, b, NULL, NULL), 0);
    store_close(s1);
    long full = file_size_at(path);

    assert_int_equal(truncate(path, full - 3), 0);
    assert_int_equal(store_open(path, 0, &s1), 0);
    assert_int_equal(store_open(path, 0, &s2), 0);
    assert_int_equal(store_load(s1, &kv, &info), 0);
    assert_true(kv_equal(kv, b));
    kv_free(kv);
    assert_int_equal(info.image_state, FLASH_IMAGE_SHORT);
    store_damage_text(&info, why, sizeof why);
    assert_string_equal(why, "the image file is 3 bytes shorter than its trailer's geometry "
                             "(64 blocks) says; the erase counts of 1 block are lost; both banks "
                             "are intact; bank 1 (generation 2, the newer) was used; the next "
                             "saved change repairs the image");
    assert_int_equal(file_size_at(path), full - 3);   /* a load never writes */
    assert_int_equal(store_commit(s1, a, NULL, &info), 0);
    assert_int_equal(info.image_state, FLASH_IMAGE_INTACT);
    assert_int_equal(file_size_at(path), full);
    assert_int_equal(store_info(s2, &info), 0);     /* the other handle looks again */
    assert_int_equal(info.image_state, FLASH_IMAGE_INTACT);
    assert_int_equal(info.generation, 3);
    store_close(s1);
    store_close(s2);

    /* 600 bytes short: the whole trailer is gone, the geometry a guess. */
    assert_int_equal(truncate(path, full - 600), 0);
    assert_int_equal(store_open(path, STORE_CREATE, &s1), 0);
    assert_int_equal(store_load(s1, &kv, &info), 0);
    assert_true(kv_equal(kv, a));
    kv_free(kv);
    assert_int_equal(info.image_state, FLASH_IMAGE_GUESSED);
    store_damage_text(&info, why, sizeof why);
    assert_non_null(strstr(why, "bank 0 (generation 3, the newer) was used; the image cannot be "
                                "written safely (read-only)"));
    assert_int_equal(store_commit(s1, b, NULL, &info), -EUCLEAN);
    assert_int_equal(store_commit(s1, a, NULL, &info), -EUCLEAN);  /* even unchanged */
    assert_int_equal(file_size_at(path), full - 600);
    store_close(s1);

    /* The same cut on a blank image: no bank proves the guess. */
    unlink(path);
    assert_int_equal(store_open(path, STORE_CREATE, &s1), 0);
    store_close(s1);
    assert_int_equal(truncate(path, full - 600), 0);
    assert_int_equal(store_open(path, STORE_CREATE, &s1), -EMEDIUMTYPE);
    assert_int_equal(file_size_at(path), full - 600);
    kv_free(a);
    kv_free(b);
}

/* A geometry guessed from the size is kept only where bank 1 validates:
 * bank 0 is at offset 0 whatever the guess, so a wrong guess would read the
 * older generation in bank 0 and say bank 1 is erased (a silent rollback).
 * Cut by more than a block, or grown by more than one: bank 1 is found near
 * the guess. Bank 1 nowhere: refused, never a rollback. */
static void test_file_guess_needs_bank1(void **state)
{
    char path[300];
    image_path(path, sizeof(path));
    unlink(path);
    struct store *st;
    struct kv *a = make_config(1, 0), *b = make_config(2, 0), *kv;
    struct store_info info;
    assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
    assert_int_equal(store_commit(st, a, NULL, NULL), 0);
    assert_int_equal(store_commit(st, b, NULL, NULL), 0);   /* bank 1 active */
    store_close(st);
    long full = file_size_at(path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *img = malloc((size_t)full);
    assert_int_equal(fread(img, 1, (size_t)full, f), (size_t)full);
    fclose(f);

    static const long changes[] = {-9000, -600, 10000};
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        f = fopen(path, "wb");
        assert_int_equal(fwrite(img, 1, (size_t)full, f), (size_t)full);
        fclose(f);
        assert_int_equal(truncate(path, full + changes[i]), 0);     /* grows with zeros */
        assert_int_equal(store_open(path, 0, &st), 0);
        assert_int_equal(store_load(st, &kv, &info), 0);
        assert_true(kv_equal(kv, b));
        kv_free(kv);
        assert_int_equal(info.generation, 2);
        assert_int_equal(info.active_bank, 1);
        assert_int_equal(info.image_state, FLASH_IMAGE_GUESSED);
        assert_int_equal(store_commit(st, a, NULL, NULL), -EUCLEAN);
        store_close(st);
        assert_int_equal(file_size_at(path), full + changes[i]);
    }

    /* Bank 1 damaged as well: no geometry is proven, the file is refused. */
    img[FLASH_DEFAULT_BLOCKS / 2 * FLASH_BLOCK_SIZE + 40] ^= 0x01;
    f = fopen(path, "wb");
    assert_int_equal(fwrite(img, 1, (size_t)full - 600, f), (size_t)full - 600);
    fclose(f);
    assert_int_equal(store_open(path, 0, &st), -EMEDIUMTYPE);
    assert_int_equal(file_size_at(path), full - 600);
    free(img);
    kv_free(a);
    kv_free(b);
}

#define WORKERS 2
#define COMMITS_EACH 25

/* One process: read, change its own counter, commit against what it read;
 * on -ESTALE read again. Exit 0 after COMMITS_EACH successes. */
static void worker(const char *path, int id)
{
    struct store *st;
    if (store_open(path, 0, &st) < 0)
        _exit(10);
    int done = 0;
    for (int attempt = 0; attempt < 5000 && done < COMMITS_EACH; attempt++) {
        struct kv *kv;
        struct store_info info;
        if (store_load(st, &kv, &info) < 0)
            _exit(11);
        char key[32], val[32];
        snprintf(key, sizeof(key), "worker%d.count", id);
        const char *cur = kv_get(kv, key);
        if ((cur ? atoi(cur) : 0) != done)
            _exit(12);  /* our own last commit is gone: a lost generation */
        snprintf(val, sizeof(val), "%d", done + 1);
        kv_set(kv, key, val);
        uint32_t g = info.generation;
        int rc = store_commit(st, kv, &g, &info);
        kv_free(kv);
        if (rc == 0)
            done++;
        else if (rc != -ESTALE)
            _exit(13);
    }
    store_close(st);
    _exit(done == COMMITS_EACH ? 0 : 14);
}

static void test_two_processes_commit(void **state)
{
    char path[300];
    image_path(path, sizeof(path));
    unlink(path);
    struct store *st;
    assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
    struct kv *base = make_config(1, 0);
    assert_int_equal(store_commit(st, base, NULL, NULL), 0);

    pid_t pids[WORKERS];
    for (int w = 0; w < WORKERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            /* The child has its own handle (flock is per open); drop the parent's. */
            store_close(st);
            kv_free(base);
            worker(path, w);
        }
    }
    for (int w = 0; w < WORKERS; w++) {
        int status = 0;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("worker %d failed: status %d", w, status);
    }

    /* Every commit landed on top of the one before: generations add up, nothing lost. */
    struct store_info info;
    struct kv *kv = load(st, 0, &info);
    assert_int_equal(info.generation, 1 + WORKERS * COMMITS_EACH);
    for (int w = 0; w < WORKERS; w++) {
        char key[32];
        snprintf(key, sizeof(key), "worker%d.count", w);
        assert_non_null(kv_get(kv, key));
        assert_int_equal(atoi(kv_get(kv, key)), COMMITS_EACH);
    }
    assert_string_equal(kv_get(kv, "line1.user"), "1001");
    kv_free(kv);
    kv_free(base);
    assert_int_equal(flash_violations(store_flash(st)), 0);
    store_close(st);
}


int main(void)
{
    const struct CMUnitTest file[] = {
        cmocka_unit_test(test_file_two_handles),
        cmocka_unit_test(test_file_damaged),
        cmocka_unit_test(test_file_guess_needs_bank1),
        cmocka_unit_test(test_file_poll_generation),
        cmocka_unit_test(test_two_processes_commit),
    };
    return cmocka_run_group_tests_name("store_file", file, file_setup, file_teardown);
}

/* libFuzzer harness: arbitrary bytes as a kv payload and as the raw content of
 * both banks of a small flash image (one 4 KiB block per bank). Not part of the
 * default build:
 *
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *         -Ilib tests/fuzz/fuzz_store.c lib/kv.c lib/flash.c lib/store.c -lz \
 *         -o build/fuzz/fuzz_store
 *   build/fuzz/fuzz_store -max_total_time=300 CORPUS_DIR
 * (or `make fuzz`, which builds and runs every tests/fuzz/fuzz_*.c).
 *
 * With -DFUZZ_STANDALONE (any compiler, no libFuzzer) it replays the files
 * named on its command line instead, e.g. a crash a fuzzer found.
 *
 * Properties checked (abort on violation, so the fuzzer reports it):
 *   - kv_parse accepts or returns -EBADMSG; what it accepts survives
 *     serialize + parse unchanged;
 *   - store_load on any image returns 0 or -EBADMSG, twice the same, and never
 *     writes; store_info agrees with it;
 *   - a commit over whatever the image holds succeeds without programming over
 *     unerased bytes, and is what the next load returns. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "flash.h"
#include "kv.h"
#include "store.h"

#define FUZZ_BLOCKS 2u     /* one block per bank: inputs cover whole banks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "fuzz_store: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                           \
        }                                                                      \
    } while (0)

static void fuzz_kv(const uint8_t *data, size_t size)
{
    struct kv *kv = NULL;
    int rc = kv_parse(data, size, &kv);
    REQUIRE(rc == 0 || rc == -EBADMSG || rc == -ENOMEM);
    if (rc != 0) {
        REQUIRE(kv == NULL);
        return;
    }
    unsigned char *buf;
    size_t len;
    REQUIRE(kv_serialize(kv, &buf, &len) == 0);
    REQUIRE(len <= size);   /* same entries, possibly reordered */
    struct kv *back = NULL;
    REQUIRE(kv_parse(buf, len, &back) == 0);
    REQUIRE(kv_equal(kv, back));
    free(buf);
    kv_free(back);
    kv_free(kv);
}

/* Random bytes almost never carry a right CRC32, which would leave everything
 * behind the CRC check unexplored; so in this mode the harness writes the
 * correct CRC into each bank whose length field is in range. */
static void fix_crcs(unsigned char *img, size_t bank_size)
{
    for (int b = 0; b < 2; b++) {
        unsigned char *h = img + (size_t)b * bank_size;
        uint32_t len = (uint32_t)h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 |
                       (uint32_t)h[15] << 24;
        if (len > bank_size - STORE_HEADER_SIZE)
            continue;
        uLong c = crc32(0L, h, 24);
        c = crc32(c, h + STORE_HEADER_SIZE, len);
        for (int i = 0; i < 4; i++)
            h[24 + i] = (unsigned char)(c >> (8 * i));
    }
}

static void fuzz_store(const uint8_t *data, size_t size, bool fix)
{
    struct flash *fl;
    struct store *st;
    REQUIRE(flash_open_mem(FUZZ_BLOCKS, &fl) == 0);
    size_t img_size = flash_size(fl);
    unsigned char *img = malloc(img_size);
    REQUIRE(img);
    /* First half of the input = the start of bank 0, second half = the start of
     * bank 1, so even short inputs (libFuzzer's default max_len) reach both banks. */
    size_t bank = img_size / 2, half = size / 2;
    memset(img, 0xFF, img_size);
    memcpy(img, data, half < bank ? half : bank);
    memcpy(img + bank, data + half, size - half < bank ? size - half : bank);
    if (fix)
        fix_crcs(img, img_size / 2);
    REQUIRE(flash_restore(fl, img, img_size) == 0);
    REQUIRE(store_open_flash(fl, &st) == 0);

    struct kv *kv = NULL, *again = NULL;
    struct store_info info, info2;
    int rc = store_load(st, &kv, &info);
    REQUIRE(rc == 0 || rc == -EBADMSG);
    REQUIRE((rc == 0) == (kv != NULL));
    REQUIRE(rc == 0 ? info.state != STORE_CORRUPT : info.state == STORE_CORRUPT);
    REQUIRE(store_load(st, &again, &info2) == rc);
    REQUIRE(rc != 0 || kv_equal(kv, again));
    REQUIRE(flash_bytes_programmed(fl) == 0 && flash_erases(fl) == 0);
    REQUIRE(store_info(st, &info2) == 0 && info2.state == info.state &&
            info2.generation == info.generation && info2.active_bank == info.active_bank);
    kv_free(again);

    /* Whatever was there, a commit goes through and is read back. */
    struct kv *next = kv ? kv : kv_new();
    REQUIRE(next);
    REQUIRE(kv_set(next, "fuzz.marker", "1") == 0);
    rc = store_commit(st, next, NULL, &info2);
    REQUIRE(rc == 0 || rc == 1 || rc == -EFBIG);
    if (rc != -EFBIG) {
        struct kv *got = NULL;
        REQUIRE(store_load(st, &got, NULL) == 0);
        REQUIRE(kv_equal(got, next));
        kv_free(got);
    }
    REQUIRE(flash_violations(fl) == 0);
    kv_free(next);
    store_close(st);
    flash_close(fl);
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_kv(data, size);
    /* First byte: 'C' = fix the CRCs, anything else = the image as given. */
    if (size > 0)
        fuzz_store(data + 1, size - 1, data[0] == 'C');
    return 0;
}

#ifdef FUZZ_STANDALONE
int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            return 1;
        }
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        printf("%s: ok\n", argv[i]);
    }
    return 0;
}
#endif

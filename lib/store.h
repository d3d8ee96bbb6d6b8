/* store: the configuration in two CRC'd banks (API.md section 8, docs/STORE.md).
 * A commit erases and writes the older bank and programs its header last (the
 * magic "SCFG" being its very last bytes); a reader takes the valid bank with
 * the newest sequence number (serial-number arithmetic, so wrap-around is
 * fine). A commit of what is already stored neither erases nor writes.
 * Nothing is cached between calls: every call re-reads the flash, so a commit
 * by another process (the CLI beside the daemon) is seen at once. */
#ifndef SIPCFG_STORE_H
#define SIPCFG_STORE_H
#include <stdbool.h>
#include <stdint.h>
#include "flash.h"
#include "kv.h"

/* Bank header, little-endian (docs/STORE.md):
 *   0 magic "SCFG" | 4 version u32 | 8 seq u32 | 12 length u32 |
 *  16 saved_at i64 | 24 crc32 u32 over bytes 0..23 and the payload | 28 payload */
#define STORE_MAGIC "SCFG"
#define STORE_VERSION 1u
#define STORE_HEADER_SIZE 28u

enum store_state {
    STORE_EMPTY = 0,    /* blank image: no bank was ever written */
    STORE_OK,           /* at least one valid bank */
    STORE_CORRUPT,      /* neither bank valid, and not blank */
};

struct store_info {
    enum store_state state;
    uint32_t generation;        /* sequence number of the active bank (0 if none) */
    int active_bank;            /* 0, 1, or -1 */
    bool valid[2];
    uint32_t seq[2];
    uint32_t crc[2];
    uint32_t length[2];         /* payload bytes */
    uint32_t erase_count[2];    /* erases of the bank's first block */
    int64_t saved_at;           /* unix seconds of the active bank's commit */
    uint32_t capacity;          /* largest payload a bank holds */
    /* A bank that finished a commit (its magic is written) but no longer
     * validates: damaged since (a bit flip). -1 when none. When its sequence
     * number is newer than the active bank's, the store rolled back to the
     * previous generation: rolled_back. */
    int damaged_bank;
    bool rolled_back;
    /* The image file itself (not a bank) is damaged: its size or trailer
     * disagree (flash_image.h). image_damage says how ("" when intact). With
     * FLASH_IMAGE_GUESSED (the geometry is a guess) or FLASH_IMAGE_FOREIGN
     * (the trailer's version or block size is not ours) nothing is written
     * (-EUCLEAN); otherwise the next commit puts the file right. */
    enum flash_image_state image_state;
    char image_damage[200];
};

struct store;

enum { STORE_CREATE = 1 };

/* Opens (STORE_CREATE: creates a blank image of FLASH_DEFAULT_BLOCKS when the
 * file is missing) the image at path. -EINVAL when the image's block count is
 * odd, -EMEDIUMTYPE when it is not an image. An image whose size and trailer
 * do not give its geometry is still opened read-only (guessed from its size:
 * writes get -EUCLEAN) when a bank validates with the guess, so that what
 * the banks hold can be read. */
int store_open(const char *path, int flags, struct store **out);
/* store_open's error in words for a person: with STORE_CREATE a missing
 * image is made, so -ENOENT means its directory does not exist. */
const char *store_open_strerror(int err, int flags);
/* On a flash the caller owns (tests); store_close does not close it. */
int store_open_flash(struct flash *fl, struct store **out);
void store_close(struct store *st);

/* The newest valid configuration (an empty kv for a blank image).
 * 0, -EBADMSG (both banks bad: *out is NULL), -EIO. `info` may be NULL. */
int store_load(struct store *st, struct kv **out, struct store_info *info);

/* Commits kv. With expect_generation non-NULL, refuses with -ESTALE when the
 * stored generation is no longer that one (someone else committed meanwhile).
 * Returns 0 written, 1 unchanged (nothing erased or written), -ESTALE, -EFBIG (too big for a bank), -ENOSPC (disk full)
 * (payload too large), -EIO / -EPERM (flash failed: the old configuration stays).
 * Success is reported only after the header is durable. */
int store_commit(struct store *st, const struct kv *kv, const uint32_t *expect_generation,
                 struct store_info *info);

/* What store_load would see, without building the kv. 0 (also for a corrupt
 * image: see info->state), or a flash error. */
int store_info(struct store *st, struct store_info *info);

/* The active generation and state, for polling ("did someone commit?"): reads
 * no bank when the image has not changed since the last scan, which is what
 * a daemon checking before every request, or a SIP core polling, needs. */
int store_generation(struct store *st, uint32_t *generation, enum store_state *state);

/* For a person: what is wrong with the image file (info->image_damage) and
 * what was done about it ("...; bank 0 (generation 7) is intact and was used;
 * the next saved change repairs the image"). "" when the file is intact. */
void store_damage_text(const struct store_info *info, char *buf, size_t n);

/* The flash under the store (tests: fault injection, counters). */
struct flash *store_flash(struct store *st);

/* Serial-number order (RFC 1982 style): is a newer than b? */
bool store_seq_newer(uint32_t a, uint32_t b);

#endif

/* flash_image: the image file's own layout, apart from the NOR device that
 * lib/flash.c emulates on it: the data area (nblocks * FLASH_BLOCK_SIZE
 * bytes) followed by a trailer (docs/STORE.md section 1): magic "SIPCFGFL",
 * version, block size, block count, reserved, then one u32 erase count per
 * block, all little-endian.
 *
 * It creates an image atomically, reads and bumps erase counts, and works out
 * the geometry of an existing file: from its trailer when the file's size
 * agrees, and otherwise as far as it can be known safely (a file cut short
 * or a damaged trailer field), so that the banks it holds can still be read
 * and the next commit can put the trailer right. */
#ifndef SIPCFG_FLASH_IMAGE_H
#define SIPCFG_FLASH_IMAGE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FLASH_BLOCK_SIZE 4096u
#define FLASH_DEFAULT_BLOCKS 64u    /* 256 KiB: two banks of 128 KiB */
#define FLASH_MAX_BLOCKS 65536u     /* 256 MiB */
#define FLASH_TRAILER_MAGIC "SIPCFGFL"
#define FLASH_TRAILER_VERSION 1u
#define FLASH_TRAILER_FIXED 24u     /* bytes before the erase counts */

/* What the image file looks like, apart from the banks in its data area. */
enum flash_image_state {
    FLASH_IMAGE_INTACT = 0,     /* size and trailer agree */
    FLASH_IMAGE_SHORT,          /* trailer intact, the file shorter: erase counts lost */
    FLASH_IMAGE_LONG,           /* trailer intact, bytes after the erase counts */
    FLASH_IMAGE_TRAILER,        /* the size gives the geometry, one trailer field is wrong */
    FLASH_IMAGE_GUESSED,        /* neither tells: geometry guessed from the size (read-only) */
    FLASH_IMAGE_FOREIGN,        /* the size gives the geometry, but the trailer's version or
                                 * block size is not this program's (read-only: a newer
                                 * format is never "repaired" down to this one) */
};

/* May an image in this state be written (after a repair)? GUESSED and
 * FOREIGN never are (-EUCLEAN). */
bool flash_image_writable(enum flash_image_state state);

struct flash_geometry {
    unsigned nblocks;
    enum flash_image_state state;
    long long delta;            /* the file's size minus what the geometry needs */
    const char *bad_field;      /* TRAILER, FOREIGN: which field ("magic", ...) */
    uint32_t bad_value;         /* FOREIGN: what the trailer says there */
};

/* Bytes of a whole image of nblocks blocks, trailer included. */
unsigned long long flash_image_size(unsigned nblocks);

/* Writes a blank image (all 0xFF, counts 0) beside `path` and links it into
 * place, so nobody ever opens half an image; losing the race to another
 * creator is fine. 0 or a negative errno (-ENOSPC: the disk is full). */
int flash_image_create(const char *path, unsigned nblocks);

/* An empty file (0 bytes: nothing to lose, e.g. made by mktemp) given where
 * an image is to be created is formatted in place as flash_image_create
 * would make it. A file that is not empty (anymore) is left alone. */
int flash_image_format_empty(int fd, unsigned nblocks);

/* The geometry of the open image file `fd`. 0 with g filled (INTACT, SHORT,
 * LONG or TRAILER: the geometry is trustworthy), -EMEDIUMTYPE when the
 * file's size and trailer do not give it (not an image, or too damaged to
 * tell), or the file's error. SHORT/LONG need a trailer whose four fields
 * are all right; TRAILER a file of exactly the right size with at most one
 * wrong field, the magic or the block count; FOREIGN the same with the
 * version or the block size wrong (read-only). */
int flash_image_probe(int fd, struct flash_geometry *g);
/* A geometry to read a file whose probe failed, from its size alone (a file
 * cut short by less than one block's worth, or with a wrecked trailer):
 * FLASH_IMAGE_GUESSED, never to be written. With nblocks non-zero, that block
 * count instead (a caller trying those near the guess). -EMEDIUMTYPE when the
 * file is too small to hold bank 1's first block. Bank 0 is at offset 0
 * whatever the guess: only bank 1 validating proves it right. */
int flash_image_guess(int fd, unsigned nblocks, struct flash_geometry *g);

/* Puts a trustworthy but damaged image right (SHORT, LONG, TRAILER): the file
 * gets its exact size, the trailer's fields are rewritten, erase counts that
 * were lost restart at the highest count that survived (wear is never
 * under-estimated by more than what was lost), then fsync. Touches nothing in
 * the data area, so the banks' power-cut rules are unaffected; a cut during
 * the repair leaves the image as damaged as before (or repaired). -EINVAL for
 * an INTACT or GUESSED geometry. */
int flash_image_repair(int fd, const struct flash_geometry *g);

/* The geometry's damage in words, for a person ("the image file is 3 bytes
 * shorter than its trailer's geometry (64 blocks) says"); "" when intact. */
void flash_image_describe(const struct flash_geometry *g, char *buf, size_t n);

/* Erase count of `block` (0 when the file no longer holds it). */
int flash_image_count_get(int fd, unsigned nblocks, unsigned block, uint32_t *out);
int flash_image_count_bump(int fd, unsigned nblocks, unsigned block);

/* Whole reads and writes with EINTR retried. flash_image_read returns -EIO at
 * end of file, unless `zero_fill`: then what the file does not hold reads as
 * 0x00 (a damaged image's missing bytes: never mistaken for erased flash). */
int flash_image_read(int fd, void *buf, size_t n, off_t off, bool zero_fill);
int flash_image_write(int fd, const void *buf, size_t n, off_t off);

#endif

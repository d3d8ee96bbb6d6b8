/* flash: NOR flash emulated in a file (or in memory for tests).
 * Erase sets a whole block to 0xFF; programming can only clear bits; trying to
 * set a bit back to 1 without an erase is a violation the emulation counts and
 * refuses. Each block's erase count is kept in the image's trailer.
 * The image file's layout and geometry are lib/flash_image.c's.
 * Fault injection cuts the power after K programmed bytes or N erases: the torn
 * byte is left half-programmed, as garbage or unstable, and every later operation fails
 * with -EIO until the handle is closed (the "reboot" is a fresh open).
 *
 * The image file is the flash data (nblocks * FLASH_BLOCK_SIZE bytes) followed
 * by a trailer the emulation owns (docs/STORE.md): magic "SIPCFGFL", version,
 * block size, block count, reserved, then one u32 erase count per block, all
 * little-endian. Reads and writes go to the file every time (no cache), so two
 * processes on one image see each other's writes.
 *
 * Environment (read by flash_open only, for tests that cut the power inside the
 * real CLI or daemon): SIPCFG_FLASH_CUT_AFTER=K cuts after K programmed bytes,
 * SIPCFG_FLASH_CUT_ERASE=N cuts at the erase after N complete ones,
 * SIPCFG_FLASH_TORN=partial|garbage picks the torn byte's fate. Counted from
 * the open; after the cut every operation fails with -EIO and the file keeps
 * what the cut left. */
#ifndef SIPCFG_FLASH_H
#define SIPCFG_FLASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "flash_image.h"

struct flash;

/* Opens an image file; with `create` a missing file is made (all 0xFF, counts 0)
 * with `nblocks` blocks (0 = FLASH_DEFAULT_BLOCKS), atomically (written aside,
 * then linked into place, so a concurrent creator never sees half an image).
 * An existing image keeps its own block count. Without write permission
 * (and without `create`) the image opens read-only: reads work, prog and
 * erase return -EROFS. -ENOENT, -EMEDIUMTYPE (not an image, or one whose
 * geometry cannot be known), -EINVAL (nblocks), -EIO.
 * A damaged image whose geometry is still known (flash_image_probe: a file
 * cut short in its erase counts, grown, or with one wrong trailer field)
 * opens: flash_damage says what is wrong, reads work (bytes the file lost
 * read as 0x00), and the first prog or erase puts the trailer right first. */
int flash_open(const char *path, bool create, unsigned nblocks, struct flash **out);
/* flash_open, but when the geometry cannot be known, it is guessed from the
 * file's size (flash_image_guess; nblocks non-zero: that block count) to read
 * what the banks hold: every prog and erase then answers -EUCLEAN. Only bank 1
 * validating proves the guess right (bank 0 is at offset 0 whatever the
 * guess); the caller (store_open) checks that. */
int flash_open_guess(const char *path, unsigned nblocks, struct flash **out);
/* The image file's state (FLASH_IMAGE_INTACT for memory images) and, in buf,
 * the same in words ("" when intact). */
enum flash_image_state flash_damage(const struct flash *fl, char *buf, size_t n);
/* Looks at a damaged image's file again (another process may have repaired
 * it): cheap, and a no-op for an intact one. 0 or the file's error. */
int flash_recheck(struct flash *fl);
/* Puts a damaged image's trailer and size right (flash_image_repair) when its
 * geometry is known; a no-op for an intact one. Every prog and erase does it
 * first anyway; a commit that writes nothing calls it to repair all the same.
 * -EUCLEAN for a guessed geometry. Hold flash_lock. */
int flash_repair(struct flash *fl);
/* An image that lives in memory only (tests, fuzzing), blank (all 0xFF). */
int flash_open_mem(unsigned nblocks, struct flash **out);
void flash_close(struct flash *fl);

size_t flash_size(const struct flash *fl);
unsigned flash_nblocks(const struct flash *fl);

/* All three: -EINVAL out of range, -EIO after a power cut. Bytes are
 * programmed in increasing address order (what a cut tears depends on it). */
int flash_read(struct flash *fl, size_t off, void *buf, size_t n);
/* -EPERM (and nothing written) when any byte would need a 0->1 bit. Both
 * writes: -EROFS on a read-only image, -EUCLEAN on a guessed geometry. */
int flash_prog(struct flash *fl, size_t off, const void *buf, size_t n);
int flash_erase(struct flash *fl, unsigned block);
/* Makes everything done so far durable (fsync for a file; no-op in memory). */
int flash_sync(struct flash *fl);
uint32_t flash_erase_count(const struct flash *fl, unsigned block);
unsigned long flash_violations(const struct flash *fl);

/* Advisory whole-image write lock (flock), so the CLI and the daemon never commit at once.
 * A no-op in memory. Per open: two handles on one file exclude each other. */
int flash_lock(struct flash *fl);
/* Shared (reader) lock: excludes a writer's flash_lock, not other readers. */
int flash_lock_shared(struct flash *fl);
void flash_unlock(struct flash *fl);

/* Copies of the raw flash data (flash_size bytes; not the erase counts), for
 * tests: snapshot and restore a whole image. They work after a power cut too
 * (they are the test's view of the chip, not the device's). -EINVAL if n differs. */
int flash_snapshot(struct flash *fl, unsigned char *buf, size_t n);
int flash_restore(struct flash *fl, const unsigned char *buf, size_t n);

enum flash_torn { FLASH_TORN_PARTIAL = 0, FLASH_TORN_GARBAGE, FLASH_TORN_UNSTABLE };
/* Arms a power cut: after `bytes` more programmed bytes (the next byte torn:
 * FLASH_TORN_PARTIAL = a random subset of its 1->0 transitions, GARBAGE = a
 * random byte), or after `erases` more complete erases (the next erase leaves
 * its block partly erased: a random prefix 0xFF, the rest old | random bits);
 * -1 = never. 0 cuts at the very next byte / erase. `seed` drives the torn bits.
 * FLASH_TORN_UNSTABLE (UBIFS "unstable bits"): the torn byte, or the part of the
 * block the erase did not reach, reads as a fresh random subset of its pending
 * transitions on every read, until its block is erased; programming such a
 * byte is a violation (-EPERM). Per handle: the file keeps the stored old bits,
 * flash_snapshot returns them, flash_restore makes the image stable again. */
void flash_fault_arm(struct flash *fl, long long bytes, long long erases, enum flash_torn how,
                     uint64_t seed);
void flash_fault_disarm(struct flash *fl);
bool flash_powered_off(const struct flash *fl);
/* The power comes back (in-memory reboot without a new handle): clears the
 * power-off state and any armed cut; the content stays as the cut left it. */
void flash_power_cycle(struct flash *fl);
/* Counters since open: programmed bytes and erases (to size a cut loop). */
unsigned long long flash_bytes_programmed(const struct flash *fl);
unsigned long long flash_reads(const struct flash *fl);

/* What the image looks like from outside, to notice cheaply that another
 * process (or handle) may have written it: a file's identity, size and times,
 * or a memory image's count of writes. */
struct flash_stamp {
    unsigned long long dev, ino, size, writes;
    long long mtime_ns, ctime_ns;
};
/* `settled` is false while the file changed in the last two seconds: a write
 * that soon after may not move a coarse file-system clock, so an equal stamp
 * proves nothing yet. Memory images are always settled. */
int flash_stamp(struct flash *fl, struct flash_stamp *out, bool *settled);
bool flash_stamp_equal(const struct flash_stamp *a, const struct flash_stamp *b);
unsigned long long flash_erases(const struct flash *fl);

/* A transient I/O error without a power cut (a bad block answering once):
 * after `progs` more successful flash_prog calls the next one returns `err`
 * and writes nothing; likewise `erases` for flash_erase; -1 = never. One-shot. */
void flash_error_arm(struct flash *fl, long long progs, long long erases, int err);

/* Test hook: fn(fl, arg) runs after every completed flash_prog and flash_erase
 * (not after a failed or cut one), e.g. to run a reader between the steps of a
 * commit. It may read the flash; fn NULL removes it. */
typedef void (*flash_hook_fn)(struct flash *fl, void *arg);
void flash_set_hook(struct flash *fl, flash_hook_fn fn, void *arg);
/* Successful flash_sync calls since open: a hook reads it to see that each
 * step of a commit was made durable before the next. */
unsigned long long flash_syncs(const struct flash *fl);

#endif

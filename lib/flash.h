/* flash: NOR flash emulated in a file (or in memory for tests).
 * Erase sets a whole block to 0xFF; programming can only clear bits; trying to
 * set a bit back to 1 without an erase is a violation the emulation counts and
 * refuses. Each block's erase count is kept in the image's trailer.
 * Fault injection cuts the power after K programmed bytes or N erases: the torn
 * byte is left half-programmed or as garbage, and every later operation fails
 * with -EIO until the handle is closed (the "reboot" is a fresh open). */
#ifndef SIPCFG_FLASH_H
#define SIPCFG_FLASH_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLASH_BLOCK_SIZE 4096u
#define FLASH_DEFAULT_BLOCKS 64u    /* 256 KiB: two banks of 128 KiB */

struct flash;

/* Opens an image file; with `create` a missing file is made (all 0xFF, counts 0)
 * with `nblocks` blocks. -ENOENT, -EBADMSG (not an image), -EIO. */
int flash_open(const char *path, bool create, unsigned nblocks, struct flash **out);
/* An image that lives in memory only (tests, fuzzing); `init` may be NULL (blank). */
int flash_open_mem(unsigned nblocks, struct flash **out);
void flash_close(struct flash *fl);

size_t flash_size(const struct flash *fl);
unsigned flash_nblocks(const struct flash *fl);

int flash_read(struct flash *fl, size_t off, void *buf, size_t n);
int flash_prog(struct flash *fl, size_t off, const void *buf, size_t n);  /* -EPERM on a 0->1 bit */
int flash_erase(struct flash *fl, unsigned block);
/* Makes everything done so far durable (fsync for a file; no-op in memory). */
int flash_sync(struct flash *fl);
uint32_t flash_erase_count(const struct flash *fl, unsigned block);
unsigned long flash_violations(const struct flash *fl);

/* Advisory whole-image write lock (flock), so the CLI and the daemon never commit at once. */
int flash_lock(struct flash *fl);
void flash_unlock(struct flash *fl);

/* Copies of the raw bytes, for tests: snapshot and restore a whole image. */
int flash_snapshot(struct flash *fl, unsigned char *buf, size_t n);
int flash_restore(struct flash *fl, const unsigned char *buf, size_t n);

enum flash_torn { FLASH_TORN_PARTIAL = 0, FLASH_TORN_GARBAGE };
/* Arms a power cut: after `bytes` more programmed bytes (the next byte torn),
 * or at the `erases`-th next erase (that block left partly erased); -1 = never.
 * `seed` drives the torn bits. */
void flash_fault_arm(struct flash *fl, long long bytes, long long erases, enum flash_torn how,
                     uint64_t seed);
void flash_fault_disarm(struct flash *fl);
bool flash_powered_off(const struct flash *fl);
/* Counters since open: programmed bytes and erases (to size a cut loop). */
unsigned long long flash_bytes_programmed(const struct flash *fl);
unsigned long long flash_erases(const struct flash *fl);

#endif

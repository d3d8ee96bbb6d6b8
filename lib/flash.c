/* flash: NOR flash emulated in a file or in memory, with power-cut injection.
 *
 * The file's layout (the data area, then a trailer with the geometry and one
 * erase count per block) is lib/flash_image.c's. Nothing is cached: every
 * read goes to the file, so a second process's commit is seen at once. */
#include "flash.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct flash {
    int fd;                         /* -1: the image lives in memory */
    bool readonly;                  /* opened without write permission: a reader */
    unsigned char *mem;             /* in-memory data */
    uint32_t *mem_counts;           /* in-memory erase counts */
    size_t size;
    unsigned nblocks;
    struct flash_geometry geom;     /* files: what the image's trailer and size say */

    unsigned long violations;
    unsigned long long bytes_programmed, erases, syncs;
    unsigned long long reads;       /* flash_read calls (tests: what a poll costs) */
    unsigned long long mem_writes;  /* memory images: the stamp */

    /* Power cut: budgets count down; at -1 they never fire. */
    long long cut_bytes, cut_erases;
    enum flash_torn torn;
    uint64_t rng;
    bool off;
    /* FLASH_TORN_UNSTABLE: per byte, the bits a read draws at random (NULL
     * until a cut leaves some); cleared by an erase of the block. */
    unsigned char *unstable;

    flash_hook_fn hook;     /* after every completed prog / erase (tests) */
    void *hook_arg;

    /* Transient errors (flash_error_arm). */
    long long fail_progs, fail_erases;
    int fail_err;
};

/* ---- little helpers ---- */

/* splitmix64: small, seedable, good enough to pick torn bits. */
static uint64_t rng_next(struct flash *fl)
{
    uint64_t z = (fl->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- backing store: the data area, and the erase counts ---- */

static int dev_read(const struct flash *fl, size_t off, void *buf, size_t n)
{
    if (fl->fd < 0) {
        memcpy(buf, fl->mem + off, n);
        return 0;
    }
    /* A damaged image's missing bytes read as 0x00, never as erased flash. */
    return flash_image_read(fl->fd, buf, n, (off_t)off, fl->geom.state != FLASH_IMAGE_INTACT);
}

static int dev_write(struct flash *fl, size_t off, const void *buf, size_t n)
{
    if (fl->fd < 0) {
        memcpy(fl->mem + off, buf, n);
        fl->mem_writes++;
        return 0;
    }
    return flash_image_write(fl->fd, buf, n, (off_t)off);
}

static int count_get(const struct flash *fl, unsigned block, uint32_t *out)
{
    if (fl->fd < 0) {
        *out = fl->mem_counts[block];
        return 0;
    }
    return flash_image_count_get(fl->fd, fl->nblocks, block, out);
}

static int count_bump(struct flash *fl, unsigned block)
{
    if (fl->fd < 0) {
        fl->mem_counts[block]++;
        return 0;
    }
    return flash_image_count_bump(fl->fd, fl->nblocks, block);
}

static bool range_ok(const struct flash *fl, size_t off, size_t n)
{
    return off <= fl->size && n <= fl->size - off;
}

/* ---- open / close ---- */

static struct flash *flash_alloc(unsigned nblocks)
{
    struct flash *fl = calloc(1, sizeof(*fl));
    if (!fl)
        return NULL;
    fl->fd = -1;
    fl->nblocks = nblocks;
    fl->size = (size_t)nblocks * FLASH_BLOCK_SIZE;
    fl->cut_bytes = fl->cut_erases = -1;
    fl->fail_progs = fl->fail_erases = -1;
    return fl;
}

int flash_open_mem(unsigned nblocks, struct flash **out)
{
    if (!out || nblocks == 0 || nblocks > FLASH_MAX_BLOCKS)
        return -EINVAL;
    struct flash *fl = flash_alloc(nblocks);
    if (!fl)
        return -ENOMEM;
    fl->mem = malloc(fl->size);
    fl->mem_counts = calloc(nblocks, sizeof(uint32_t));
    if (!fl->mem || !fl->mem_counts) {
        flash_close(fl);
        return -ENOMEM;
    }
    memset(fl->mem, 0xFF, fl->size);
    *out = fl;
    return 0;
}

static long long env_ll(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 0)
        return -1;
    return v;
}

static void arm_from_env(struct flash *fl)
{
    long long bytes = env_ll("SIPCFG_FLASH_CUT_AFTER");
    long long erases = env_ll("SIPCFG_FLASH_CUT_ERASE");
    if (bytes < 0 && erases < 0)
        return;
    const char *torn = getenv("SIPCFG_FLASH_TORN");
    enum flash_torn how = torn && strcmp(torn, "garbage") == 0 ? FLASH_TORN_GARBAGE
                                                              : FLASH_TORN_PARTIAL;
    flash_fault_arm(fl, bytes, erases, how, (uint64_t)(bytes + 1) * 7919u + (uint64_t)erases);
}

static int open_image(const char *path, bool create, unsigned nblocks, bool guess,
                      struct flash **out)
{
    if (!path || !out)
        return -EINVAL;
    unsigned hint = nblocks;    /* guess: the block count to try (0: from the size) */
    if (nblocks == 0)
        nblocks = FLASH_DEFAULT_BLOCKS;
    if (nblocks > FLASH_MAX_BLOCKS)
        return -EINVAL;

    bool readonly = false;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) {
        /* An image that exists but cannot be written (the SIP core without
         * write permission, a file system mounted read-only) is still read;
         * every program or erase then answers -EROFS. */
        fd = open(path, O_RDONLY | O_CLOEXEC);
        readonly = fd >= 0;
    }
    if (fd < 0 && errno == ENOENT && create) {
        int rc = flash_image_create(path, nblocks);
        if (rc < 0)
            return rc;
        fd = open(path, O_RDWR | O_CLOEXEC);
    }
    if (fd < 0)
        return -errno;
    struct stat sb;
    if (create && !readonly && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        int rc = flash_image_format_empty(fd, nblocks);
        if (rc < 0) {
            close(fd);
            return rc;
        }
    }

    /* The trailer and the file's size give the geometry (flash_image.c);
     * a guess from the size alone only when the caller asks for one. */
    struct flash_geometry g;
    int rc = flash_image_probe(fd, &g);
    if (rc == -EMEDIUMTYPE && guess)
        rc = flash_image_guess(fd, hint, &g);
    struct flash *fl = NULL;
    if (rc == 0 && !(fl = flash_alloc(g.nblocks)))
        rc = -ENOMEM;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    fl->fd = fd;
    fl->readonly = readonly;
    fl->geom = g;
    arm_from_env(fl);
    *out = fl;
    return 0;
}

int flash_open(const char *path, bool create, unsigned nblocks, struct flash **out)
{
    return open_image(path, create, nblocks, false, out);
}

int flash_open_guess(const char *path, unsigned nblocks, struct flash **out)
{
    return open_image(path, false, nblocks, true, out);
}

enum flash_image_state flash_damage(const struct flash *fl, char *buf, size_t n)
{
    if (!fl)
        return FLASH_IMAGE_INTACT;
    flash_image_describe(&fl->geom, buf, n);
    return fl->geom.state;
}

int flash_recheck(struct flash *fl)
{
    if (!fl || fl->fd < 0 || fl->geom.state == FLASH_IMAGE_INTACT)
        return 0;
    struct flash_geometry now;
    int rc = flash_image_probe(fl->fd, &now);
    if (rc == 0 && now.nblocks == fl->nblocks)
        fl->geom = now;     /* put right (or damaged otherwise) meanwhile */
    return rc == -EMEDIUMTYPE ? 0 : rc;
}

/* Before the first write to a damaged image whose geometry is known: put its
 * trailer right (it never touches the data area). Another process may have
 * done it already, so look again first. A guessed geometry is never written. */
int flash_repair(struct flash *fl)
{
    if (!fl)
        return -EINVAL;
    if (fl->geom.state == FLASH_IMAGE_INTACT)
        return 0;
    if (!flash_image_writable(fl->geom.state))
        return -EUCLEAN;
    if (fl->readonly)
        return -EROFS;
    struct flash_geometry now;
    int rc = flash_image_probe(fl->fd, &now);
    if (rc == -EMEDIUMTYPE || (rc == 0 && (now.nblocks != fl->nblocks || !flash_image_writable(now.state))))
        return -EUCLEAN;
    if (rc == 0 && now.state != FLASH_IMAGE_INTACT)
        rc = flash_image_repair(fl->fd, &now);
    if (rc == 0) {
        memset(&fl->geom, 0, sizeof fl->geom);
        fl->geom.nblocks = fl->nblocks;
    }
    return rc;
}

void flash_close(struct flash *fl)
{
    if (!fl)
        return;
    if (fl->fd >= 0)
        close(fl->fd);  /* also drops a held flock */
    free(fl->mem);
    free(fl->mem_counts);
    free(fl->unstable);
    free(fl);
}

size_t flash_size(const struct flash *fl)
{
    return fl ? fl->size : 0;
}

unsigned flash_nblocks(const struct flash *fl)
{
    return fl ? fl->nblocks : 0;
}

/* ---- the NOR operations ---- */

int flash_read(struct flash *fl, size_t off, void *buf, size_t n)
{
    if (fl)
        fl->reads++;
    if (!fl || (!buf && n))
        return -EINVAL;
    if (fl->off)
        return -EIO;
    if (!range_ok(fl, off, n))
        return -EINVAL;
    int rc = n ? dev_read(fl, off, buf, n) : 0;
    unsigned char *p = buf;
    for (size_t i = 0; rc == 0 && fl->unstable && i < n; i++) {
        unsigned char m = fl->unstable[off + i];
        if (m)  /* the stored byte holds the bits' old values; each read draws afresh */
            p[i] = (unsigned char)((p[i] & ~m) | (rng_next(fl) & m));
    }
    return rc;
}

/* Marks bits of one byte unstable (allocating the map on first use). */
static void make_unstable(struct flash *fl, size_t off, unsigned char mask)
{
    if (!fl->unstable)
        fl->unstable = calloc(1, fl->size);
    if (fl->unstable)   /* out of memory: the byte just stays as stored */
        fl->unstable[off] = mask;
}

static void run_hook(struct flash *fl)
{
    if (fl->hook)
        fl->hook(fl, fl->hook_arg);
}

/* The byte left at the cut: some of its 1->0 transitions happened, or noise. */
static unsigned char torn_byte(struct flash *fl, unsigned char old, unsigned char want)
{
    unsigned char r = (unsigned char)rng_next(fl);
    if (fl->torn == FLASH_TORN_GARBAGE)
        return r;
    unsigned char clear = (unsigned char)(old & ~want);
    return (unsigned char)(old & ~(clear & r));
}

/* What stops a program or erase before it starts: a read-only image, or a
 * transient error armed by flash_error_arm (`countdown` reaching 0). */
static int write_gate(struct flash *fl, long long *countdown)
{
    if (!flash_image_writable(fl->geom.state))
        return -EUCLEAN;
    if (fl->readonly)
        return -EROFS;
    if (*countdown == 0) {
        *countdown = -1;
        return fl->fail_err;
    }
    if (*countdown > 0)
        (*countdown)--;
    return flash_repair(fl);
}

int flash_prog(struct flash *fl, size_t off, const void *buf, size_t n)
{
    if (!fl || (!buf && n))
        return -EINVAL;
    if (fl->off)
        return -EIO;
    if (!range_ok(fl, off, n))
        return -EINVAL;
    if (n == 0)
        return 0;
    int rc = write_gate(fl, &fl->fail_progs);
    if (rc < 0)
        return rc;

    unsigned char *cell = malloc(n);
    if (!cell)
        return -ENOMEM;
    rc = dev_read(fl, off, cell, n);
    if (rc < 0)
        goto out;

    const unsigned char *want = buf;
    for (size_t i = 0; i < n; i++) {
        /* A 0 would have to become 1, or the byte is unstable: needs an erase. */
        if ((want[i] & ~cell[i]) || (fl->unstable && fl->unstable[off + i])) {
            fl->violations++;
            rc = -EPERM;
            goto out;
        }
    }

    size_t done = n;
    bool cut = fl->cut_bytes >= 0 && (unsigned long long)fl->cut_bytes < n;
    if (cut)
        done = (size_t)fl->cut_bytes;
    else if (fl->cut_bytes >= 0)
        fl->cut_bytes -= (long long)n;
    for (size_t i = 0; i < done; i++)
        cell[i] &= want[i];
    if (cut && fl->torn == FLASH_TORN_UNSTABLE)
        make_unstable(fl, off + done, (unsigned char)(cell[done] & ~want[done]));
    else if (cut)
        cell[done] = torn_byte(fl, cell[done], want[done]);

    rc = dev_write(fl, off, cell, cut ? done + 1 : n);
    fl->bytes_programmed += done;
    if (cut) {
        fl->off = true;
        rc = -EIO;
    }
    if (rc == 0)
        run_hook(fl);
out:
    free(cell);
    return rc;
}

int flash_erase(struct flash *fl, unsigned block)
{
    if (!fl)
        return -EINVAL;
    if (fl->off)
        return -EIO;
    if (block >= fl->nblocks)
        return -EINVAL;
    int rc = write_gate(fl, &fl->fail_erases);
    if (rc < 0)
        return rc;

    size_t off = (size_t)block * FLASH_BLOCK_SIZE;
    unsigned char data[FLASH_BLOCK_SIZE];
    bool cut = fl->cut_erases == 0;
    if (fl->unstable)   /* an erase, even a cut one, starts the block afresh */
        memset(fl->unstable + off, 0, FLASH_BLOCK_SIZE);
    if (cut) {
        /* Erasing drives bits towards 1: a prefix made it, the rest is part-way. */
        int rc = dev_read(fl, off, data, sizeof(data));
        if (rc < 0)
            return rc;
        size_t split = (size_t)(rng_next(fl) % FLASH_BLOCK_SIZE);
        for (size_t i = split; i < sizeof(data); i++) {
            if (fl->torn == FLASH_TORN_UNSTABLE)
                make_unstable(fl, off + i, (unsigned char)~data[i]);
            else
                data[i] = (unsigned char)(data[i] | rng_next(fl));
        }
        memset(data, 0xFF, split);
    } else {
        if (fl->cut_erases > 0)
            fl->cut_erases--;
        memset(data, 0xFF, sizeof(data));
    }
    rc = dev_write(fl, off, data, sizeof(data));
    if (rc == 0)
        rc = count_bump(fl, block);
    fl->erases++;
    if (cut) {
        fl->off = true;
        return -EIO;
    }
    if (rc == 0)
        run_hook(fl);
    return rc;
}

int flash_sync(struct flash *fl)
{
    if (!fl)
        return -EINVAL;
    if (fl->off)
        return -EIO;
    if (fl->fd >= 0) {
        /* One fsync covers the data and the trailer's counts: same file. */
        if (fsync(fl->fd) < 0)
            return -errno;
    }
    fl->syncs++;
    return 0;
}

unsigned long long flash_syncs(const struct flash *fl) { return fl ? fl->syncs : 0; }

uint32_t flash_erase_count(const struct flash *fl, unsigned block)
{
    uint32_t c = 0;
    if (fl && block < fl->nblocks && count_get(fl, block, &c) < 0)
        c = 0;
    return c;
}

unsigned long flash_violations(const struct flash *fl)
{
    return fl ? fl->violations : 0;
}

/* ---- locking ---- */

static int lock_op(struct flash *fl, int op)
{
    if (!fl)
        return -EINVAL;
    if (fl->fd < 0)
        return 0;
    while (flock(fl->fd, op) < 0) {
        if (errno != EINTR)
            return -errno;
    }
    return 0;
}

int flash_lock(struct flash *fl)
{
    return lock_op(fl, LOCK_EX);
}

int flash_lock_shared(struct flash *fl)
{
    return lock_op(fl, LOCK_SH);
}

void flash_unlock(struct flash *fl)
{
    (void)lock_op(fl, LOCK_UN);
}

/* ---- test hooks ---- */

int flash_snapshot(struct flash *fl, unsigned char *buf, size_t n)
{
    if (!fl || !buf || n != fl->size)
        return -EINVAL;
    return dev_read(fl, 0, buf, n);
}

int flash_restore(struct flash *fl, const unsigned char *buf, size_t n)
{
    if (!fl || !buf || n != fl->size)
        return -EINVAL;
    if (fl->readonly)
        return -EROFS;
    free(fl->unstable);     /* a restored image is stable */
    fl->unstable = NULL;
    return dev_write(fl, 0, buf, n);
}

void flash_set_hook(struct flash *fl, flash_hook_fn fn, void *arg)
{
    if (!fl)
        return;
    fl->hook = fn;
    fl->hook_arg = arg;
}

void flash_fault_arm(struct flash *fl, long long bytes, long long erases, enum flash_torn how,
                     uint64_t seed)
{
    if (!fl)
        return;
    fl->cut_bytes = bytes < 0 ? -1 : bytes;
    fl->cut_erases = erases < 0 ? -1 : erases;
    fl->torn = how;
    fl->rng = seed;
}

void flash_fault_disarm(struct flash *fl)
{
    if (fl)
        fl->cut_bytes = fl->cut_erases = -1;
}

void flash_power_cycle(struct flash *fl)
{
    if (!fl)
        return;
    fl->off = false;
    fl->cut_bytes = fl->cut_erases = -1;
    fl->fail_progs = fl->fail_erases = -1;
}

bool flash_powered_off(const struct flash *fl)
{
    return fl && fl->off;
}

unsigned long long flash_bytes_programmed(const struct flash *fl)
{
    return fl ? fl->bytes_programmed : 0;
}

unsigned long long flash_erases(const struct flash *fl)
{
    return fl ? fl->erases : 0;
}

void flash_error_arm(struct flash *fl, long long progs, long long erases, int err)
{
    if (!fl)
        return;
    fl->fail_progs = progs < 0 ? -1 : progs;
    fl->fail_erases = erases < 0 ? -1 : erases;
    fl->fail_err = err < 0 ? err : -EIO;
}

unsigned long long flash_reads(const struct flash *fl)
{
    return fl ? fl->reads : 0;
}

/* File systems may stamp mtime with a coarse clock (a jiffy, or worse): a
 * second write in the same tick leaves the stamp as it was. A stamp taken when
 * the file had been quiet for this long cannot be followed by an unseen write. */
#define FLASH_STAMP_QUIET_NS 2000000000LL

int flash_stamp(struct flash *fl, struct flash_stamp *out, bool *settled)
{
    if (!fl || !out || !settled)
        return -EINVAL;
    memset(out, 0, sizeof *out);
    if (fl->fd < 0) {
        out->writes = fl->mem_writes;
        *settled = true;
        return 0;
    }
    struct stat sb;
    struct timespec now;
    if (fstat(fl->fd, &sb) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
        return -errno;
    out->dev = (unsigned long long)sb.st_dev;
    out->ino = (unsigned long long)sb.st_ino;
    out->size = (unsigned long long)sb.st_size;
    out->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    out->ctime_ns = (long long)sb.st_ctim.tv_sec * 1000000000LL + sb.st_ctim.tv_nsec;
    long long now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    long long last = out->mtime_ns > out->ctime_ns ? out->mtime_ns : out->ctime_ns;
    *settled = now_ns - last > FLASH_STAMP_QUIET_NS;
    return 0;
}

bool flash_stamp_equal(const struct flash_stamp *a, const struct flash_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns && a->writes == b->writes;
}

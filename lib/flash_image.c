/* flash_image: the image file's layout (data area, then the trailer) and its
 * geometry, including what can be known of a damaged file (flash_image.h). */
#include "flash_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

unsigned long long flash_image_size(unsigned nblocks)
{
    return (unsigned long long)nblocks * (FLASH_BLOCK_SIZE + 4u) + FLASH_TRAILER_FIXED;
}

static off_t counts_offset(unsigned nblocks)
{
    return (off_t)nblocks * FLASH_BLOCK_SIZE + FLASH_TRAILER_FIXED;
}

int flash_image_read(int fd, void *buf, size_t n, off_t off, bool zero_fill)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pread(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0) {
            if (!zero_fill)
                return -EIO;    /* the image is shorter than its geometry says */
            memset(p, 0, n);
            return 0;
        }
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int flash_image_write(int fd, const void *buf, size_t n, off_t off)
{
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = pwrite(fd, p, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        p += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

/* ---- creating ---- */

static int fsync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return -ENAMETOOLONG;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    int rc = fsync(dfd) < 0 ? -errno : 0;
    close(dfd);
    return rc;
}

static void trailer_fixed(unsigned char *t, unsigned nblocks)
{
    memset(t, 0, FLASH_TRAILER_FIXED);
    memcpy(t, FLASH_TRAILER_MAGIC, sizeof FLASH_TRAILER_MAGIC - 1);   /* a tag, no NUL */
    put_le32(t + 8, FLASH_TRAILER_VERSION);
    put_le32(t + 12, FLASH_BLOCK_SIZE);
    put_le32(t + 16, nblocks);
}

/* Every block erased, the trailer with erase counts 0, made durable. */
static int write_blank(int fd, unsigned nblocks)
{
    int rc = 0;
    unsigned char block[FLASH_BLOCK_SIZE];
    memset(block, 0xFF, sizeof(block));
    for (unsigned b = 0; b < nblocks && rc == 0; b++)
        rc = flash_image_write(fd, block, sizeof(block), (off_t)b * FLASH_BLOCK_SIZE);

    size_t tlen = FLASH_TRAILER_FIXED + 4u * (size_t)nblocks;
    unsigned char *t = calloc(1, tlen);     /* erase counts start at 0 */
    if (!t)
        rc = rc ? rc : -ENOMEM;
    if (rc == 0) {
        trailer_fixed(t, nblocks);
        rc = flash_image_write(fd, t, tlen, (off_t)nblocks * FLASH_BLOCK_SIZE);
    }
    free(t);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    return rc;
}

int flash_image_create(const char *path, unsigned nblocks)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.new.XXXXXX", path) >= (int)sizeof(tmp))
        return -ENAMETOOLONG;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -errno;
    int rc = write_blank(fd, nblocks);
    close(fd);

    if (rc == 0 && link(tmp, path) < 0 && errno != EEXIST) {
        /* File systems without hard links: a rename that never replaces. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0 && errno != EEXIST)
            rc = -errno;
    }
    unlink(tmp);
    if (rc == 0)
        rc = fsync_parent_dir(path);
    return rc;
}

int flash_image_format_empty(int fd, unsigned nblocks)
{
    /* Under the commit lock, so that of two programs starting on one empty
     * file only the first formats it, and nobody reads it half written. */
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR)
            return -errno;
    struct stat sb;
    int rc = fstat(fd, &sb) < 0 ? -errno : 0;
    if (rc == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
        rc = write_blank(fd, nblocks);
        if (rc < 0 && ftruncate(fd, 0) == 0)   /* a full disk: empty again, never half an image */
            (void)fsync(fd);
    }
    flock(fd, LOCK_UN);
    return rc;
}

/* ---- geometry ---- */

/* How many of the trailer's four fields are wrong for `nblocks`; *first names
 * the first wrong one. */
static int trailer_wrong(const unsigned char *h, unsigned nblocks, const char **first)
{
    static const char *const names[] = {"magic", "version", "block size", "block count"};
    bool wrong[4] = {
        memcmp(h, FLASH_TRAILER_MAGIC, 8) != 0,
        get_le32(h + 8) != FLASH_TRAILER_VERSION,
        get_le32(h + 12) != FLASH_BLOCK_SIZE,
        get_le32(h + 16) != nblocks,
    };
    int n = 0;
    *first = NULL;
    for (int i = 3; i >= 0; i--) {
        if (wrong[i]) {
            n++;
            *first = names[i];
        }
    }
    return n;
}

/* The start of both geometry functions: g cleared, the file's size, and the
 * bytes before the trailer's fixed part. -EMEDIUMTYPE for what cannot be an image. */
static int geometry_start(int fd, struct flash_geometry *g, unsigned long long *size,
                          unsigned long long *body)
{
    memset(g, 0, sizeof *g);
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -errno;
    if (!S_ISREG(sb.st_mode) || sb.st_size < (off_t)(FLASH_TRAILER_FIXED + FLASH_BLOCK_SIZE))
        return -EMEDIUMTYPE;
    *size = (unsigned long long)sb.st_size;
    *body = *size - FLASH_TRAILER_FIXED;
    return 0;
}

/* The trailer's fixed part as it would be for nblocks; -EMEDIUMTYPE when the
 * file does not reach that far. */
static int trailer_at(int fd, unsigned long long size, unsigned nblocks, unsigned char *h)
{
    off_t at = (off_t)nblocks * FLASH_BLOCK_SIZE;
    if ((unsigned long long)at + FLASH_TRAILER_FIXED > size)
        return -EMEDIUMTYPE;
    return flash_image_read(fd, h, FLASH_TRAILER_FIXED, at, false);
}

int flash_image_probe(int fd, struct flash_geometry *g)
{
    unsigned long long size = 0, body = 0;
    int rc = geometry_start(fd, g, &size, &body);
    if (rc < 0)
        return rc;
    unsigned char h[FLASH_TRAILER_FIXED];
    const char *bad;

    /* The size gives the geometry: the trailer must agree, or nearly. */
    unsigned long long exact = body / (FLASH_BLOCK_SIZE + 4u);
    bool sized = body % (FLASH_BLOCK_SIZE + 4u) == 0 && exact >= 1 && exact <= FLASH_MAX_BLOCKS;
    if (sized) {
        rc = trailer_at(fd, size, (unsigned)exact, h);
        if (rc < 0 && rc != -EMEDIUMTYPE)
            return rc;
        int wrong = rc == 0 ? trailer_wrong(h, (unsigned)exact, &bad) : 4;
        if (wrong <= 1) {
            g->nblocks = (unsigned)exact;
            g->state = wrong ? FLASH_IMAGE_TRAILER : FLASH_IMAGE_INTACT;
            g->bad_field = wrong ? bad : NULL;
            /* A version or block size not ours may be a newer format, not a
             * flipped bit: read it, never rewrite it as ours. */
            if (wrong && (strcmp(bad, "version") == 0 || strcmp(bad, "block size") == 0)) {
                g->state = FLASH_IMAGE_FOREIGN;
                g->bad_value = get_le32(h + (strcmp(bad, "version") == 0 ? 8 : 12));
            }
            return 0;
        }
    }

    /* The size does not: a trailer that is whole in itself and names its own
     * block count at its own place still gives it. A file cut short within
     * the erase counts, or grown by less than a block, keeps it where these
     * few candidates look. */
    unsigned long long lo = exact > 1 ? exact - 1 : 1;
    unsigned long long hi = body / FLASH_BLOCK_SIZE;
    if (hi > FLASH_MAX_BLOCKS)
        hi = FLASH_MAX_BLOCKS;
    for (unsigned long long nb = lo; nb <= hi; nb++) {
        if (sized && nb == exact)
            continue;
        rc = trailer_at(fd, size, (unsigned)nb, h);
        if (rc == -EMEDIUMTYPE)
            continue;
        if (rc < 0)
            return rc;
        if (trailer_wrong(h, (unsigned)nb, &bad) == 0) {
            g->nblocks = (unsigned)nb;
            g->delta = (long long)size - (long long)flash_image_size((unsigned)nb);
            g->state = g->delta < 0 ? FLASH_IMAGE_SHORT : FLASH_IMAGE_LONG;
            return 0;
        }
    }
    return -EMEDIUMTYPE;
}

int flash_image_guess(int fd, unsigned nblocks, struct flash_geometry *g)
{
    unsigned long long size = 0, body = 0;
    int rc = geometry_start(fd, g, &size, &body);
    if (rc < 0)
        return rc;
    /* The smallest even geometry the file fits in: right for a file cut short
     * by less than a block (and for one whose trailer alone is wrecked). */
    unsigned long long nb = (body + FLASH_BLOCK_SIZE + 3u) / (FLASH_BLOCK_SIZE + 4u);
    nb += nb % 2;
    if (nblocks)
        nb = nblocks;   /* the caller tries one near it */
    if (nb < 2 || nb % 2 != 0 || nb > FLASH_MAX_BLOCKS ||
        size < nb / 2 * FLASH_BLOCK_SIZE + FLASH_BLOCK_SIZE)   /* bank 1's first block */
        return -EMEDIUMTYPE;
    g->nblocks = (unsigned)nb;
    g->state = FLASH_IMAGE_GUESSED;
    g->delta = (long long)size - (long long)flash_image_size((unsigned)nb);
    return 0;
}

bool flash_image_writable(enum flash_image_state state)
{
    return state != FLASH_IMAGE_GUESSED && state != FLASH_IMAGE_FOREIGN;
}

int flash_image_repair(int fd, const struct flash_geometry *g)
{
    if (g->state == FLASH_IMAGE_INTACT || !flash_image_writable(g->state) || g->nblocks == 0)
        return -EINVAL;
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return -errno;
    unsigned nb = g->nblocks;
    unsigned long long size = (unsigned long long)sb.st_size;
    unsigned long long at = (unsigned long long)counts_offset(nb);
    unsigned have = 0;      /* whole erase counts the file still holds */
    if (size > at)
        have = (size - at) / 4 < nb ? (unsigned)((size - at) / 4) : nb;

    unsigned char *raw = calloc(nb, 4);
    int rc = raw ? 0 : -ENOMEM;
    if (rc == 0 && have)
        rc = flash_image_read(fd, raw, (size_t)have * 4, (off_t)at, false);
    uint32_t top = 0;
    for (size_t i = 0; rc == 0 && i < have; i++) {
        uint32_t c = get_le32(raw + 4 * i);
        top = c > top ? c : top;
    }
    for (size_t i = have; rc == 0 && i < nb; i++)
        put_le32(raw + 4 * i, top);
    /* A shorter file grows only with the counts written past its end, never
     * by ftruncate: a cut (or ENOSPC) midway leaves it short still, its
     * trailer intact, the counts written so far right (the probe says SHORT
     * again), never full-sized with lost counts reading 0. Only a longer
     * file is cut to size. */
    if (rc == 0 && have < nb)
        rc = flash_image_write(fd, raw + 4 * (size_t)have, 4 * (size_t)(nb - have),
                               (off_t)(at + 4ull * have));
    if (rc == 0 && size > flash_image_size(nb) && ftruncate(fd, (off_t)flash_image_size(nb)) < 0)
        rc = -errno;
    unsigned char t[FLASH_TRAILER_FIXED];
    trailer_fixed(t, nb);
    if (rc == 0)
        rc = flash_image_write(fd, t, sizeof t, (off_t)nb * FLASH_BLOCK_SIZE);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    free(raw);
    return rc;
}

void flash_image_describe(const struct flash_geometry *g, char *buf, size_t n)
{
    if (!buf || n == 0)
        return;
    long long d = g->delta;
    switch (g->state) {
    case FLASH_IMAGE_SHORT: {
        long long lost = (-d + 3) / 4;  /* erase counts not whole any more */
        snprintf(buf, n, "the image file is %lld byte%s shorter than its trailer's geometry "
                         "(%u blocks) says; the erase counts of %lld block%s are lost",
                 -d, d == -1 ? "" : "s", g->nblocks, lost, lost == 1 ? "" : "s");
        break;
    }
    case FLASH_IMAGE_LONG:
        snprintf(buf, n, "the image file is %lld byte%s longer than its trailer's geometry "
                         "(%u blocks) says", d, d == 1 ? "" : "s", g->nblocks);
        break;
    case FLASH_IMAGE_TRAILER:
        snprintf(buf, n, "the image's trailer has a damaged %s; the file's size gives its "
                         "geometry (%u blocks)", g->bad_field ? g->bad_field : "field", g->nblocks);
        break;
    case FLASH_IMAGE_FOREIGN:
        snprintf(buf, n, "the image's trailer has a %s this program does not know (%u, not %u); "
                         "the file's size gives its geometry (%u blocks)",
                 g->bad_field ? g->bad_field : "field", (unsigned)g->bad_value,
                 g->bad_field && strcmp(g->bad_field, "version") == 0 ? FLASH_TRAILER_VERSION
                                                                       : FLASH_BLOCK_SIZE,
                 g->nblocks);
        break;
    case FLASH_IMAGE_GUESSED:
        snprintf(buf, n, "the image file's size (%lld bytes) and its trailer do not agree on a "
                         "geometry; it was read as %u blocks",
                 (long long)flash_image_size(g->nblocks) + d, g->nblocks);
        break;
    default:
        buf[0] = '\0';
    }
}

int flash_image_count_get(int fd, unsigned nblocks, unsigned block, uint32_t *out)
{
    unsigned char b[4];
    int rc = flash_image_read(fd, b, 4, counts_offset(nblocks) + 4 * (off_t)block, false);
    if (rc == 0)
        *out = get_le32(b);
    return rc;
}

int flash_image_count_bump(int fd, unsigned nblocks, unsigned block)
{
    uint32_t c;
    int rc = flash_image_count_get(fd, nblocks, block, &c);
    if (rc < 0)
        return rc;
    unsigned char b[4];
    put_le32(b, c + 1);
    return flash_image_write(fd, b, 4, counts_offset(nblocks) + 4 * (off_t)block);
}

/* store: the configuration in two CRC'd banks on emulated NOR flash.
 *
 * Each bank is half the image: a 28-byte header then the kv payload
 * (docs/STORE.md has the byte layout). A commit never touches the active bank:
 * it erases the other one, programs the payload, then the header, and the
 * header's magic last of all, syncing between the steps. So until the magic
 * lands, the new bank is not even a candidate, and after it lands the CRC
 * (which covers the header fields and the payload) proves every byte made it.
 * A power cut anywhere therefore leaves the old bank as the newest valid one,
 * or the new bank complete. */
#include "store.h"
#include "sipcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

struct store {
    struct flash *fl;
    bool own_flash;
    size_t bank_size;       /* bytes per bank */
    unsigned bank_blocks;   /* blocks per bank */
    uint32_t capacity;      /* largest payload */

    /* The last scan's outcome and the image's stamp before it, for
     * store_generation(); `cached` only when the image had been quiet then. */
    bool cached;
    struct flash_stamp stamp;
    uint32_t generation;
    enum store_state state;
};

#define STORE_MAGIC_READS 8  /* a finished magic reads the same every time */

/* One bank as read from flash. */
struct bank {
    bool written;           /* a finished commit (or damage) is here, see magic_state() */
    bool valid;             /* magic, version, length, CRC and payload syntax all good */
    uint32_t seq, len, crc;
    int64_t saved_at;
    unsigned char *payload; /* valid banks only */
    struct kv *kv;          /* valid banks only */
};

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

bool store_seq_newer(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

/* 0 is skipped on wrap-around so that generation 0 always means "nothing stored". */
static uint32_t seq_next(uint32_t seq)
{
    return seq + 1 == 0 ? 1 : seq + 1;
}

static uint32_t bank_crc(const unsigned char *hdr, const unsigned char *payload, uint32_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr, 24);
    c = crc32(c, payload, len);
    return (uint32_t)c;
}

/* ---- open / close ---- */

int store_open_flash(struct flash *fl, struct store **out)
{
    if (!fl || !out)
        return -EINVAL;
    unsigned nb = flash_nblocks(fl);
    if (nb < 2 || nb % 2 != 0)
        return -EINVAL;
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return -ENOMEM;
    st->fl = fl;
    st->bank_blocks = nb / 2;
    st->bank_size = (size_t)st->bank_blocks * FLASH_BLOCK_SIZE;
    st->capacity = (uint32_t)(st->bank_size - STORE_HEADER_SIZE);
    *out = st;
    return 0;
}

/* How far (in blocks, either way) from the size's guess another geometry is
 * tried: a file cut short, or grown, by up to about 32 KiB. */
#define GUESS_SPREAD 8

/* The store with a guessed geometry of nb blocks, if bank 1 validates there
 * (*ok). Bank 0 is at offset 0 whatever the guess, so only bank 1 proves it. */
static int open_guessed_as(const char *path, unsigned nb, struct store **out, bool *ok)
{
    struct flash *fl;
    *ok = false;
    int rc = flash_open_guess(path, nb, &fl);
    if (rc < 0)
        return rc == -EMEDIUMTYPE ? 0 : rc;     /* the file does not reach bank 1 */
    rc = store_open_flash(fl, out);
    if (rc < 0) {
        flash_close(fl);
        return rc == -EINVAL ? 0 : rc;
    }
    (*out)->own_flash = true;
    struct store_info info;
    rc = store_info(*out, &info);
    *ok = rc == 0 && info.valid[1];
    if (!*ok) {
        store_close(*out);
        *out = NULL;
    }
    return rc;
}

/* A file whose geometry cannot be known: the even block counts near the
 * size's guess are tried, and one is kept only if it is the only one where
 * bank 1 validates. Otherwise -EMEDIUMTYPE: reading bank 0 alone under a
 * wrong guess would silently roll back to an older generation. */
static int open_guessed(const char *path, struct store **out)
{
    struct flash *fl;
    int rc = flash_open_guess(path, 0, &fl);
    if (rc < 0)
        return rc;
    unsigned guess = flash_nblocks(fl);
    flash_close(fl);
    struct store *found = NULL;
    int n = 0;
    for (int d = -GUESS_SPREAD; d <= GUESS_SPREAD && rc == 0; d += 2) {
        if ((long)guess + d < 2 || (long)guess + d > (long)FLASH_MAX_BLOCKS)
            continue;
        struct store *st = NULL;
        bool ok;
        rc = open_guessed_as(path, (unsigned)((long)guess + d), &st, &ok);
        if (rc == 0 && ok && n++ == 0)
            found = st;
        else
            store_close(st);
    }
    if (rc < 0 || n != 1) {
        store_close(found);
        return rc < 0 ? rc : -EMEDIUMTYPE;  /* a file that is not an image is never written */
    }
    *out = found;
    return 0;
}

const char *store_open_strerror(int err, int flags)
{
    if (err == -ENOENT && (flags & STORE_CREATE))
        return "its directory does not exist";
    return sipcfg_strerror(err);
}

int store_open(const char *path, int flags, struct store **out)
{
    if (!path || !out || (flags & ~STORE_CREATE))
        return -EINVAL;
    struct flash *fl;
    int rc = flash_open(path, flags & STORE_CREATE, FLASH_DEFAULT_BLOCKS, &fl);
    if (rc == -EMEDIUMTYPE)
        return open_guessed(path, out);     /* read-only, if bank 1 proves a geometry */
    if (rc < 0)
        return rc;
    rc = store_open_flash(fl, out);
    if (rc < 0) {
        flash_close(fl);
        return rc;
    }
    (*out)->own_flash = true;
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    if (st->own_flash)
        flash_close(st->fl);
    free(st);
}

struct flash *store_flash(struct store *st)
{
    return st ? st->fl : NULL;
}

/* ---- reading banks ---- */

/* Is there evidence that this bank ever held a finished commit?
 *
 * The magic is programmed last, after everything else is durable, so a bank
 * whose magic is "SCFG" finished a commit, and if it does not validate now it
 * was damaged afterwards. An interrupted commit leaves the magic erased (0xFF),
 * partly programmed towards "SCFG" (only 1->0 bits that "SCFG" has as 0), or
 * partly erased (only 0->1 bits): none of those clears a bit that "SCFG" has as
 * 1, except the single byte a cut may leave as garbage (each commit erases the
 * block first, so an older garbage byte never survives into a later cut).
 * Two or more bytes lacking bits of "SCFG" (an all-zero bank, random junk) is
 * therefore damage, not an unfinished commit. */
static bool magic_written(const unsigned char *m)
{
    static const unsigned char want[4] = {'S', 'C', 'F', 'G'};
    if (memcmp(m, want, 4) == 0)
        return true;
    int missing = 0;
    for (int i = 0; i < 4; i++)
        missing += (m[i] & want[i]) != want[i];
    return missing >= 2;
}

static void bank_free(struct bank *bk)
{
    free(bk->payload);
    kv_free(bk->kv);
    memset(bk, 0, sizeof(*bk));
}

/* Reads and validates bank b. Returns 0 (bk->valid tells) or a flash error / -ENOMEM. */
static int bank_read(struct store *st, int b, struct bank *bk)
{
    memset(bk, 0, sizeof(*bk));
    size_t base = (size_t)b * st->bank_size;
    unsigned char h[STORE_HEADER_SIZE];
    int rc = flash_read(st->fl, base, h, sizeof(h));
    if (rc < 0)
        return rc;
    bk->written = magic_written(h);
    bk->seq = get_le32(h + 8);
    bk->len = get_le32(h + 12);
    bk->saved_at = (int64_t)get_le64(h + 16);
    bk->crc = get_le32(h + 24);
    /* Checked before anything is read, so a wild length reads nothing. */
    if (memcmp(h, STORE_MAGIC, 4) != 0 || get_le32(h + 4) != STORE_VERSION || bk->len == 0 || bk->len > st->capacity)
        return 0;

    /* A cut inside the magic's last byte can leave its bits unstable (UBIFS):
     * each read shows a random subset of them programmed, now and then all of
     * them. Such a bank is not finished, and a read-only reader cannot repair
     * it, so it must read "SCFG" every time: with STORE_MAGIC_READS reads the
     * chance that two loads disagree is about 2 * 16^-8 (docs/STORE.md 6). */
    for (int i = 1; i < STORE_MAGIC_READS; i++) {
        unsigned char m[4];
        rc = flash_read(st->fl, base, m, sizeof(m));
        if (rc < 0)
            return rc;
        if (memcmp(m, STORE_MAGIC, 4) != 0) {
            bk->written = false;    /* an interrupted commit, not damage */
            return 0;
        }
    }

    unsigned char *p = malloc(bk->len);
    if (!p)
        return -ENOMEM;
    rc = flash_read(st->fl, base + STORE_HEADER_SIZE, p, bk->len);
    if (rc < 0 || bank_crc(h, p, bk->len) != bk->crc) {
        free(p);
        return rc;
    }
    struct kv *kv;
    rc = kv_parse(p, bk->len, &kv);
    if (rc < 0) {
        free(p);
        return rc == -EBADMSG ? 0 : rc;     /* a CRC-correct but malformed payload is not valid */
    }
    bk->payload = p;
    bk->kv = kv;
    bk->valid = true;
    return 0;
}

/* Both banks, the active one (-1: none) and the resulting state. */
struct scan {
    struct bank bk[2];
    int active;
    enum store_state state;
};

static void scan_free(struct scan *s)
{
    bank_free(&s->bk[0]);
    bank_free(&s->bk[1]);
}

static int scan_banks(struct store *st, struct scan *s)
{
    memset(s, 0, sizeof(*s));
    int rc = bank_read(st, 0, &s->bk[0]);
    if (rc == 0)
        rc = bank_read(st, 1, &s->bk[1]);
    if (rc < 0) {
        scan_free(s);
        return rc;
    }
    bool v0 = s->bk[0].valid, v1 = s->bk[1].valid;
    if (v0 && v1)   /* equal (or unordered) sequence numbers: bank 0, so the choice is stable */
        s->active = store_seq_newer(s->bk[1].seq, s->bk[0].seq) ? 1 : 0;
    else
        s->active = v0 ? 0 : v1 ? 1 : -1;

    /* No commit ever finished: a blank (or never provisioned) image, whatever an
     * interrupted first commit left. A finished bank that does not validate: corrupt. */
    if (s->active >= 0)
        s->state = STORE_OK;
    else if (!s->bk[0].written && !s->bk[1].written)
        s->state = STORE_EMPTY;
    else
        s->state = STORE_CORRUPT;
    return 0;
}

static void fill_info(struct store *st, const struct scan *s, struct store_info *info)
{
    if (!info)
        return;
    memset(info, 0, sizeof(*info));
    info->state = s->state;
    info->active_bank = s->active;
    for (int b = 0; b < 2; b++) {
        info->valid[b] = s->bk[b].valid;
        info->seq[b] = s->bk[b].seq;
        info->crc[b] = s->bk[b].crc;
        info->length[b] = s->bk[b].len;
        info->erase_count[b] = flash_erase_count(st->fl, (unsigned)b * st->bank_blocks);
    }
    if (s->active >= 0) {
        info->generation = s->bk[s->active].seq;
        info->saved_at = s->bk[s->active].saved_at;
    }
    info->capacity = st->capacity;
    info->image_state = flash_damage(st->fl, info->image_damage, sizeof info->image_damage);
    info->damaged_bank = -1;
    for (int b = 0; b < 2; b++) {
        if (s->bk[b].valid || !s->bk[b].written)
            continue;
        info->damaged_bank = b;
        info->rolled_back = s->active >= 0 && s->active != b &&
                            store_seq_newer(s->bk[b].seq, s->bk[s->active].seq);
    }
}

/* A shared lock keeps a reader from parsing a bank mid-commit; the format would
 * survive it anyway (magic last, CRC), so a reader that cannot lock is still safe. */
static int scan_locked(struct store *st, struct scan *s)
{
    int rc = flash_lock_shared(st->fl);
    if (rc == 0)
        rc = flash_recheck(st->fl);     /* a damaged image may have been put right */
    if (rc < 0) {
        flash_unlock(st->fl);
        return rc;
    }
    /* Stamped before reading: a write during the scan changes the stamp. */
    struct flash_stamp stamp;
    bool settled = false;
    bool stamped = flash_stamp(st->fl, &stamp, &settled) == 0;
    rc = scan_banks(st, s);
    flash_unlock(st->fl);
    st->cached = rc == 0 && stamped && settled;
    if (st->cached) {
        st->stamp = stamp;
        st->state = s->state;
        st->generation = s->active >= 0 ? s->bk[s->active].seq : 0;
    }
    return rc;
}

int store_load(struct store *st, struct kv **out, struct store_info *info)
{
    if (!st || !out)
        return -EINVAL;
    *out = NULL;
    struct scan s;
    int rc = scan_locked(st, &s);
    if (rc < 0)
        return rc;
    fill_info(st, &s, info);
    if (s.state == STORE_OK) {
        *out = s.bk[s.active].kv;
        s.bk[s.active].kv = NULL;
    } else if (s.state == STORE_EMPTY) {
        *out = kv_new();
        rc = *out ? 0 : -ENOMEM;
    } else {
        rc = -EBADMSG;
    }
    scan_free(&s);
    return rc;
}

int store_info(struct store *st, struct store_info *info)
{
    if (!st || !info)
        return -EINVAL;
    struct scan s;
    int rc = scan_locked(st, &s);
    if (rc < 0)
        return rc;
    fill_info(st, &s, info);
    scan_free(&s);
    return 0;
}

/* ---- committing ---- */

/* Erase, payload, header fields, magic: each step durable before the next,
 * so neither the flash nor the file system can make the magic appear early. */
static int bank_write(struct store *st, int b, const unsigned char *img, size_t total)
{
    struct flash *fl = st->fl;
    size_t base = (size_t)b * st->bank_size;
    unsigned first = (unsigned)b * st->bank_blocks;
    unsigned nblk = (unsigned)((total + FLASH_BLOCK_SIZE - 1) / FLASH_BLOCK_SIZE);
    int rc = 0;

    /* Only the blocks the new bank occupies: what lies beyond its length is never read. */
    for (unsigned i = 0; i < nblk && rc == 0; i++)
        rc = flash_erase(fl, first + i);
    if (rc == 0)
        rc = flash_sync(fl);
    if (rc == 0)
        rc = flash_prog(fl, base + STORE_HEADER_SIZE, img + STORE_HEADER_SIZE,
                        total - STORE_HEADER_SIZE);
    if (rc == 0)
        rc = flash_sync(fl);
    if (rc == 0)
        rc = flash_prog(fl, base + 4, img + 4, STORE_HEADER_SIZE - 4);
    if (rc == 0)
        rc = flash_sync(fl);
    if (rc == 0)
        rc = flash_prog(fl, base, img, 4);
    if (rc == 0)
        rc = flash_sync(fl);
    return rc;
}

int store_commit(struct store *st, const struct kv *kv, const uint32_t *expect_generation,
                 struct store_info *info)
{
    if (!st || !kv)
        return -EINVAL;
    unsigned char *payload;
    size_t len;
    int rc = kv_serialize(kv, &payload, &len);
    if (rc < 0)
        return rc;
    if (len > st->capacity) {
        free(payload);
        return -EFBIG; /* -ENOSPC stays the file system's: a full disk is another story */
    }

    /* The lock spans the re-read and the write, so a commit from another
     * process in between is either seen (-ESTALE / newer seq) or waits. */
    rc = flash_lock(st->fl);
    if (rc < 0) {
        free(payload);
        return rc;
    }
    struct scan s;
    unsigned char *img = NULL;
    /* A damaged image file is put right even when the payload turns out
     * unchanged (it touches no bank); a guessed geometry: -EUCLEAN. */
    rc = flash_repair(st->fl);
    if (rc == 0)
        rc = scan_banks(st, &s);
    if (rc < 0)
        goto unlock;

    const struct bank *act = s.active >= 0 ? &s.bk[s.active] : NULL;
    uint32_t gen = act ? act->seq : 0;
    if (expect_generation && *expect_generation != gen) {
        fill_info(st, &s, info);
        rc = -ESTALE;
        goto done;
    }
    if (act && act->len == len && memcmp(act->payload, payload, len) == 0) {
        fill_info(st, &s, info);    /* unchanged: no erase, no write */
        rc = 1;
        goto done;
    }

    int target = act ? 1 - s.active : 0;
    uint32_t seq = act ? seq_next(gen) : 1;
    size_t total = STORE_HEADER_SIZE + len;
    img = malloc(total);
    if (!img) {
        rc = -ENOMEM;
        goto done;
    }
    memcpy(img, STORE_MAGIC, 4);
    put_le32(img + 4, STORE_VERSION);
    put_le32(img + 8, seq);
    put_le32(img + 12, (uint32_t)len);
    put_le64(img + 16, (uint64_t)(int64_t)time(NULL));
    memcpy(img + STORE_HEADER_SIZE, payload, len);
    put_le32(img + 24, bank_crc(img, payload, (uint32_t)len));

    rc = bank_write(st, target, img, total);
    if (rc < 0)
        goto done;

    /* Read back: success only for a bank that validates and holds these bytes. */
    scan_free(&s);
    rc = scan_banks(st, &s);
    if (rc < 0)
        goto unlock;
    const struct bank *nb = &s.bk[target];
    if (!nb->valid || nb->seq != seq || nb->len != len || memcmp(nb->payload, payload, len) != 0)
        rc = -EIO;
    else
        fill_info(st, &s, info);
done:
    scan_free(&s);
unlock:
    flash_unlock(st->fl);
    free(img);
    free(payload);
    return rc;
}

void store_damage_text(const struct store_info *in, char *buf, size_t n)
{
    if (!buf || n == 0)
        return;
    buf[0] = '\0';
    if (!in || in->image_state == FLASH_IMAGE_INTACT)
        return;
    char banks[120];
    int a = in->active_bank;
    if (a < 0 || a > 1)
        snprintf(banks, sizeof banks, "neither bank holds a valid configuration");
    else if (in->valid[1 - a])
        snprintf(banks, sizeof banks, "both banks are intact; bank %d (generation %u, the newer) "
                                      "was used", a, (unsigned)in->generation);
    else
        snprintf(banks, sizeof banks, "bank %d (generation %u) is intact and was used", a,
                 (unsigned)in->generation);
    snprintf(buf, n, "%s; %s; %s", in->image_damage, banks,
             !flash_image_writable(in->image_state)
                 ? "the image cannot be written safely (read-only): export the configuration "
                   "and import it into a new image"
                 : "the next saved change repairs the image");
}

int store_generation(struct store *st, uint32_t *generation, enum store_state *state)
{
    if (!st || !generation)
        return -EINVAL;
    struct flash_stamp now;
    bool settled;
    if (!st->cached || flash_stamp(st->fl, &now, &settled) != 0 ||
        !flash_stamp_equal(&now, &st->stamp)) {
        struct store_info info;
        int rc = store_info(st, &info);
        if (rc < 0)
            return rc;
        *generation = info.generation;
        if (state)
            *state = info.state;
        return 0;
    }
    *generation = st->generation;
    if (state)
        *state = st->state;
    return 0;
}

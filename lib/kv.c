/* kv: a sorted set of key=value strings and its flash payload form.
 *
 * Entries live in one array kept sorted by key (binary search), each entry one
 * allocation holding "key\0value\0". The payload form is U-Boot's environment
 * layout: "key=value\0" per entry in key order, then one more "\0". */
#include "kv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct kv_entry {
    char *key;      /* start of the entry's block */
    char *value;    /* points into the same block, after the key's NUL */
};

struct kv {
    struct kv_entry *e;
    size_t n, cap;
};

struct kv *kv_new(void)
{
    return calloc(1, sizeof(struct kv));
}

void kv_clear(struct kv *kv)
{
    if (!kv)
        return;
    for (size_t i = 0; i < kv->n; i++)
        free(kv->e[i].key);
    kv->n = 0;
}

void kv_free(struct kv *kv)
{
    if (!kv)
        return;
    kv_clear(kv);
    free(kv->e);
    free(kv);
}

static bool key_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static bool key_valid(const char *key, size_t len)
{
    if (len == 0 || len > KV_KEY_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!key_char((unsigned char)key[i]))
            return false;
    return true;
}

/* Control characters would let a value smuggle a record separator (or a line
 * break into `sipcfg dump`), so none is ever stored. */
static bool value_valid(const char *value, size_t len)
{
    if (len > KV_VALUE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* Index of key, or where it would be inserted; *found tells which. */
static size_t kv_find(const struct kv *kv, const char *key, bool *found)
{
    size_t lo = 0, hi = kv->n;
    /* Fast path for sorted input (parse, serialize round trips). */
    if (hi > 0 && strcmp(kv->e[hi - 1].key, key) < 0) {
        *found = false;
        return hi;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kv->e[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Stores an already validated pair. `replace` false makes a duplicate key -EEXIST. */
static int kv_put(struct kv *kv, const char *key, size_t klen, const char *value, size_t vlen,
                  bool replace)
{
    char *block = malloc(klen + 1 + vlen + 1);
    if (!block)
        return -ENOMEM;
    memcpy(block, key, klen);
    block[klen] = '\0';
    memcpy(block + klen + 1, value, vlen);
    block[klen + 1 + vlen] = '\0';

    bool found;
    size_t i = kv_find(kv, block, &found);
    if (found) {
        if (!replace) {
            free(block);
            return -EEXIST;
        }
        free(kv->e[i].key);
    } else {
        if (kv->n == kv->cap) {
            size_t cap = kv->cap ? kv->cap * 2 : 16;
            struct kv_entry *e = realloc(kv->e, cap * sizeof(*e));
            if (!e) {
                free(block);
                return -ENOMEM;
            }
            kv->e = e;
            kv->cap = cap;
        }
        memmove(&kv->e[i + 1], &kv->e[i], (kv->n - i) * sizeof(kv->e[0]));
        kv->n++;
    }
    kv->e[i].key = block;
    kv->e[i].value = block + klen + 1;
    return 0;
}

int kv_set(struct kv *kv, const char *key, const char *value)
{
    if (!kv || !key || !value)
        return -EINVAL;
    size_t klen = strnlen(key, KV_KEY_MAX + 1);
    size_t vlen = strnlen(value, KV_VALUE_MAX + 1);
    if (!key_valid(key, klen) || !value_valid(value, vlen))
        return -EINVAL;
    return kv_put(kv, key, klen, value, vlen, true);
}

int kv_del(struct kv *kv, const char *key)
{
    if (!kv || !key)
        return -ENOENT;
    bool found;
    size_t i = kv_find(kv, key, &found);
    if (!found)
        return -ENOENT;
    free(kv->e[i].key);
    memmove(&kv->e[i], &kv->e[i + 1], (kv->n - i - 1) * sizeof(kv->e[0]));
    kv->n--;
    return 0;
}

const char *kv_get(const struct kv *kv, const char *key)
{
    if (!kv || !key)
        return NULL;
    bool found;
    size_t i = kv_find(kv, key, &found);
    return found ? kv->e[i].value : NULL;
}

size_t kv_count(const struct kv *kv)
{
    return kv ? kv->n : 0;
}

const char *kv_key_at(const struct kv *kv, size_t i)
{
    return kv && i < kv->n ? kv->e[i].key : NULL;
}

const char *kv_value_at(const struct kv *kv, size_t i)
{
    return kv && i < kv->n ? kv->e[i].value : NULL;
}

bool kv_equal(const struct kv *a, const struct kv *b)
{
    if (kv_count(a) != kv_count(b))
        return false;
    for (size_t i = 0; i < kv_count(a); i++)
        if (strcmp(a->e[i].key, b->e[i].key) != 0 || strcmp(a->e[i].value, b->e[i].value) != 0)
            return false;
    return true;
}

struct kv *kv_dup(const struct kv *kv)
{
    struct kv *d = kv_new();
    if (!d || !kv)
        return d;
    for (size_t i = 0; i < kv->n; i++) {
        const char *k = kv->e[i].key, *v = kv->e[i].value;
        if (kv_put(d, k, strlen(k), v, strlen(v), true) < 0) {
            kv_free(d);
            return NULL;
        }
    }
    return d;
}

int kv_serialize(const struct kv *kv, unsigned char **buf, size_t *len)
{
    if (!buf || !len)
        return -EINVAL;
    size_t total = 1;   /* the closing empty entry */
    for (size_t i = 0; i < kv_count(kv); i++)
        total += strlen(kv->e[i].key) + 1 + strlen(kv->e[i].value) + 1;
    unsigned char *out = malloc(total);
    if (!out)
        return -ENOMEM;
    size_t p = 0;
    for (size_t i = 0; i < kv_count(kv); i++) {
        size_t kl = strlen(kv->e[i].key), vl = strlen(kv->e[i].value);
        memcpy(out + p, kv->e[i].key, kl);
        p += kl;
        out[p++] = '=';
        memcpy(out + p, kv->e[i].value, vl);
        p += vl;
        out[p++] = '\0';
    }
    out[p++] = '\0';
    *buf = out;
    *len = p;
    return 0;
}

int kv_parse(const unsigned char *buf, size_t len, struct kv **out)
{
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!buf || len == 0 || buf[len - 1] != '\0')
        return -EBADMSG;
    struct kv *kv = kv_new();
    if (!kv)
        return -ENOMEM;

    size_t p = 0;
    int rc = -EBADMSG;      /* until the closing empty entry is seen */
    while (p < len) {
        const char *entry = (const char *)buf + p;
        const unsigned char *nul = memchr(buf + p, '\0', len - p);  /* found: buf[len-1] is NUL */
        size_t elen = (size_t)(nul - (buf + p));
        if (elen == 0) {
            /* The empty entry ends the set and must be the last byte. */
            rc = p == len - 1 ? 0 : -EBADMSG;
            break;
        }
        const char *eq = memchr(entry, '=', elen);
        if (!eq)
            break;
        size_t klen = (size_t)(eq - entry), vlen = elen - klen - 1;
        if (!key_valid(entry, klen) || !value_valid(eq + 1, vlen))
            break;
        int r = kv_put(kv, entry, klen, eq + 1, vlen, false);
        if (r < 0) {
            if (r == -ENOMEM)
                rc = r;
            break;  /* -EEXIST: a duplicate key */
        }
        p += elen + 1;
    }
    if (rc < 0) {
        kv_free(kv);
        return rc;
    }
    *out = kv;
    return 0;
}

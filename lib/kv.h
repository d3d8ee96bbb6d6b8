/* kv: a sorted set of key=value strings, and its flash payload form
 * ("key=value\0key=value\0\0", as U-Boot's environment). */
#ifndef SIPCFG_KV_H
#define SIPCFG_KV_H
#include <stdbool.h>
#include <stddef.h>

#define KV_KEY_MAX 64
#define KV_VALUE_MAX 4096

struct kv;

struct kv *kv_new(void);
void kv_free(struct kv *kv);
struct kv *kv_dup(const struct kv *kv);
void kv_clear(struct kv *kv);

/* Keys: 1..KV_KEY_MAX of [a-z0-9._-]; values: up to KV_VALUE_MAX bytes, no NUL,
 * no control character. -EINVAL otherwise, -ENOMEM. Replaces an existing key. */
int kv_set(struct kv *kv, const char *key, const char *value);
int kv_del(struct kv *kv, const char *key);           /* 0, or -ENOENT */
const char *kv_get(const struct kv *kv, const char *key);  /* NULL if absent */

size_t kv_count(const struct kv *kv);
const char *kv_key_at(const struct kv *kv, size_t i);      /* sorted by key */
const char *kv_value_at(const struct kv *kv, size_t i);
bool kv_equal(const struct kv *a, const struct kv *b);

/* Payload form; *buf is malloc'ed. */
int kv_serialize(const struct kv *kv, unsigned char **buf, size_t *len);
/* Strict: every entry key=value with a valid key, ends with an empty entry,
 * no duplicate keys. -EBADMSG otherwise. */
int kv_parse(const unsigned char *buf, size_t len, struct kv **out);

#endif

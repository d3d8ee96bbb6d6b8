/* text: the small string helpers every module needs once: a bounded copy, a
 * strict decimal parser, a hex digit. No allocation, no locale. */
#ifndef SIPCFG_TEXT_H
#define SIPCFG_TEXT_H
#include <stddef.h>

/* Copies `src` (NULL = "") into dst[n], cut to n - 1 bytes; always terminated. */
void text_copy(char *dst, size_t n, const char *src);

/* s[0..len): decimal digits only (no sign, no space), 1..20 of them, value at most
 * `max`. 0 with *out set, or -EINVAL (also on overflow). */
int text_uint(const char *s, size_t len, unsigned long long max, unsigned long long *out);

/* 0..15 for [0-9a-fA-F], -1 otherwise. */
int text_hexval(char c);

#endif

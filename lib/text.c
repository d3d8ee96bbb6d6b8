/* text: see text.h */
#include "text.h"

#include <errno.h>
#include <string.h>

void text_copy(char *dst, size_t n, const char *src)
{
    if (n == 0)
        return;
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

int text_uint(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
    if (!s || len == 0 || len > 20)
        return -EINVAL;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || v > (max - d) / 10)
            return -EINVAL;            /* over `max` (and so never overflows) */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int text_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

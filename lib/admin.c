/* admin: see admin.h. */
#include "admin.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "check.h"
#include "text.h"

void admin_ha1(const char *password, uint8_t out[32])
{
    static const char prefix[] = ADMIN_USER ":" ADMIN_REALM ":";
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, sizeof prefix - 1, (const uint8_t *)prefix);
    sha256_update(&ctx, strlen(password), (const uint8_t *)password);
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

void admin_ha1_hex(const char *password, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t h[32];
    admin_ha1(password, h);
    for (size_t i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = '\0';
}

int admin_hex_to_bin(const char *hex, uint8_t out[32])
{
    if (!hex || strnlen(hex, 65) != 64)
        return -EINVAL;
    for (size_t i = 0; i < 32; i++) {
        int hi = text_hexval(hex[2 * i]), lo = text_hexval(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* Constant time in the contents: the time a wrong guess takes tells an
 * attacker nothing about how many bytes of the hash it got right. */
static bool mem_equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    volatile uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

bool admin_password_matches(const char *password, const char *stored_hex)
{
    uint8_t want[32], got[32];
    if (!password || admin_hex_to_bin(stored_hex, want) < 0)
        return false;
    admin_ha1(password, got);
    return mem_equal_ct(want, got, sizeof got);
}

/* Passwords that scanners and people try first (ASVS 2.1.7, THREATS.md C2),
 * compared without regard to case. */
static const char *const well_known[] = {
    "admin", "administrator", "password", "password1", "passw0rd", "p@ssw0rd", "12345678",
    "123456789", "1234567890", "87654321", "11111111", "00000000", "88888888", "qwertyui",
    "qwertyuiop", "qwerty123", "abcd1234", "abcdefgh", "admin123", "admin1234", "adminadmin",
    "letmein!", "iloveyou", "changeme", "sipcfg", "sipcfgadmin", "default", "welcome1",
};

int admin_password_check(const char *password, const char *field, struct diag_list *errs)
{
    size_t len = password ? strlen(password) : 0;
    if (check_secret(password ? password : "", len, ADMIN_PASSWORD_MAX, field, errs) < 0)
        return -EINVAL;
    if (len < ADMIN_PASSWORD_MIN) {
        diag_add(errs, field, "too_short", "the password is %zu bytes long, at least %d are needed",
                 len, ADMIN_PASSWORD_MIN);
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof well_known / sizeof well_known[0]; i++)
        if (strcasecmp(password, well_known[i]) == 0) {
            diag_add(errs, field, "common_password",
                     "this password is on the list of passwords attackers try first: choose "
                     "another one");
            return -EINVAL;
        }
    return 0;
}

int admin_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int admin_random_password(char *buf, size_t n)
{
    /* No 0/O, 1/l/I: it is read off a console and typed by a person. */
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    enum { LEN = 16, A = sizeof alphabet - 1, LIMIT = 256 - 256 % A };
    if (n < LEN + 1)
        return -ENOSPC;
    size_t got = 0;
    while (got < LEN) {
        unsigned char r[32];
        int rc = admin_random_bytes(r, sizeof r);
        if (rc < 0)
            return rc;
        /* Rejection sampling: no character is likelier than another. */
        for (size_t i = 0; i < sizeof r && got < LEN; i++)
            if (r[i] < LIMIT)
                buf[got++] = alphabet[r[i] % A];
    }
    buf[LEN] = '\0';
    return 0;
}

/* admin: the admin account's password, kept only as its digest hash
 * (HA1 = SHA-256("admin:sipcfg:" password), RFC 7616), computed with nettle. */
#ifndef SIPCFG_ADMIN_H
#define SIPCFG_ADMIN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "diag.h"

#define ADMIN_USER "admin"
#define ADMIN_REALM "sipcfg"
#define ADMIN_PASSWORD_MIN 8
#define ADMIN_PASSWORD_MAX 128

void admin_ha1(const char *password, uint8_t out[32]);
/* 64 lower-case hex characters + NUL. */
void admin_ha1_hex(const char *password, char out[65]);
int admin_hex_to_bin(const char *hex, uint8_t out[32]);        /* -EINVAL */
/* Constant-time comparison of the password's HA1 with the stored hex HA1. */
bool admin_password_matches(const char *password, const char *stored_hex);
/* Length 8..128, no control characters, not a well-known default. */
int admin_password_check(const char *password, const char *field, struct diag_list *errs);
/* A fresh random password from getrandom(2): 16 characters, easy to type. */
int admin_random_password(char *buf, size_t n);
/* n random bytes from getrandom(2); 0 or -errno. */
int admin_random_bytes(void *buf, size_t n);

#endif

/* config: the whole configuration (lines + admin) and its mapping to flash keys
 * (API.md section 8). */
#ifndef SIPCFG_CONFIG_H
#define SIPCFG_CONFIG_H
#include <stdbool.h>
#include "diag.h"
#include "kv.h"
#include "line.h"

#define ADMIN_HA1_HEX 64          /* SHA-256 HA1 as lower-case hex */

/* The image sipcfgd and sipcfg use without --flash: the checkout's var/
 * (the Makefile passes the absolute path), so both agree from any directory. */
#ifndef SIPCFG_DEFAULT_FLASH
#define SIPCFG_DEFAULT_FLASH "var/flash.img"
#endif

struct config {
    unsigned nlines;                        /* 1..LINE_MAX_LINES */
    struct line line[LINE_MAX_LINES];       /* line[0] is line 1 */
    char admin_ha1[ADMIN_HA1_HEX + 1];      /* "" = no admin password yet */
};

/* nlines lines of factory defaults, no admin password. */
void config_defaults(struct config *c, unsigned nlines);

/* Writes every key of the configuration into kv (which it clears first):
 * lineN.* for each line, admin.ha1 when set. Booleans 0/1; unset servers have no keys. */
int config_to_kv(const struct config *c, struct kv *kv);

/* Reads a configuration of nlines lines from flash keys; keys it does not know
 * and lines above nlines are ignored, bad values give diagnostics under the
 * flash key name and the field's default. Returns 0, or -EINVAL when errs gained any. */
int config_from_kv(const struct kv *kv, unsigned nlines, struct config *c, struct diag_list *errs);

/* The one spelling of a flash key of a line: "lineN.KEY" or "lineN.KEY.SUB"
 * (KEY is the table row's key). 0, or -ENAMETOOLONG when it does not fit. */
int config_key(char *buf, size_t n, unsigned line, const char *key, const char *sub);
/* N of a "lineN." key (1..99, no leading zero), 0 for any other key. */
unsigned config_key_line(const char *key);

/* The number of lines an image holds: the highest lineN with a key, at least
 * LINE_DEFAULT_LINES, at most LINE_MAX_LINES. */
unsigned config_lines_in_kv(const struct kv *kv);

bool config_equal(const struct config *a, const struct config *b);

#endif

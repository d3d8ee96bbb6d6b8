/* config: the whole configuration (lines + admin) and its mapping to flash keys
 * (API.md section 8). */
#ifndef SIPCFG_CONFIG_H
#define SIPCFG_CONFIG_H
#include <stdbool.h>
#include "diag.h"
#include "kv.h"
#include "line.h"
#include "store.h"

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

/* The one way to read the configuration from the store: the newest valid bank
 * decoded into c, `nlines` lines (0 = as many as the image holds, see
 * config_lines_in_kv). Bad values take their field's default and are reported
 * in errs (may be NULL). kv_out (may be NULL) gets the raw keys, info (may be
 * NULL) the bank's generation and state. Returns 0; -EBADMSG when both banks
 * are corrupt (c then holds factory defaults); another store error. */
int config_load(struct store *st, unsigned nlines, struct config *c, struct kv **kv_out,
                struct diag_list *errs, struct store_info *info);

/* The one way to write it: encodes c and commits it while the stored
 * generation is still *expect (NULL: whatever it is). Lines the image holds
 * above c->nlines stay as they are (a daemon started with --lines 4 must not
 * erase lines 5 and 6). Returns what store_commit returns: 0 written, 1
 * unchanged, -ESTALE, -EFBIG, -ENOSPC, -EIO, -EPERM, or -ENOMEM. */
int config_commit(struct store *st, const struct config *c, const uint32_t *expect,
                  struct store_info *info);
/* config_commit for a writer of a fixed number of lines that commits again
 * and again (sipcfgd): the lines above c->nlines are read from flash once,
 * kept in *kept (NULL at first; free it with kv_free) and reused while the
 * commits succeed. That is safe because a commit with `expect` lands only
 * on the generation it expects, which is the one the kept lines were read at
 * or written to. After a failure (-ESTALE: someone else wrote) *kept is
 * dropped and read again next time; a writer that reloads after another
 * program's commit frees it and sets it to NULL. */
int config_commit_kept(struct store *st, const struct config *c, const uint32_t *expect,
                       struct kv **kept, struct store_info *info);
/* What differs between two configurations, as bits: CONFIG_DIFF_SETTINGS is a
 * change of the configuration itself (a field, a password, the admin
 * password, the number of lines); CONFIG_DIFF_RESOLVED is only fresher stored
 * DNS results (lineN.F.resolved). 0: the same, nothing to write. The API's
 * "changed" is the first, its "resolutions_updated" the second. */
enum { CONFIG_DIFF_SETTINGS = 1, CONFIG_DIFF_RESOLVED = 2 };
unsigned config_diff(const struct config *a, const struct config *b);
/* The same for one line (its fields, password and locks; its resolutions). */
unsigned config_line_diff(const struct line *a, const struct line *b);

#endif

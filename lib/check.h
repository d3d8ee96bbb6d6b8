/* check: the syntax rules of every field of a line, with field paths and messages. */
#ifndef SIPCFG_CHECK_H
#define SIPCFG_CHECK_H
#include "config.h"
#include "diag.h"
#include "line.h"

/* UTF-8 without control characters, at most max bytes. Codes: too_long,
 * control_character, invalid_utf8. */
int check_text(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs);
/* A user part as RFC 3261 allows (unreserved / escaped / user-unreserved). */
int check_user(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs);

/* Every rule of a whole line; `prefix` is "" for /lines/{n}, "lines[0]" inside a config.
 * Warnings: legal but likely wrong (backup equal to its primary, tls on 5060,
 * sips: with udp, ...). Returns 0 when `errs` gained nothing, -EINVAL otherwise. */
int check_line(const struct line *l, const char *prefix, struct diag_list *errs,
               struct diag_list *warns);
int check_config(const struct config *c, struct diag_list *errs, struct diag_list *warns);

#endif

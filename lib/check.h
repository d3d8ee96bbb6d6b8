/* check: the syntax rules of every field of a line, with field paths and messages. */
#ifndef SIPCFG_CHECK_H
#define SIPCFG_CHECK_H
#include "config.h"
#include "diag.h"
#include "line.h"

/* UTF-8 without control characters, at most max bytes. Codes: too_long,
 * control_character, invalid_utf8. */
int check_text(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs);
/* check_text for a password: the same rules, but no message quotes the value. */
int check_secret(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs);
/* A user part as RFC 3261 allows (unreserved / escaped / user-unreserved), code
 * invalid_user. Decision: ';', '?' and '$' are refused although RFC 3261 allows
 * them (write them escaped: %3B, %3F, %24), and so is an escape of a control
 * character (%0a). */
int check_user(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs);

/* The rule of one text-like field of the table (FT_TEXT, FT_USER, FT_PASSWORD,
 * FT_DOMAIN: "" or a host name / IP literal, code invalid_host) at `path`. */
int check_field_text(const struct field_desc *f, const char *s, size_t len, const char *path,
                     struct diag_list *errs);
/* An FT_UINT value within the row's min..max, else out_of_range. */
int check_uint(const struct field_desc *f, long long v, const char *path, struct diag_list *errs);
/* A lineN.F.resolved value (API.md section 8): "prio weight port transport host
 * addr[,addr]" entries separated by ';' ("" = none); code invalid_resolved. */
int check_resolved(const char *s, const char *path, struct diag_list *errs);

/* Every rule of a whole line; `prefix` is "" for /lines/{n}, "lines[0]" inside a config.
 * Warnings: legal but likely wrong. Codes: backup_same_as_primary (backup_proxy
 * == proxy; backup_registrar == registrar, or == proxy when registrar is null),
 * registrar_same_as_proxy, outbound_proxy_same_as_proxy, backup_without_primary,
 * tls_on_5060 and plain_on_5061 (at F.port), no_proxy and no_user (enabled lines).
 * Either list may be NULL. After line_from_json succeeded, this adds no errors.
 * Returns 0 when `errs` gained nothing, -EINVAL otherwise. */
int check_line(const struct line *l, const char *prefix, struct diag_list *errs,
               struct diag_list *warns);
int check_config(const struct config *c, struct diag_list *errs, struct diag_list *warns);

#endif

/* dns_verdict: what one server's check means for a write, in words a person
 * reads: the same for the API (?dns=) and `sipcfg import --dns`. */
#ifndef SIPCFG_DNS_VERDICT_H
#define SIPCFG_DNS_VERDICT_H
#include <stdbool.h>
#include <stddef.h>
#include "diag.h"
#include "dns_result.h"

/* "'x' does not exist in DNS (NXDOMAIN)", "'x' resolves", ... */
void dns_result_message(const struct dns_result *r, char *buf, size_t n);

/* The result's own warnings at `field` + their path ("proxy.host"), then a
 * status other than ok and skipped as code "dns_<status>" at `field`: into
 * errs when `required` (?dns=require), else into warns. */
void dns_result_diag(const struct dns_result *r, const char *field, bool required,
                     struct diag_list *errs, struct diag_list *warns);

#endif

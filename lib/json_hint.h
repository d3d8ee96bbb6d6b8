/* json_hint: the hint of an unknown_field error, for a key a person or a
 * script got nearly right: the real name for a near miss ("hots": did you
 * mean 'host'?), or the field a vendor's name stands for ("Outbound Proxy"
 * from a Snom manual is 'outbound_proxy'), from the field table's vendors. */
#ifndef SIPCFG_JSON_HINT_H
#define SIPCFG_JSON_HINT_H
#include <stddef.h>
#include "diag.h"
#include "line.h"

/* unknown_field at prefix.key ("'KEY' is not a field of WHAT" + the hint).
 * `names` are the members the object may have; `rows` (may be NULL) the
 * table rows whose vendor names are known. */
void json_hint_unknown(struct diag_list *errs, const char *prefix, const char *key,
                       const char *what, const char *const *names, size_t nnames,
                       const struct field_desc *rows, size_t nrows);

#endif

/* baresip: one SIP line as a baresip 1.0 `accounts` entry (docs/BARESIP.md).
 * Built on the public API (include/sipcfg.h), as any SIP core would read it. */
#ifndef SIPCFG_BARESIP_H
#define SIPCFG_BARESIP_H

#include <stddef.h>

#include "sipcfg.h"

/* baresip 1.0's account module copies each line into a 512-byte buffer. */
#define BARESIP_LINE_MAX 511

/* Called once per field baresip cannot express (or expresses differently):
 * field is a flash-style path ("line1.registrar"), msg says what happens. */
typedef void (*baresip_note_fn)(void *arg, const char *field, const char *msg);

/*
 * baresip_account - format line l as one accounts line (no newline) into buf.
 * @with_secrets: 1 to write the password as auth_pass; 0 leaves it out (noted).
 * Returns the length written; -ENOENT when the line has no user or no host to
 * register with, -E2BIG when the entry is longer than BARESIP_LINE_MAX
 * (nothing usable is written in both cases; the reason is noted).
 */
int baresip_account(const struct sipcfg_line *l, int with_secrets, char *buf, size_t n,
                    baresip_note_fn note, void *arg);

#endif

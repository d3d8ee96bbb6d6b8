/* provenance: where each field of a line got its value, and when, and which
 * fields are locked (API.md section 2). A field's record changes only when its
 * value does: re-sending the same value is no new provenance, so an idempotent
 * write stays "changed": false. Flash keys (beside the line's):
 *   lineN.provenance.F = "<source> <RFC 3339 UTC>"   (absent: default, time unknown)
 *   lineN.locked.F     = "<source> <RFC 3339 UTC>"   (present: F is locked, since then, by that) */
#ifndef SIPCFG_PROVENANCE_H
#define SIPCFG_PROVENANCE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "line.h"

#define PROV_TIME_LEN 20             /* "2026-11-28T23:10:00Z" */
#define PROV_TEXT_MAX 40             /* "provisioning 2026-11-28T23:10:00Z" + room */

/* "default", "image", "provisioning", "api", "page"; NULL for a bad value. */
const char *prov_source_name(enum prov_source s);
int prov_source_from_name(const char *name, size_t len, enum prov_source *out);

/* RFC 3339 UTC with seconds ("2026-11-28T23:10:00Z"); 0 is "unknown" and
 * formats as "". Parsing accepts exactly that form. */
void prov_time_format(int64_t t, char out[PROV_TIME_LEN + 1]);
int prov_time_parse(const char *s, size_t len, int64_t *out);

/* A record as its flash value and back ("provisioning 2026-11-28T23:10:00Z"). */
int prov_to_text(const struct prov *p, char *buf, size_t n);
int prov_from_text(const char *s, struct prov *out);

/* After a write by `src` at `now`: every field of `next` whose value differs
 * from `old`'s gets {src, now}, the others keep old's record. Locks: with
 * keep_locks, old's set and records; otherwise fields newly in next->locked
 * get {src, now} and the ones still locked keep old's record. */
void prov_stamp(struct line *next, const struct line *old, enum prov_source src, int64_t now,
                bool keep_locks);

/* The locked fields of `old` whose value `next` changes (bits over line_fields). */
uint32_t prov_locked_changes(const struct line *old, const struct line *next);

#endif

/* cli: what the sipcfg CLI's subcommands share: their entry points, the
 * usage, messages on stderr, opening and decoding the image, committing.
 * A subcommand is one function (argv[0] is its name) that returns the
 * process exit status (0 ok, 1 failure, 2 usage). */
#ifndef SIPCFG_CLI_H
#define SIPCFG_CLI_H
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "kv.h"
#include "store.h"

int cli_resolve(int argc, char **argv);
int cli_provision(int argc, char **argv);
int cli_export(const char *path, int argc, char **argv);
int cli_import(const char *path, int argc, char **argv);

/* The name messages start with: "sipcfg", or a subcommand's ("sipcfg provision"). */
extern const char *cli_prog;
/* Every subcommand's synopsis. */
void cli_usage(FILE *f);
/* "PROG: message" and a newline on stderr; cli_fail returns 1 (the exit status). */
__attribute__((format(printf, 1, 0))) void cli_vsay(const char *fmt, va_list ap);
__attribute__((format(printf, 1, 2))) int cli_fail(const char *fmt, ...);
/* Each entry as "PROG: KIND: field: message (code)". */
void cli_print_diags(const char *kind, const struct diag_list *l);

/* Opens the image and loads its keys; prints the reason and returns 1 on
 * failure. STORE_CREATE in flags also starts over on an image whose banks
 * are both corrupt (with a warning), as sipcfgd's first save does. */
int cli_open_load(const char *path, int flags, struct store **st, struct kv **kv,
                  struct store_info *info);
/* How many lines the image holds: as many as the daemon (--lines N) wrote, so
 * that export equals its GET /config also for N < 6; 6 for a blank image. */
unsigned cli_image_lines(const struct kv *kv);
/* The keys decoded into a new configuration (free it); values that fail the
 * checks are reported as warnings and take their defaults. NULL: no memory. */
struct config *cli_decode(const struct kv *kv, unsigned nlines);
/* Commits cfg while the image is still at `generation`; says what happened
 * ("WHAT saved|unchanged (generation N)") or why not. The exit status. */
int cli_commit(struct store *st, const struct config *cfg, uint32_t generation,
               const char *path, const char *what);

/* All of f, NUL-terminated, at most `max` bytes; NULL when unreadable or larger. */
char *cli_read_all(FILE *f, size_t max, size_t *len);

#endif

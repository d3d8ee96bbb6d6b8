/* tmpdir: the private temporary directory of a test program's file tests
 * (under $TMPDIR, else /tmp), made by a group setup and removed by its
 * teardown; one per program. */
#ifndef SIPCFG_TEST_TMPDIR_H
#define SIPCFG_TEST_TMPDIR_H
#include <stddef.h>

/* Makes "<$TMPDIR or /tmp>/<prefix>.XXXXXX". 0, or -1 (errno set). */
int tmpdir_make(const char *prefix);
/* The directory made by tmpdir_make. */
const char *tmpdir_path(void);
/* "<directory>/<name>" into buf (n bytes, truncated if longer). */
void tmpdir_file(char *buf, size_t n, const char *name);
/* Removes the named files (those a test made, by name: nothing else), then
 * the directory. The result of rmdir: 0, or -1 (errno set). */
int tmpdir_remove(const char *const *names, size_t count);

#endif

/* diag: errors and warnings that reach a user, each with a field path,
 * a stable code and a message a person understands. */
#ifndef SIPCFG_DIAG_H
#define SIPCFG_DIAG_H
#include <stddef.h>

#define DIAG_MAX 64
#define DIAG_FIELD_MAX 128
#define DIAG_CODE_MAX 32
#define DIAG_MESSAGE_MAX 320

struct diag {
    char field[DIAG_FIELD_MAX];     /* "lines[0].proxy.host", "" for the whole body */
    char code[DIAG_CODE_MAX];       /* "invalid_host", "too_long", ... */
    char message[DIAG_MESSAGE_MAX]; /* "'pbx example.com' is not a host name: it contains a space" */
};

struct diag_list {
    size_t n;
    size_t dropped;                 /* added after the list was full */
    struct diag item[DIAG_MAX];
};

void diag_init(struct diag_list *l);
/* Adds one entry; truncates over-long parts; counts it in `dropped` when full. */
void diag_add(struct diag_list *l, const char *field, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Appends every entry of `from`. */
void diag_merge(struct diag_list *to, const struct diag_list *from);
/* Writes `prefix` + `name` into buf ("lines[0]" + "proxy" = "lines[0].proxy");
 * an empty prefix gives just the name. Returns buf. */
char *diag_path(char *buf, size_t n, const char *prefix, const char *name);
/* Quotes user text for a message: printable ASCII but ' kept, everything else as \xNN,
 * cut to at most 40 characters with "..." so a message never carries raw input.
 * DIAG_QUOTE_MAX holds any quote: 40 characters of up to \xNN each, "...", NUL. */
#define DIAG_QUOTE_MAX 200
const char *diag_quote(char *buf, size_t n, const char *s);
/* diag_quote of the piece s[0..len) (a message never shows raw bytes). */
const char *diag_quote_n(char *buf, size_t n, const char *s, size_t len);
/* Entries added so far, the dropped ones included (0 for NULL): "did this step add any?" */
size_t diag_count(const struct diag_list *l);

#endif

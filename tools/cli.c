/* cli: see cli.h. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sipcfg.h"

#define DEFAULT_FLASH SIPCFG_DEFAULT_FLASH

const char *cli_prog = "sipcfg";

void cli_usage(FILE *f)
{
    fprintf(f,
            "usage: sipcfg [--flash PATH] get KEY          one value; exit 1 if absent\n"
            "       sipcfg [--flash PATH] dump             every key=value, sorted (passwords as *)\n"
            "       sipcfg [--flash PATH] export [--with-secrets]\n"
            "                                              the configuration as JSON (SIP passwords only\n"
            "                                              with --with-secrets: a 0600 file)\n"
            "       sipcfg [--flash PATH] export --format baresip [--with-secrets] [--line N]\n"
            "                                              the enabled lines as baresip 1.0 accounts\n"
            "       sipcfg [--flash PATH] import [--dry-run] [--dns require|warn|skip]\n"
            "                                    [--dns-server HOST:PORT[,...]] [--strict] FILE|-\n"
            "                                              check and commit a configuration (--dns default:\n"
            "                                              skip; IP literals always get their targets)\n"
            "       sipcfg [--flash PATH] passwd           set the admin password (read from stdin)\n"
            "       sipcfg [--flash PATH] info             banks, sequence numbers, CRC state, erase counts\n"
            "       sipcfg resolve [--dns-server HOST:PORT[,...]] [--no-srv] [--json] [--timeout-ms MS] SERVER\n"
            "       sipcfg provision --template T.json --phones P.csv [--jobs N] [--dry-run]\n"
            "                        [--dns require|warn|skip] [--receipts FILE] [--cacert F | --insecure]\n"
            "The image defaults to %s.\n",
            DEFAULT_FLASH);
}

void cli_vsay(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(fmt, ap);
    va_end(ap);
    return 1;
}

void cli_print_diags(const char *kind, const struct diag_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        fprintf(stderr, "%s: %s: %s%s%s (%s)\n", cli_prog, kind, l->item[i].field,
                l->item[i].field[0] ? ": " : "", l->item[i].message, l->item[i].code);
    if (l->dropped)
        fprintf(stderr, "%s: %s: %zu more not shown\n", cli_prog, kind, l->dropped);
}

/* A damaged image file (cut short, a wrong trailer field) is read all the same: say so. */
static void warn_damage(struct store *st, const char *path)
{
    struct store_info in;
    char why[400] = "";
    if (store_info(st, &in) == 0)
        store_damage_text(&in, why, sizeof why);
    if (why[0])
        fprintf(stderr, "%s: warning: %s: %s\n", cli_prog, path, why);
}

/* STORE_CREATE also lets a command that writes a whole configuration (import,
 * passwd) start over on an image whose banks are both corrupt, as sipcfgd's
 * first save does: nothing readable is lost, and it is the way to re-provision. */
int cli_open_load(const char *path, int flags, struct store **st, struct kv **kv,
                  struct store_info *info)
{
    int rc = store_open(path, flags, st);
    if (rc < 0)
        return cli_fail("%s: %s", path, store_open_strerror(rc, flags));
    rc = store_load(*st, kv, info);
    if (rc == -EBADMSG && (flags & STORE_CREATE)) {
        fprintf(stderr, "%s: warning: %s: neither flash bank holds a valid configuration; "
                        "writing a new one over them\n", cli_prog, path);
        *kv = kv_new();
        if (info)
            info->generation = 0;
        if (*kv)
            return 0;
        rc = -ENOMEM;
    }
    if (rc < 0) {
        store_close(*st);
        return cli_fail("%s: %s", path, sipcfg_strerror(rc));
    }
    warn_damage(*st, path);
    return 0;
}

unsigned cli_image_lines(const struct kv *kv)
{
    unsigned n = config_lines_in_kv(kv);
    if (n > LINE_DEFAULT_LINES)
        return n;
    char key[KV_KEY_MAX + 1];
    for (unsigned i = n; i >= 1; i--) {
        /* every line writes its booleans, so "enabled" is there for each */
        if (config_key(key, sizeof key, i, line_field("enabled")->key, NULL) == 0 &&
            kv_get(kv, key))
            return i;
    }
    return LINE_DEFAULT_LINES;
}

struct config *cli_decode(const struct kv *kv, unsigned nlines)
{
    struct config *c = malloc(sizeof *c);
    struct diag_list *errs = malloc(sizeof *errs);
    if (!c || !errs) {
        free(c);
        free(errs);
        return NULL;
    }
    diag_init(errs);
    if (config_from_kv(kv, nlines, c, errs) < 0)
        cli_print_diags("warning: image value replaced by its default", errs);
    free(errs);
    return c;
}

char *cli_read_all(FILE *f, size_t max, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= max)
                break;
            cap *= 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb)
                break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                break;
            buf[n] = '\0';
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

int cli_commit(struct store *st, const struct config *cfg, uint32_t generation,
                  const char *path, const char *what)
{
    struct store_info info;
    int rc = config_commit(st, cfg, &generation, &info);
    if (rc < 0)
        return cli_fail("%s: not saved: %s", path, sipcfg_strerror(rc));
    fprintf(stderr, "%s: %s %s (generation %u)\n", cli_prog, what,
            rc == 1 ? "unchanged" : "saved", (unsigned)info.generation);
    return 0;
}


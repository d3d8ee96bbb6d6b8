/* sipcfg: the CLI over libsipcfg (API.md section 8). It adds no logic of its
 * own: every check, key and format comes from the library, so what the factory
 * writes here is exactly what the web admin would have written. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "baresip.h"
#include "check.h"
#include "cli.h"
#include "config.h"
#include "dns.h"
#include "dns_verdict.h"
#include "json.h"
#include "kv.h"
#include "provenance.h"
#include "hostport.h"
#include "sipcfg.h"
#include "store.h"

#define IMPORT_MAX ((size_t)1024 * 1024)  /* a full 16-line config is ~100 KiB at most */
#define DEFAULT_FLASH SIPCFG_DEFAULT_FLASH

static const char *prog = "sipcfg";

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sipcfg [--flash PATH] get KEY          one value; exit 1 if absent\n"
            "       sipcfg [--flash PATH] dump             every key=value, sorted (passwords as *)\n"
            "       sipcfg [--flash PATH] export [--with-secrets]\n"
            "                                              the configuration as JSON (SIP passwords only\n"
            "                                              with --with-secrets: a 0600 file)\n"
            "       sipcfg [--flash PATH] export --format baresip [--with-secrets] [--line N]\n"
            "                                              the enabled lines as baresip 1.0 accounts\n"
            "       sipcfg [--flash PATH] import [--dry-run] [--dns require|warn|skip] [--dns-server HOST:PORT]\n"
            "                                    [--strict] FILE|-\n"
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

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static void print_diags(const char *kind, const struct diag_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        fprintf(stderr, "%s: %s: %s%s%s (%s)\n", prog, kind, l->item[i].field,
                l->item[i].field[0] ? ": " : "", l->item[i].message, l->item[i].code);
    if (l->dropped)
        fprintf(stderr, "%s: %s: %zu more not shown\n", prog, kind, l->dropped);
}

/* A damaged image file (cut short, a wrong trailer field) is read all the same: say so. */
static void warn_damage(struct store *st, const char *path)
{
    struct store_info in;
    char why[400] = "";
    if (store_info(st, &in) == 0)
        store_damage_text(&in, why, sizeof why);
    if (why[0])
        fprintf(stderr, "%s: warning: %s: %s\n", prog, path, why);
}

/* Opens the image and loads it; prints the reason and returns 1 on failure.
 * STORE_CREATE also lets a command that writes a whole configuration (import,
 * passwd) start over on an image whose banks are both corrupt, as sipcfgd's
 * first save does: nothing readable is lost, and it is the way to re-provision. */
static int open_load(const char *path, int flags, struct store **st, struct kv **kv,
                     struct store_info *info)
{
    int rc = store_open(path, flags, st);
    if (rc == -EBADMSG)
        return fail("%s: not a sipcfg flash image (no emulation trailer)", path);
    if (rc < 0)
        return fail("%s: %s", path, sipcfg_strerror(rc));
    rc = store_load(*st, kv, info);
    if (rc == -EBADMSG && (flags & STORE_CREATE)) {
        fprintf(stderr, "%s: warning: %s: neither flash bank holds a valid configuration; "
                        "writing a new one over them\n", prog, path);
        *kv = kv_new();
        if (info)
            info->generation = 0;
        if (*kv)
            return 0;
        rc = -ENOMEM;
    }
    if (rc < 0) {
        store_close(*st);
        return fail("%s: %s", path, sipcfg_strerror(rc));
    }
    warn_damage(*st, path);
    return 0;
}

static int cmd_get(const char *path, const char *key)
{
    struct store *st;
    struct kv *kv;
    if (open_load(path, 0, &st, &kv, NULL))
        return 1;
    const char *v = kv_get(kv, key);
    int rc = 1;
    if (v) {
        printf("%s\n", v);
        rc = 0;
    } else {
        fprintf(stderr, "%s: %s: no such key\n", prog, key);
    }
    kv_free(kv);
    store_close(st);
    return rc;
}

/* lineN.password and admin.*; not lineN.provenance.password, which says who set it */
static int is_secret_key(const char *key)
{
    const char *dot = strchr(key, '.');
    return (dot && !strcmp(dot, ".password")) || !strncmp(key, "admin.", 6);
}

static int cmd_dump(const char *path)
{
    struct store *st;
    struct kv *kv;
    if (open_load(path, 0, &st, &kv, NULL))
        return 1;
    for (size_t i = 0; i < kv_count(kv); i++) {
        const char *k = kv_key_at(kv, i), *v = kv_value_at(kv, i);
        printf("%s=%s\n", k, is_secret_key(k) && *v ? "*" : v);
    }
    kv_free(kv);
    store_close(st);
    return 0;
}

/* How many lines the image holds: as many as the daemon (--lines N) wrote, so
 * that export equals its GET /config also for N < 6; 6 for a blank image. */
static unsigned image_lines(const struct kv *kv)
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

/* Decodes an image into a config; values that fail the checks are reported. */
static struct config *decode(const struct kv *kv, unsigned nlines)
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
        print_diags("warning: image value replaced by its default", errs);
    free(errs);
    return c;
}

/* Before an export --with-secrets writes anything: the file is the secret
 * then, so stdout, when it is a file, is made 0600, and stderr says so. */
static int secret_output(void)
{
    struct stat sb;
    bool file = fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);
    if (file && fchmod(STDOUT_FILENO, 0600) != 0) {
        fail("cannot make the output file private (mode 0600): %s", strerror(errno));
        return -1;
    }
    fprintf(stderr, "%s: warning: this export carries the SIP passwords in clear%s; "
                    "keep it safe and delete it after the import\n",
            prog, file ? " (the output file is now mode 0600)" : "");
    return 0;
}

/* --with-secrets: each line's SIP password beside its password_set, for
 * cloning a phone. */
static int add_secrets(json_t *j, const struct config *c)
{
    json_t *lines = json_object_get(j, "lines");
    for (unsigned i = 0; i < c->nlines; i++) {
        json_t *l = json_array_get(lines, i);
        if (l && c->line[i].password[0] &&
            json_object_set_new(l, "password", json_string(c->line[i].password)) < 0)
            return -1;
    }
    return secret_output();
}

static int cmd_export(const char *path, bool secrets)
{
    struct store *st;
    struct kv *kv;
    if (open_load(path, 0, &st, &kv, NULL))
        return 1;
    struct config *c = decode(kv, image_lines(kv));
    int rc = 1;
    if (c) {
        json_t *j = config_to_json(c);
        if (j && (!secrets || add_secrets(j, c) == 0) &&
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
            putchar('\n');
            rc = fflush(stdout) == 0 ? 0 : fail("writing the export failed: %s", strerror(errno));
        }
        json_decref(j);
        explicit_bzero(c, sizeof *c);          /* passwords */
        free(c);
    }
    kv_free(kv);
    store_close(st);
    return rc;
}

static void baresip_note(void *arg, const char *field, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s: baresip: %s: %s\n", prog, field, msg);
}

/* The lines as baresip accounts (tools/baresip.c, docs/BARESIP.md), read
 * through the public API as a SIP core reads them. Without --line, disabled
 * lines are left out (said on stderr when they hold anything); exit 1 when
 * nothing was exported, or when the line asked for could not be. */
static int cmd_export_baresip(const char *path, int with_secrets, unsigned only)
{
    sipcfg *c;
    int rc = sipcfg_open(path, &c);
    if (rc < 0)
        return fail("%s: %s", path, sipcfg_strerror(rc));
    unsigned n = sipcfg_lines(c), exported = 0;
    if (only > n) {
        sipcfg_close(c);
        return fail("--line %u: the image holds lines 1..%u", only, n);
    }
    struct sipcfg_line *l = malloc(sizeof *l);
    char *buf = malloc(BARESIP_LINE_MAX + 2);
    rc = l && buf ? 0 : fail("out of memory");
    for (unsigned i = only ? only : 1; rc == 0 && i <= (only ? only : n); i++) {
        if (sipcfg_get_line(c, i, l) < 0)
            continue;
        if (!l->enabled) {
            if (only || l->user[0] || l->proxy.set || l->domain[0])
                fprintf(stderr, "%s: baresip: line%u.enabled: the line is disabled: not exported\n",
                        prog, i);
            continue;
        }
        if (baresip_account(l, with_secrets, buf, BARESIP_LINE_MAX + 2, baresip_note, NULL) < 0)
            continue;
        /* baresip skips lines that start with '#': the label goes there. */
        printf("# sipcfg line %u%s%s\n%s\n", i, l->label[0] ? ": " : "", l->label, buf);
        exported++;
    }
    if (l)
        explicit_bzero(l, sizeof *l);
    if (buf)
        explicit_bzero(buf, BARESIP_LINE_MAX + 2);
    free(l);
    free(buf);
    sipcfg_close(c);
    if (rc == 0 && exported == 0 && !only)
        fprintf(stderr, "%s: baresip: no enabled line to export\n", prog);
    return rc || exported == 0 ? 1 : 0;
}

/* export [--format json|baresip] [--with-secrets] [--line N] */
static int cmd_export_args(const char *path, int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'F'},
        {"with-secrets", no_argument, NULL, 's'},
        {"line", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    int baresip = 0, secrets = 0, o;
    unsigned line = 0;
    optind = 1;
    while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (o) {
        case 'F':
            if (!strcmp(optarg, "baresip") || !strcmp(optarg, "json")) {
                baresip = optarg[0] == 'b';
                break;
            }
            fprintf(stderr, "%s: export: --format %s: expected json or baresip\n", prog, optarg);
            return 2;
        case 's': secrets = 1; break;
        case 'l': {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || !end || *end || optarg[0] < '1' || optarg[0] > '9' || v > SIPCFG_MAX_LINES) {
                fprintf(stderr, "%s: export: --line %s: expected 1..%d\n", prog, optarg,
                        SIPCFG_MAX_LINES);
                return 2;
            }
            line = (unsigned)v;
            break;
        }
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: export takes no arguments\n", prog);
        usage(stderr);
        return 2;
    }
    if (baresip)
        return secrets && secret_output() < 0 ? 1 : cmd_export_baresip(path, secrets, line);
    /* Decision: a JSON export holds every line (its position is its number
     * when imported again), so --line is for baresip only. */
    if (line) {
        fprintf(stderr, "%s: export: --line is for --format baresip only\n", prog);
        return 2;
    }
    return cmd_export(path, secrets);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            if (cap >= IMPORT_MAX)
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

/* Commits cfg; prints why not on failure. */
static int commit(struct store *st, const struct config *cfg, uint32_t generation,
                  const char *path, const char *what)
{
    struct store_info info;
    int rc = config_commit(st, cfg, &generation, &info);
    if (rc < 0)
        return fail("%s: not saved: %s", path, sipcfg_strerror(rc));
    fprintf(stderr, "%s: %s %s (generation %u)\n", prog, what,
            rc == 1 ? "unchanged" : "saved", (unsigned)info.generation);
    return 0;
}

enum dns_policy { POLICY_REQUIRE, POLICY_WARN, POLICY_SKIP };

struct import_opts {
    bool dry_run, strict;
    enum dns_policy policy;
    const char *dns_servers;        /* NULL: the system's resolver */
    const char *file;
};

/* An enabled line of the file that was exported with a password
 * ("password_set": true) but carries none: a clone that would silently lose
 * it. A warning, or an error with --strict. */
static void check_claimed_passwords(const json_t *j, const struct config *cur,
                                    const struct config *next, bool strict,
                                    struct diag_list *errs, struct diag_list *warns)
{
    const json_t *lines = json_object_get(j, "lines");
    for (size_t i = 0; i < json_array_size(lines) && i < next->nlines; i++) {
        const json_t *l = json_array_get(lines, i);
        if (!json_is_true(json_object_get(l, "password_set")) || json_object_get(l, "password") ||
            !next->line[i].enabled)
            continue;
        char field[40];
        snprintf(field, sizeof field, "lines[%zu].password", i);
        bool kept = i < cur->nlines && cur->line[i].password[0];
        diag_add(strict ? errs : warns, field, "password_missing",
                 "line %zu is enabled and had a password where it was exported "
                 "(password_set: true), but the file carries none%s; "
                 "export with --with-secrets to clone a phone",
                 i + 1, kept ? ": the image's own password is kept" : ": it has no password now");
    }
}

/* The DNS check of every set server (API.md section 4), offline from the
 * phone: require and warn look each name up (the system's resolver, or
 * --dns-server); skip looks nothing up. An IP literal needs no lookup, so it
 * gets its targets stored under every policy: the SIP core of an imported
 * image can reach it from the first boot. A name whose check fails keeps the
 * image's last good targets while it is unchanged (config_from_json kept them). */
static int import_dns(struct config *next, const struct import_opts *o, struct diag_list *errs,
                      struct diag_list *warns)
{
    struct dns_options dopt = {.servers = o->dns_servers};
    struct dns *d = NULL;
    for (unsigned i = 0; i < next->nlines; i++) {
        struct line *l = &next->line[i];
        for (int f = 0; f < SF_COUNT; f++) {
            if (!l->srv[f].set ||
                (o->policy == POLICY_SKIP && host_ip_family(l->srv[f].host) == 0))
                continue;
            int rc = d ? 0 : dns_new(&dopt, &d);   /* only when there is something to check */
            if (rc < 0) {
                fail("--dns-server: %s", sipcfg_strerror(rc));
                return rc;
            }
            struct dns_result *r = NULL;
            if (dns_check(d, &l->srv[f], l->dns_srv, &r) < 0 || !r)
                continue;
            char field[DIAG_FIELD_MAX], prefix[32];
            snprintf(prefix, sizeof prefix, "lines[%u]", i);
            diag_path(field, sizeof field, prefix, server_field_name((enum server_field)f));
            dns_result_diag(r, field, o->policy == POLICY_REQUIRE, errs, warns);
            char buf[RESOLVED_MAX + 1];
            if (r->status == DNS_OK && dns_result_to_flash(r, buf, sizeof buf) >= 0 && buf[0])
                memcpy(l->resolved[f], buf, sizeof buf);
            dns_result_free(r);
        }
    }
    if (d)
        dns_free(d);
    return 0;
}

/* Every field the import changes was set by the image; a file that carries
 * provenance (an export's) keeps it, so a clone tells the original's history
 * and export then import gives the same GET /config. */
static void import_provenance(const json_t *j, const struct config *cur, struct config *next)
{
    int64_t now = (int64_t)time(NULL);
    const json_t *lines = json_object_get(j, "lines");
    for (unsigned i = 0; i < next->nlines; i++) {
        prov_stamp(&next->line[i], &cur->line[i], PROV_IMAGE, now, false);
        line_provenance_from_json(json_array_get(lines, i), &next->line[i]);
    }
}

static int parse_import_opts(int argc, char **argv, struct import_opts *o)
{
    static const struct option opts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"strict", no_argument, NULL, 's'},
        {"dns", required_argument, NULL, 'd'},
        {"dns-server", required_argument, NULL, 'S'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct import_opts){.policy = POLICY_SKIP};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->dry_run = true; break;
        case 's': o->strict = true; break;
        case 'S': o->dns_servers = optarg; break;
        case 'd':
            if (strcmp(optarg, "require") == 0)
                o->policy = POLICY_REQUIRE;
            else if (strcmp(optarg, "warn") == 0)
                o->policy = POLICY_WARN;
            else if (strcmp(optarg, "skip") == 0)
                o->policy = POLICY_SKIP;
            else {
                fprintf(stderr, "%s: import: --dns must be require, warn or skip, not '%s'\n",
                        prog, optarg);
                return 2;
            }
            break;
        default: usage(stderr); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "%s: import takes one FILE (or - for standard input)\n", prog);
        usage(stderr);
        return 2;
    }
    o->file = argv[optind];
    return 0;
}

static json_t *read_json_file(const char *file)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
    if (!f) {
        fail("%s: %s", file, strerror(errno));
        return NULL;
    }
    size_t len = 0;
    char *text = read_all(f, &len);
    if (f != stdin)
        fclose(f);
    if (!text) {
        fail("%s: unreadable, or larger than 1 MiB", file);
        return NULL;
    }
    struct json_syntax_error jerr;
    json_t *j = json_parse_body(text, len, &jerr);
    explicit_bzero(text, len);                 /* an export --with-secrets */
    free(text);
    if (!j)
        fprintf(stderr, "%s: %s: line %d, column %d: %s\n", prog, file, jerr.line, jerr.column,
                jerr.text);
    return j;
}

/* Checks the file against the image (and DNS), then commits it unless
 * --dry-run or unchanged. Returns the exit status. */
static int import_checked(const char *path, const struct import_opts *o, json_t *j,
                          struct store *st, struct kv *kv, uint32_t generation)
{
    /* The image may hold fewer lines than the file brings: make room for them. */
    unsigned nlines = image_lines(kv);
    json_t *lines = json_object_get(j, "lines");
    if (json_is_array(lines) && json_array_size(lines) > nlines)
        nlines = json_array_size(lines) > LINE_MAX_LINES ? LINE_MAX_LINES
                                                           : (unsigned)json_array_size(lines);
    struct config *cur = decode(kv, nlines);
    struct config *next = malloc(sizeof *next);
    struct diag_list *errs = malloc(sizeof *errs), *warns = malloc(sizeof *warns);
    int rc = 1;
    if (!cur || !next || !errs || !warns) {
        fail("out of memory");
        goto out;
    }
    diag_init(errs);
    diag_init(warns);
    if (config_from_json(j, cur, next, errs) == 0 && check_config(next, errs, warns) == 0) {
        check_claimed_passwords(j, cur, next, o->strict, errs, warns);
        if (import_dns(next, o, errs, warns) < 0)
            goto out;
        import_provenance(j, cur, next);
    }
    print_diags("warning", warns);
    if (errs->n || errs->dropped) {
        print_diags("error", errs);
        fprintf(stderr, "%s: %s: nothing imported\n", prog, o->file);
        goto out;
    }
    unsigned diff = config_diff(cur, next);
    rc = 0;
    if (o->dry_run) {
        fprintf(stderr, "%s: dry run: the configuration %s%s; nothing was written\n", prog,
                diff & CONFIG_DIFF_SETTINGS ? "would change" : "is unchanged",
                diff & CONFIG_DIFF_RESOLVED ? " (fresher DNS results would be stored)" : "");
    } else if (diff == 0 && st) {
        fprintf(stderr, "%s: configuration unchanged (generation %u)\n", prog,
                (unsigned)generation);
    } else {
        struct store *ns = st;
        int orc = ns ? 0 : store_open(path, STORE_CREATE, &ns);
        rc = orc < 0 ? fail("%s: %s", path, sipcfg_strerror(orc))
                     : commit(ns, next, generation, path, "configuration");
        if (ns && ns != st)
            store_close(ns);
    }
out:
    if (cur)
        explicit_bzero(cur, sizeof *cur);
    if (next)
        explicit_bzero(next, sizeof *next);
    free(cur);
    free(next);
    free(errs);
    free(warns);
    return rc;
}

static int cmd_import(const char *path, int argc, char **argv)
{
    struct import_opts o;
    int rc = parse_import_opts(argc, argv, &o);
    if (rc)
        return rc;
    json_t *j = read_json_file(o.file);
    if (!j)
        return 1;
    /* A missing image is created only once the file has passed every check
     * (and never by a dry run): a failed import leaves the disk as it was. */
    struct store *st = NULL;
    struct kv *kv = NULL;
    struct store_info info = {0};
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        kv = kv_new();
    } else if (open_load(path, o.dry_run ? 0 : STORE_CREATE, &st, &kv, &info)) {
        json_decref(j);
        return 1;
    }
    rc = kv ? import_checked(path, &o, j, st, kv, info.generation) : fail("out of memory");
    json_decref(j);
    kv_free(kv);
    if (st)
        store_close(st);
    return rc;
}

/* One line from stdin, without echo when it is a terminal. */
static int read_password(char *buf, size_t n)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "New admin password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)n, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (!got)
        return -1;
    size_t len = strlen(buf);
    if (len == n - 1 && buf[len - 1] != '\n')
        return -2;                 /* longer than any password we accept */
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int cmd_passwd(const char *path)
{
    char pw[ADMIN_PASSWORD_MAX + 3];
    int r = read_password(pw, sizeof pw);
    if (r == -1)
        return fail("no password given on standard input");
    struct diag_list errs;
    diag_init(&errs);
    if (r == -2)
        diag_add(&errs, "password", "too_long", "the password is longer than %d bytes",
                 ADMIN_PASSWORD_MAX);
    else
        admin_password_check(pw, "password", &errs);
    if (errs.n) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s: %s\n", prog, errs.item[i].message);
        explicit_bzero(pw, sizeof pw);
        return 1;
    }

    struct store *st;
    struct kv *kv;
    struct store_info info;
    if (open_load(path, STORE_CREATE, &st, &kv, &info)) {
        explicit_bzero(pw, sizeof pw);
        return 1;
    }
    struct config *c = decode(kv, image_lines(kv));
    int rc = 1;
    if (c) {
        admin_ha1_hex(pw, c->admin_ha1);
        rc = commit(st, c, info.generation, path, "admin password");
        free(c);
    }
    explicit_bzero(pw, sizeof pw);
    kv_free(kv);
    store_close(st);
    return rc;
}

/* "bank 0: valid   seq 7 length 1090 crc 1a2b3c4d (ok) erases 4  (active)";
 * an invalid bank says whether it is erased or what its header claims. */
static void print_bank(const struct store_info *in, int b)
{
    printf("bank %d: %-7s", b, in->valid[b] ? "valid" : "invalid");
    bool erased = in->seq[b] == UINT32_MAX && in->length[b] == UINT32_MAX && in->crc[b] == UINT32_MAX;
    if (in->valid[b])
        printf(" seq %-10u length %-6u crc %08x (ok)", (unsigned)in->seq[b],
               (unsigned)in->length[b], (unsigned)in->crc[b]);
    else if (erased)
        printf(" (erased)");
    else
        printf(" seq %-10u length %-6u crc %08x (header or CRC bad)", (unsigned)in->seq[b],
               (unsigned)in->length[b], (unsigned)in->crc[b]);
    printf(" erases %u%s\n", (unsigned)in->erase_count[b], in->active_bank == b ? "  (active)" : "");
}

static int cmd_info(const char *path)
{
    struct store *st;
    int rc = store_open(path, 0, &st);
    if (rc < 0)
        return fail("%s: %s", path, sipcfg_strerror(rc));
    struct store_info in;
    rc = store_info(st, &in);
    store_close(st);
    if (rc < 0)
        return fail("%s: %s", path, sipcfg_strerror(rc));
    static const char *const states[] = {"empty (never written)", "ok",
                                         "CORRUPT: neither bank is valid"};
    printf("image: %s\n", path);
    printf("state: %s\n", states[in.state]);
    if (in.state == STORE_OK) {
        char when[32] = "unknown";
        time_t t = (time_t)in.saved_at;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("generation: %u (bank %d, saved %s)\n", (unsigned)in.generation, in.active_bank,
               when);
    }
    print_bank(&in, 0);
    print_bank(&in, 1);
    printf("capacity: %u bytes per bank\n", (unsigned)in.capacity);
    char why[400];
    store_damage_text(&in, why, sizeof why);
    if (why[0])
        printf("WARNING: %s\n", why);
    if (in.damaged_bank >= 0)
        printf("WARNING: bank %d held a finished commit (seq %u) and is damaged now%s\n",
               in.damaged_bank, (unsigned)in.seq[in.damaged_bank],
               in.rolled_back ? ": the store ROLLED BACK to the previous generation" : "");
    return in.state == STORE_CORRUPT ? 1 : 0;
}

int main(int argc, char **argv)
{
    const char *flash = DEFAULT_FLASH;
    static const struct option opts[] = {
        {"flash", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* "+": stop at the subcommand, whose own options (resolve) follow it. */
    int o;
    while ((o = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
        switch (o) {
        case 'f': flash = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;

    if (!strcmp(cmd, "resolve")) {
        optind = 1;   /* the subcommand parses its own options from a fresh start */
        return cli_resolve(argc - (int)(args - argv) + 1, args - 1);
    }
    if (!strcmp(cmd, "provision"))
        return cli_provision(argc - (int)(args - argv) + 1, args - 1);
    /* export and import parse their own options (argv[0] = the subcommand) */
    if (!strcmp(cmd, "export"))
        return cmd_export_args(flash, argc - (int)(args - argv) + 1, args - 1);
    if (!strcmp(cmd, "import"))
        return cmd_import(flash, argc - (int)(args - argv) + 1, args - 1);
    struct { const char *name; int nargs; } const table[] = {
        {"get", 1}, {"dump", 0}, {"passwd", 0}, {"info", 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(cmd, table[i].name) != 0)
            continue;
        if (nargs != table[i].nargs) {
            fprintf(stderr, "%s: %s takes %d argument%s\n", prog, cmd, table[i].nargs,
                    table[i].nargs == 1 ? "" : "s");
            usage(stderr);
            return 2;
        }
        switch (i) {
        case 0: return cmd_get(flash, args[0]);
        case 1: return cmd_dump(flash);
        case 2: return cmd_passwd(flash);
        default: return cmd_info(flash);
        }
    }
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    usage(stderr);
    return 2;
}

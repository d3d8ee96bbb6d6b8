/* sipcfg import: check a configuration (a file or standard input) against
 * the image, the checks of the web admin and, on request, DNS; then commit
 * it (API.md section 8). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "config.h"
#include "dns.h"
#include "dns_servers.h"
#include "dns_verdict.h"
#include "hostport.h"
#include "json.h"
#include "kv.h"
#include "provenance.h"
#include "sipcfg.h"
#include "store.h"

#define IMPORT_MAX ((size_t)1024 * 1024)  /* a full 16-line config is ~100 KiB at most */

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
                cli_fail("--dns-server: %s", sipcfg_strerror(rc));
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
static void import_provenance(const json_t *j, const struct config *cur, struct config *next,
                              struct diag_list *errs)
{
    int64_t now = (int64_t)time(NULL);
    const json_t *lines = json_object_get(j, "lines");
    for (unsigned i = 0; i < next->nlines; i++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "lines[%u]", i);
        prov_stamp(&next->line[i], &cur->line[i], PROV_IMAGE, now, false);
        line_provenance_from_json(json_array_get(lines, i), &next->line[i], prefix, errs);
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
        case 'S': {
            /* Checked now, whatever --dns says: a mistyped server is a usage
             * error, never an option silently left unused (--dns skip). */
            char norm[DNS_SERVERS_BUF], q[64];
            if (dns_servers_normalise(optarg, norm, sizeof norm) < 0) {
                fprintf(stderr, "%s: import: --dns-server '%s': expected HOST:PORT[,HOST:PORT] "
                        "(an IP address or a name that resolves; IPv6 in brackets: [::1]:53; "
                        "port 1..65535)\n", cli_prog, diag_quote(q, sizeof q, optarg));
                return 2;
            }
            o->dns_servers = optarg;
            break;
        }
        case 'd':
            if (strcmp(optarg, "require") == 0)
                o->policy = POLICY_REQUIRE;
            else if (strcmp(optarg, "warn") == 0)
                o->policy = POLICY_WARN;
            else if (strcmp(optarg, "skip") == 0)
                o->policy = POLICY_SKIP;
            else {
                fprintf(stderr, "%s: import: --dns must be require, warn or skip, not '%s'\n",
                        cli_prog, optarg);
                return 2;
            }
            break;
        default: cli_usage(stderr); return 2;
        }
    }
    if (argc - optind != 1) {
        fprintf(stderr, "%s: import takes one FILE (or - for standard input)\n", cli_prog);
        cli_usage(stderr);
        return 2;
    }
    o->file = argv[optind];
    return 0;
}

static json_t *read_json_file(const char *file)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
    if (!f) {
        cli_fail("%s: %s", file, strerror(errno));
        return NULL;
    }
    size_t len = 0;
    char *text = cli_read_all(f, IMPORT_MAX, &len);
    if (f != stdin)
        fclose(f);
    if (!text) {
        cli_fail("%s: unreadable, or larger than 1 MiB", file);
        return NULL;
    }
    struct json_syntax_error jerr;
    json_t *j = json_parse_body(text, len, &jerr);
    explicit_bzero(text, len);                 /* an export --with-secrets */
    free(text);
    if (!j)
        fprintf(stderr, "%s: %s: line %d, column %d: %s\n", cli_prog, file, jerr.line, jerr.column,
                jerr.text);
    return j;
}

/* Checks the file against the image (and DNS), then commits it unless
 * --dry-run or unchanged. Returns the exit status. */
static int import_checked(const char *path, const struct import_opts *o, json_t *j,
                          struct store *st, struct kv *kv, uint32_t generation)
{
    /* The image may hold fewer lines than the file brings: make room for them. */
    unsigned nlines = cli_image_lines(kv);
    json_t *lines = json_object_get(j, "lines");
    if (json_is_array(lines) && json_array_size(lines) > nlines)
        nlines = json_array_size(lines) > LINE_MAX_LINES ? LINE_MAX_LINES
                                                           : (unsigned)json_array_size(lines);
    struct config *cur = cli_decode(kv, nlines);
    struct config *next = malloc(sizeof *next);
    struct diag_list *errs = malloc(sizeof *errs), *warns = malloc(sizeof *warns);
    int rc = 1;
    if (!cur || !next || !errs || !warns) {
        cli_fail("out of memory");
        goto out;
    }
    diag_init(errs);
    diag_init(warns);
    if (config_from_json(j, cur, next, errs) == 0 && check_config(next, errs, warns) == 0) {
        check_claimed_passwords(j, cur, next, o->strict, errs, warns);
        import_provenance(j, cur, next, errs);
        if (import_dns(next, o, errs, warns) < 0)
            goto out;
    }
    cli_print_diags("warning", warns);
    if (errs->n || errs->dropped) {
        cli_print_diags("error", errs);
        fprintf(stderr, "%s: %s: nothing imported\n", cli_prog, o->file);
        goto out;
    }
    unsigned diff = config_diff(cur, next);
    rc = 0;
    if (o->dry_run) {
        fprintf(stderr, "%s: dry run: the configuration %s%s; nothing was written\n", cli_prog,
                diff & CONFIG_DIFF_SETTINGS ? "would change" : "is unchanged",
                diff & CONFIG_DIFF_RESOLVED ? " (fresher DNS results would be stored)" : "");
    } else if (diff == 0 && st) {
        fprintf(stderr, "%s: configuration unchanged (generation %u)\n", cli_prog,
                (unsigned)generation);
    } else {
        struct store *ns = st;
        int orc = ns ? 0 : store_open(path, STORE_CREATE, &ns);
        rc = orc < 0 ? cli_fail("%s: %s", path, store_open_strerror(orc, STORE_CREATE))
                     : cli_commit(ns, next, generation, path, "configuration");
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

int cli_import(const char *path, int argc, char **argv)
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
    struct stat sb;
    bool missing = stat(path, &sb) != 0 ? errno == ENOENT : S_ISREG(sb.st_mode) && sb.st_size == 0;
    if (missing) {   /* an empty file (mktemp's) is an image not made yet */
        kv = kv_new();
    } else if (cli_open_load(path, o.dry_run ? 0 : STORE_CREATE, &st, &kv, &info)) {
        json_decref(j);
        return 1;
    }
    rc = kv ? import_checked(path, &o, j, st, kv, info.generation) : cli_fail("out of memory");
    json_decref(j);
    kv_free(kv);
    if (st)
        store_close(st);
    return rc;
}


/* sipcfg export: the configuration as JSON (what GET /config says, the
 * passwords only with --with-secrets), or as baresip accounts read through
 * the public reader API (API.md section 8, docs/BARESIP.md). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "baresip.h"
#include "cli.h"
#include "config.h"
#include "json.h"
#include "kv.h"
#include "sipcfg.h"
#include "store.h"

/* Before an export --with-secrets writes anything: the file is the secret
 * then, so stdout, when it is a file, is made 0600, and stderr says so. */
static int secret_output(void)
{
    struct stat sb;
    bool file = fstat(STDOUT_FILENO, &sb) == 0 && S_ISREG(sb.st_mode);
    if (file && fchmod(STDOUT_FILENO, 0600) != 0) {
        cli_fail("cannot make the output file private (mode 0600): %s", strerror(errno));
        return -1;
    }
    fprintf(stderr, "%s: warning: this export carries the SIP passwords in clear%s; "
                    "keep it safe and delete it after the import\n",
            cli_prog, file ? " (the output file is now mode 0600)" : "");
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
    if (cli_open_load(path, 0, &st, &kv, NULL))
        return 1;
    struct config *c = cli_decode(kv, cli_image_lines(kv));
    int rc = 1;
    if (c) {
        json_t *j = config_to_json(c);
        if (j && (!secrets || add_secrets(j, c) == 0) &&
            json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0) {
            putchar('\n');
            rc = fflush(stdout) == 0 ? 0 : cli_fail("writing the export failed: %s", strerror(errno));
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
    fprintf(stderr, "%s: baresip: %s: %s\n", cli_prog, field, msg);
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
        return cli_fail("%s: %s", path, sipcfg_strerror(rc));
    unsigned n = sipcfg_lines(c), exported = 0;
    if (only > n) {
        sipcfg_close(c);
        return cli_fail("--line %u: the image holds lines 1..%u", only, n);
    }
    struct sipcfg_line *l = malloc(sizeof *l);
    char *buf = malloc(BARESIP_LINE_MAX + 2);
    rc = l && buf ? 0 : cli_fail("out of memory");
    for (unsigned i = only ? only : 1; rc == 0 && i <= (only ? only : n); i++) {
        if (sipcfg_get_line(c, i, l) < 0)
            continue;
        if (!l->enabled) {
            if (only || l->user[0] || l->proxy.set || l->domain[0])
                fprintf(stderr, "%s: baresip: line%u.enabled: the line is disabled: not exported\n",
                        cli_prog, i);
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
        fprintf(stderr, "%s: baresip: no enabled line to export\n", cli_prog);
    return rc || exported == 0 ? 1 : 0;
}

/* export [--format json|baresip] [--with-secrets] [--line N] */
int cli_export(const char *path, int argc, char **argv)
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
            fprintf(stderr, "%s: export: --format %s: expected json or baresip\n", cli_prog, optarg);
            return 2;
        case 's': secrets = 1; break;
        case 'l': {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || !end || *end || optarg[0] < '1' || optarg[0] > '9' || v > SIPCFG_MAX_LINES) {
                fprintf(stderr, "%s: export: --line %s: expected 1..%d\n", cli_prog, optarg,
                        SIPCFG_MAX_LINES);
                return 2;
            }
            line = (unsigned)v;
            break;
        }
        default: cli_usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: export takes no arguments\n", cli_prog);
        cli_usage(stderr);
        return 2;
    }
    if (baresip)
        return secrets && secret_output() < 0 ? 1 : cmd_export_baresip(path, secrets, line);
    /* Decision: a JSON export holds every line (its position is its number
     * when imported again), so --line is for baresip only. */
    if (line) {
        fprintf(stderr, "%s: export: --line is for --format baresip only\n", cli_prog);
        return 2;
    }
    return cmd_export(path, secrets);
}


/* sipcfg: the CLI over libsipcfg (API.md section 8). It adds no logic of its
 * own: every check, key and format comes from the library, so what the factory
 * writes here is exactly what the web admin would have written. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "cli.h"
#include "config.h"
#include "kv.h"
#include "sipcfg.h"
#include "store.h"

#define DEFAULT_FLASH SIPCFG_DEFAULT_FLASH

static int cmd_get(const char *path, const char *key)
{
    struct store *st;
    struct kv *kv;
    if (cli_open_load(path, 0, &st, &kv, NULL))
        return 1;
    const char *v = kv_get(kv, key);
    int rc = 1;
    if (v) {
        printf("%s\n", v);
        rc = 0;
    } else {
        fprintf(stderr, "%s: %s: no such key\n", cli_prog, key);
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
    if (cli_open_load(path, 0, &st, &kv, NULL))
        return 1;
    for (size_t i = 0; i < kv_count(kv); i++) {
        const char *k = kv_key_at(kv, i), *v = kv_value_at(kv, i);
        printf("%s=%s\n", k, is_secret_key(k) && *v ? "*" : v);
    }
    kv_free(kv);
    store_close(st);
    return 0;
}

/* One line from stdin, without echo when it is a terminal. -1: nothing
 * given; -2: longer than n - 1 bytes; -3: a NUL byte, which would cut the
 * password short in silence (fgets cannot tell). */
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
    size_t len = 0;
    int ch = EOF, rc = 0;
    while ((ch = getchar()) != EOF && ch != '\n') {
        if (len == n - 1) {
            rc = -2;
            break;
        }
        if (ch == '\0')
            rc = -3;
        buf[len++] = (char)ch;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (rc == 0 && len == 0 && ch == EOF)
        return -1;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    return rc;
}

static int cmd_passwd(const char *path)
{
    char pw[ADMIN_PASSWORD_MAX + 3];
    int r = read_password(pw, sizeof pw);
    if (r == -1)
        return cli_fail("no password given on standard input");
    struct diag_list errs;
    diag_init(&errs);
    if (r == -2)
        diag_add(&errs, "password", "too_long", "the password is longer than %d bytes",
                 ADMIN_PASSWORD_MAX);
    else if (r == -3)
        diag_add(&errs, "password", "control_character",
                 "the password contains a NUL byte: it would be cut short there");
    else
        admin_password_check(pw, "password", &errs);
    if (errs.n) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s: %s\n", cli_prog, errs.item[i].message);
        explicit_bzero(pw, sizeof pw);
        return 1;
    }

    struct store *st;
    struct kv *kv;
    struct store_info info;
    if (cli_open_load(path, STORE_CREATE, &st, &kv, &info)) {
        explicit_bzero(pw, sizeof pw);
        return 1;
    }
    struct config *c = cli_decode(kv, cli_image_lines(kv));
    int rc = 1;
    if (c) {
        admin_ha1_hex(pw, c->admin_ha1);
        rc = cli_commit(st, c, info.generation, path, "admin password");
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
        return cli_fail("%s: %s", path, sipcfg_strerror(rc));
    struct store_info in;
    rc = store_info(st, &in);
    store_close(st);
    if (rc < 0)
        return cli_fail("%s: %s", path, sipcfg_strerror(rc));
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

static int run(int argc, char **argv)
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
        case 'h': cli_usage(stdout); return 0;
        default: cli_usage(stderr); return 2;
        }
    }
    if (optind >= argc) {
        cli_usage(stderr);
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
        return cli_export(flash, argc - (int)(args - argv) + 1, args - 1);
    if (!strcmp(cmd, "import"))
        return cli_import(flash, argc - (int)(args - argv) + 1, args - 1);
    struct { const char *name; int nargs; } const table[] = {
        {"get", 1}, {"dump", 0}, {"passwd", 0}, {"info", 0},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(cmd, table[i].name) != 0)
            continue;
        if (nargs != table[i].nargs) {
            fprintf(stderr, "%s: %s takes %d argument%s\n", cli_prog, cmd, table[i].nargs,
                    table[i].nargs == 1 ? "" : "s");
            cli_usage(stderr);
            return 2;
        }
        switch (i) {
        case 0: return cmd_get(flash, args[0]);
        case 1: return cmd_dump(flash);
        case 2: return cmd_passwd(flash);
        default: return cmd_info(flash);
        }
    }
    fprintf(stderr, "%s: unknown command '%s'\n", cli_prog, cmd);
    cli_usage(stderr);
    return 2;
}

/* What a command printed is its result (get's value, an export): a write
 * that failed (a full disk, a closed pipe) is a failure, never exit 0. */
int main(int argc, char **argv)
{
    int rc = run(argc, argv);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing to standard output failed: %s\n", cli_prog,
                strerror(errno ? errno : EIO));
        return rc ? rc : 1;
    }
    return rc;
}

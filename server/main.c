/* sipcfgd: the phone's web admin daemon (API.md section 7).
 * Parses options, opens the flash store, loads the configuration, makes sure
 * an admin password exists, starts the HTTP server and waits for SIGTERM or
 * SIGINT, then stops in an order that leaves no request and no flash write
 * half done. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "admin.h"
#include "api.h"
#include "auth.h"
#include "http.h"
#include "sipcfg.h"
#include "text.h"

#ifndef SIPCFG_VERSION
#define SIPCFG_VERSION "0.1.0"
#endif

#define MAX_ALLOW_HOSTS 16
#define PEM_MAX ((size_t)64 * 1024)

struct opts {
    const char *listen;
    const char *flash;
    unsigned lines;
    const char *www;
    const char *dns_server;
    unsigned dns_timeout_ms;
    const char *tls_cert, *tls_key;
    const char *allow[MAX_ALLOW_HOSTS];
    size_t nallow;
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sipcfgd [--listen ADDR:PORT] [--flash PATH] [--lines N] [--www DIR]\n"
            "               [--dns-server HOST:PORT[,HOST:PORT]] [--dns-timeout-ms MS]\n"
            "               [--tls-cert FILE --tls-key FILE] [--allow-host NAME]...\n"
            "\n"
            "  --listen ADDR:PORT     where to serve (default 127.0.0.1:8080; [::1]:PORT for IPv6)\n"
            "  --flash PATH           the flash image (default " SIPCFG_DEFAULT_FLASH "; created when missing)\n"
            "  --lines N              SIP lines of the phone, 1..16 (default 6)\n"
            "  --www DIR              serve the page's files from DIR (development)\n"
            "  --dns-server LIST      DNS servers as HOST:PORT, comma-separated (default: the system's)\n"
            "  --dns-timeout-ms MS    deadline of one DNS check (default 2000)\n"
            "  --tls-cert/--tls-key   serve HTTPS with this PEM certificate and key\n"
            "  --allow-host NAME      also answer to Host: NAME (besides IP literals and localhost)\n"
            "  --help, --version\n");
}

static int bad(const char *opt, const char *why)
{
    fprintf(stderr, "sipcfgd: %s: %s\n", opt, why);
    return 2;
}

static bool parse_uint(const char *s, unsigned long min, unsigned long max, unsigned *out)
{
    unsigned long long v;
    if (!s || text_uint(s, strlen(s), max, &v) < 0 || v < min) return false;
    *out = (unsigned)v;
    return true;
}

/* A host name for --allow-host: LDH labels, so the Host comparison is simple. */
static bool valid_host_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-') return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/* 0 = go on, else the exit status (0 for --help/--version is returned as -1). */
static int parse_options(int argc, char **argv, struct opts *o)
{
    enum { O_LISTEN = 256, O_FLASH, O_LINES, O_WWW, O_DNS, O_DNS_TIMEOUT, O_CERT, O_KEY, O_ALLOW,
           O_HELP, O_VERSION };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"flash", required_argument, NULL, O_FLASH},
        {"lines", required_argument, NULL, O_LINES},
        {"www", required_argument, NULL, O_WWW},
        {"dns-server", required_argument, NULL, O_DNS},
        {"dns-timeout-ms", required_argument, NULL, O_DNS_TIMEOUT},
        {"tls-cert", required_argument, NULL, O_CERT},
        {"tls-key", required_argument, NULL, O_KEY},
        {"allow-host", required_argument, NULL, O_ALLOW},
        {"help", no_argument, NULL, O_HELP},
        {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    *o = (struct opts){.listen = "127.0.0.1:8080", .flash = SIPCFG_DEFAULT_FLASH,
                       .lines = LINE_DEFAULT_LINES, .dns_timeout_ms = DNS_DEFAULT_TIMEOUT_MS};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        struct sockaddr_storage ss;
        switch (c) {
        case O_LISTEN:
            if (http_parse_listen(optarg, &ss, NULL, 0, NULL))
                return bad("--listen", "expected ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
            o->listen = optarg;
            break;
        case O_FLASH:
            if (!*optarg) return bad("--flash", "empty path");
            o->flash = optarg;
            break;
        case O_LINES:
            if (!parse_uint(optarg, 1, LINE_MAX_LINES, &o->lines))
                return bad("--lines", "expected a number from 1 to 16");
            break;
        case O_WWW: {
            struct stat st;
            if (!*optarg) return bad("--www", "empty directory");
            if (stat(optarg, &st) != 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "sipcfgd: --www: %s: %s\n", optarg,
                        errno == ENOENT ? "no such directory" : "not a directory");
                return 2;
            }
            o->www = optarg;
            break;
        }
        case O_DNS:
            if (!*optarg) return bad("--dns-server", "expected HOST:PORT[,HOST:PORT]");
            o->dns_server = optarg;
            break;
        case O_DNS_TIMEOUT:
            if (!parse_uint(optarg, 1, 60000, &o->dns_timeout_ms))
                return bad("--dns-timeout-ms", "expected milliseconds from 1 to 60000");
            break;
        case O_CERT: o->tls_cert = optarg; break;
        case O_KEY: o->tls_key = optarg; break;
        case O_ALLOW:
            if (!valid_host_name(optarg)) return bad("--allow-host", "expected a host name");
            if (o->nallow >= MAX_ALLOW_HOSTS) return bad("--allow-host", "at most 16 names");
            o->allow[o->nallow++] = optarg;
            break;
        case O_HELP: usage(stdout); return -1;
        case O_VERSION: printf("sipcfgd %s\n", SIPCFG_VERSION); return -1;
        default: {
            const char *arg = argv[optind - 1];
            /* optopt is the option's value when its argument is missing (all
             * are long, >= O_LISTEN), 0 for an unknown long one and the
             * letter for an unknown short one (-x: there are none). */
            fprintf(stderr, "sipcfgd: %s: %s\n", arg ? arg : "?",
                    optopt >= O_LISTEN ? "needs a value" : "unknown option");
            usage(stderr);
            return 2;
        }
        }
    }
    if (optind < argc) return bad(argv[optind], "unexpected argument");
    if (!o->tls_cert != !o->tls_key)
        return bad(o->tls_cert ? "--tls-key" : "--tls-cert", "--tls-cert and --tls-key go together");
    return 0;
}

/* A PEM file's contents, NUL-terminated. */
static char *read_pem(const char *path, const char *opt)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sipcfgd: %s: %s: %s\n", opt, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(PEM_MAX + 1);
    size_t n = buf ? fread(buf, 1, PEM_MAX + 1, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n > PEM_MAX) {
        fprintf(stderr, "sipcfgd: %s: %s: %s\n", opt, path, !buf ? "out of memory"
                                                           : n ? "larger than 64 KiB" : "empty");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Creates the image's directory when it is missing (var/ for `make run`). */
static void make_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return;
    *slash = '\0';
    mkdir(dir, 0700);
}

/* No admin password in the image: make one and keep its HA1 in RAM. It is
 * committed and printed by first_start_commit only once the daemon serves, so
 * a start that fails (a bad option, the port in use) neither writes flash nor
 * shows a password that the next start would not know. */
static int first_start_password(struct app *app, char *pw, size_t n)
{
    int rc = admin_random_password(pw, n);
    if (rc) return rc;
    admin_ha1_hex(pw, app->cfg->admin_ha1);
    return 0;
}

/* Stores the generated HA1 and says the password once. On a corrupt image
 * nothing is written now: both bad banks stay as they are for inspection and
 * GET /status keeps saying "corrupt" until the first save, which stores this
 * password with the configuration. Called with the server running: app->lock. */
static int first_start_commit(struct app *app, char *pw, size_t n, bool corrupt)
{
    int rc = 0;
    pthread_mutex_lock(&app->lock);
    if (!corrupt) {
        struct store_info info;
        uint32_t expect = app->generation;
        rc = config_commit(app->store, app->cfg, &expect, &info);
        if (rc >= 0) {
            app->generation = info.generation;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&app->lock);
    if (rc == 0) {
        fprintf(stderr, "sipcfgd: no admin password was set; generated one: user admin, password %s\n", pw);
        if (corrupt)
            fprintf(stderr, "sipcfgd: (kept in RAM only until the first save, since the flash is corrupt)\n");
    }
    explicit_bzero(pw, n);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;

    /* Signals are taken by sigwait only: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* An ignored signal is discarded, even for sigwait, and a shell starts
     * background jobs with SIGINT ignored: take both back (they stay blocked,
     * so the default action never runs; sigwait receives them). */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);

    char *cert = NULL, *key = NULL;
    if (o.tls_cert) {
        cert = read_pem(o.tls_cert, "--tls-cert");
        key = cert ? read_pem(o.tls_key, "--tls-key") : NULL;
        if (!key) {
            free(cert);
            return 2;
        }
    }

    static struct app app;
    static struct config cfg;
    pthread_mutex_init(&app.lock, NULL);
    app.cfg = &cfg;
    app.nlines = o.lines;
    app.started = time(NULL);
    app.version = SIPCFG_VERSION;

    /* Every option is checked before the flash is touched. */
    struct dns_options dopt = {.servers = o.dns_server, .timeout_ms = o.dns_timeout_ms};
    rc = dns_new(&dopt, &app.dns);
    if (rc) {
        fprintf(stderr, "sipcfgd: --dns-server: %s\n",
                rc == -EINVAL ? "expected HOST:PORT[,HOST:PORT] with ports 1..65535" : strerror(-rc));
        free(cert);
        free(key);
        return 2;
    }

    make_parent_dir(o.flash);
    rc = store_open(o.flash, STORE_CREATE, &app.store);
    if (rc) {
        dns_free(app.dns);
        free(cert);
        free(key);
        fprintf(stderr, "sipcfgd: --flash: %s: %s\n", o.flash,
                store_open_strerror(rc, STORE_CREATE));
        return 1;
    }
    struct store_info info = {0};
    struct diag_list *errs = calloc(1, sizeof *errs);
    if (errs) diag_init(errs);
    rc = config_load(app.store, o.lines, &cfg, NULL, errs, &info);
    bool corrupt = rc == -EBADMSG;
    if (corrupt) {
        fprintf(stderr, "sipcfgd: WARNING: %s: both flash banks are corrupt; starting with factory "
                        "defaults; GET /status says \"corrupt\" until the next save writes a good bank\n", o.flash);
    } else if (rc) {
        fprintf(stderr, "sipcfgd: --flash: %s: cannot read: %s\n", o.flash, strerror(-rc));
        free(errs);
        store_close(app.store);
        dns_free(app.dns);
        free(cert);
        free(key);
        return 1;
    } else {
        for (size_t i = 0; errs && i < errs->n; i++)
            fprintf(stderr, "sipcfgd: WARNING: flash key %s: %s (using the default)\n",
                    errs->item[i].field, errs->item[i].message);
        app.generation = info.generation;
        if (info.damaged_bank >= 0)
            fprintf(stderr, "sipcfgd: WARNING: %s: bank %d held a finished commit (generation %u) "
                            "and is damaged now%s; GET /status says so until the next save\n",
                    o.flash, info.damaged_bank, (unsigned)info.seq[info.damaged_bank],
                    info.rolled_back ? ": ROLLED BACK to the previous generation" : "");
        char why[400];
        store_damage_text(&info, why, sizeof why);
        if (why[0])
            fprintf(stderr, "sipcfgd: WARNING: %s: %s; GET /status says so\n", o.flash, why);
    }
    free(errs);

    char first_pw[64] = "";
    bool first_start = !cfg.admin_ha1[0];
    if (first_start && (rc = first_start_password(&app, first_pw, sizeof first_pw)) < 0) {
        fprintf(stderr, "sipcfgd: cannot make the first admin password: %s\n", strerror(-rc));
        store_close(app.store);
        dns_free(app.dns);
        free(cert);
        free(key);
        return 1;
    }

    rc = auth_new(NULL, NULL, &app.auth);
    if (rc) {
        fprintf(stderr, "sipcfgd: %s\n", strerror(-rc));
        dns_free(app.dns);
        store_close(app.store);
        explicit_bzero(first_pw, sizeof first_pw);
        free(cert);
        free(key);
        return 1;
    }

    /* The wiring: server/ gets api/'s route table, its flash-following hook
     * and where the admin's HA1 is; it never names an api/ function itself. */
    auth_set_ha1_source(app.auth, api_admin_ha1, &app);
    struct http_options hopt = {
        .listen = o.listen, .www_dir = o.www, .tls_cert_pem = cert, .tls_key_pem = key,
        .allow_hosts = o.allow, .n_allow_hosts = o.nallow,
        .routes = api_routes, .auth = app.auth, .before_api = api_follow_flash,
    };
    struct http *http = NULL;
    rc = http_start(&app, &hopt, &http);
    if (rc == -ENOTSUP)
        fprintf(stderr, "sipcfgd: --tls-cert: this build's libmicrohttpd has no TLS\n");
    else if (rc)
        fprintf(stderr, "sipcfgd: --listen %s: cannot serve there%s\n", o.listen,
                cert ? " (or the TLS certificate/key is unusable)" : " (address in use?)");
    if (rc) {
        auth_free(app.auth);
        dns_free(app.dns);
        store_close(app.store);
        free(cert);
        free(key);
        explicit_bzero(first_pw, sizeof first_pw);
        return 1;
    }
    if (first_start && (rc = first_start_commit(&app, first_pw, sizeof first_pw, corrupt)) < 0) {
        fprintf(stderr, "sipcfgd: cannot store the first admin password: %s\n", strerror(-rc));
        /* As at a normal stop: a DNS callback resumes requests on the http,
         * so the resolver goes after quiesce and before the server stops. */
        http_quiesce(http);
        dns_free(app.dns);
        http_stop(http);
        auth_free(app.auth);
        kv_free(app.kept_above);
        store_close(app.store);
        free(cert);
        free(key);
        return 1;
    }
    fprintf(stderr, "sipcfgd: listening on %s\n", http_url(http));

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {}
    fprintf(stderr, "sipcfgd: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");

    /* No handler runs after quiesce, so the resolver can go: its pending
     * checks complete (and resume their requests, which then get 503);
     * then the server stops; a flash commit is never cut, since commits
     * happen inside handlers. */
    http_quiesce(http);
    dns_free(app.dns);
    http_stop(http);
    auth_free(app.auth);
    kv_free(app.kept_above);
    store_close(app.store);
    pthread_mutex_destroy(&app.lock);
    if (cert) explicit_bzero(key, strlen(key));
    free(cert);
    free(key);
    return 0;
}

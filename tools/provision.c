/* sipcfg provision: the factory's provisioning script, built in (API.md
 * section 8). A configuration template with {{column}} placeholders
 * (template.h) and a CSV of phones (csv.h, one row per phone) become one
 * PUT /api/v1/config per phone over each phone's REST API: first read
 * (GET /config, for the ETag and what changes), then a dry run, then the
 * apply, atomic on the phone and guarded with If-Match. libcurl does HTTP,
 * digest (SHA-256) and TLS. Phones run in parallel, at most --jobs at a time;
 * every phone gets a progress line and a receipt (a JSON line). */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "csv.h"
#include "json.h"
#include "provision_phone.h"
#include "template.h"

#define TEMPLATE_MAX ((size_t)1024 * 1024)
#define PHONES_MAX ((size_t)16 * 1024 * 1024)
#define JOBS_MAX 64
#define JOBS_DEFAULT 4

static const char *const outcome_name[] = {"failed", "changed", "unchanged", "would_change"};

struct run {
    const struct opts *o;
    const char *phones_name;        /* for "phones.csv:4" */
    struct phone *phone;
    size_t nphones;
    size_t next, done;              /* under mu */
    pthread_mutex_t mu;
    FILE *receipts;
};

static void provision_usage(FILE *f)
{
    fprintf(f,
            "usage: sipcfg provision --template T.json --phones P.csv [--jobs N] [--dry-run]\n"
            "                        [--dns require|warn|skip] [--receipts FILE]\n"
            "                        [--cacert FILE | --insecure]\n"
            "  --template FILE   a configuration (PUT /api/v1/config's JSON) with {{column}}\n"
            "                    placeholders in its strings\n"
            "  --phones FILE     CSV (RFC 4180) with a header row: columns 'address'\n"
            "                    (host[:port] or an http(s):// URL), 'admin_password', and\n"
            "                    one column per placeholder\n"
            "  --jobs N          phones provisioned at once, 1..%d (default %d)\n"
            "  --dry-run         check everything on every phone, write nothing\n"
            "  --dns POLICY      the phones' DNS check of each server (default require)\n"
            "  --receipts FILE   one JSON line per phone: result, ETag, changed lines,\n"
            "                    checks, warnings, the error in words\n"
            "  --cacert FILE     trust the phones' TLS certificates signed by FILE\n"
            "  --insecure        do not verify the phones' TLS certificates\n"
            "Exit status: 0 every phone done, 1 any phone failed or bad input, 2 usage error.\n",
            JOBS_MAX, JOBS_DEFAULT);
}

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cli_vsay(fmt, ap);
    va_end(ap);
    provision_usage(stderr);
    return 2;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_fail("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = cli_read_all(f, max, len);
    fclose(f);
    if (!buf)
        cli_fail("%s: unreadable, or larger than %zu MiB", path, max / ((size_t)1024 * 1024));
    return buf;
}

/* ---- input: template + CSV -> phones ---- */

static bool in_list(const json_t *names, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        if (strcmp(json_string_value(v), name) == 0)
            return true;
    return false;
}

/* Every column problem gets its own line; returns how many there were. */
static int check_columns(const struct csv *c, const json_t *names, const char *file)
{
    int bad = 0;
    static const char *const required[] = {"address", "admin_password"};
    for (size_t i = 0; i < 2; i++)
        if (csv_column(c, required[i]) < 0)
            bad += cli_fail("%s:1: no column '%s' (every phone needs one)", file, required[i]);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        if (csv_column(c, json_string_value(v)) < 0)
            bad += cli_fail("%s:1: no column '%s' for the template's placeholder {{%s}}", file,
                        json_string_value(v), json_string_value(v));
    for (size_t k = 0; k < c->ncolumns; k++) {
        const char *col = c->column[k];
        if (strcmp(col, "address") != 0 && strcmp(col, "admin_password") != 0 &&
            !in_list(names, col))
            bad += cli_fail("%s:1: unknown column '%s': the template has no {{%s}}", file, col, col);
    }
    return bad;
}

/* host[:port] becomes http://host[:port]; an http(s):// URL stays (without
 * a trailing '/'). Userinfo, query and fragment are refused: the password
 * comes from its own column, and the API's paths are appended here. */
static int address_to_url(const char *a, char *url, size_t n, char *err, size_t errn)
{
    size_t len = strlen(a);
    if (len == 0) {
        snprintf(err, errn, "the address is empty");
        return -EINVAL;
    }
    if (len > ADDRESS_MAX) {
        snprintf(err, errn, "the address is longer than %d bytes", ADDRESS_MAX);
        return -EINVAL;
    }
    bool scheme = !strncmp(a, "http://", 7) || !strncmp(a, "https://", 8);
    const char *rest = scheme ? strstr(a, "://") + 3 : a;
    const char *allowed = scheme ? "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.-:[]/_~%"
                                 : "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789.-:[]";
    size_t ok = strspn(rest, allowed);
    if (!rest[0] || rest[0] == '/' || rest[ok]) {
        snprintf(err, errn,
                 "'%.60s' is not an address: write host[:port] or http(s)://host[:port]", a);
        return -EINVAL;
    }
    snprintf(url, n, "%s%s", scheme ? "" : "http://", a);
    size_t ul = strlen(url);
    while (ul > 0 && url[ul - 1] == '/')
        url[--ul] = '\0';
    return 0;
}

struct row_ctx {
    const struct csv *c;
    const struct csv_record *r;
};

static const char *row_lookup(const char *name, void *ctx)
{
    const struct row_ctx *x = ctx;
    int i = csv_column(x->c, name);
    return i >= 0 && (size_t)i < x->r->nfields ? x->r->field[i] : NULL;
}

static void make_phone(struct phone *p, const struct csv *c, const struct csv_record *r,
                       const json_t *tmpl)
{
    memset(p, 0, sizeof *p);
    p->csv_line = r->line;
    p->outcome = OUT_FAILED;
    int ia = csv_column(c, "address"), ip = csv_column(c, "admin_password");
    p->address = (size_t)ia < r->nfields ? r->field[ia] : "";
    if (r->nfields != c->ncolumns) {
        snprintf(p->input_error, sizeof p->input_error,
                 "the row has %zu fields, the header %zu (a comma inside a value must be quoted)",
                 r->nfields, c->ncolumns);
        return;
    }
    if (address_to_url(p->address, p->url, sizeof p->url, p->input_error,
                       sizeof p->input_error) < 0)
        return;
    p->password = r->field[ip];
    if (!p->password[0]) {
        snprintf(p->input_error, sizeof p->input_error, "admin_password is empty");
        return;
    }
    struct row_ctx x = {c, r};
    char err[300];
    json_t *body = tmpl_fill(tmpl, row_lookup, &x, err, sizeof err);
    if (!body) {
        snprintf(p->input_error, sizeof p->input_error, "template %s", err);
        return;
    }
    p->body = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!p->body)
        snprintf(p->input_error, sizeof p->input_error, "out of memory");
}

/* The phone a URL names, for finding two rows of one phone: the host in
 * lower case, the port without leading zeros and left out when it is the
 * scheme's default ("http://Phone:080" is "http://phone"). */
static char *phone_key(const char *url)
{
    bool tls = strncmp(url, "https://", 8) == 0;
    const char *host = strstr(url, "://") + 3;
    size_t hlen = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/");
    if (hlen > strlen(host))
        hlen = strlen(host);
    const char *p = host + hlen, *path;
    unsigned long port = tls ? 443 : 80;
    if (*p == ':') {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end != p + 1)
            port = v;
        /* "h:" is the default port; "h:x" is kept as written (curl refuses it) */
        path = end != p + 1 || !p[1] || p[1] == '/' ? end : p;
    } else {
        path = p;
    }
    size_t n = (size_t)(host - url) + hlen + strlen(path) + 16;
    char *k = malloc(n);
    if (!k)
        return NULL;
    int off = snprintf(k, n, "%.*s", (int)(host - url + (ptrdiff_t)hlen), url);
    for (char *c = k + (host - url); *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (port != (tls ? 443UL : 80UL))
        off += snprintf(k + off, n - (size_t)off, ":%lu", port);
    snprintf(k + off, n - (size_t)off, "%s", path);
    return k;
}

struct keyed {
    char *key;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Two rows for one phone would race each other's If-Match: refuse the later.
 * Sorted, not pairwise: 100,000 phones must not cost 5 * 10^9 comparisons. */
static void mark_duplicates(struct phone *ph, size_t n)
{
    struct keyed *k = calloc(n ? n : 1, sizeof *k);
    size_t m = 0;
    for (size_t i = 0; k && i < n; i++) {
        if (ph[i].input_error[0])
            continue;
        k[m].key = phone_key(ph[i].url);
        k[m].i = i;
        if (!k[m].key) {
            snprintf(ph[i].input_error, sizeof ph[i].input_error, "out of memory");
            continue;
        }
        m++;
    }
    if (!k) {
        for (size_t i = 0; i < n; i++)
            if (!ph[i].input_error[0])
                snprintf(ph[i].input_error, sizeof ph[i].input_error, "out of memory");
        return;
    }
    qsort(k, m, sizeof *k, cmp_keyed);
    for (size_t a = 0, b; a < m; a = b) {
        for (b = a + 1; b < m && strcmp(k[a].key, k[b].key) == 0; b++) {
            struct phone *first = &ph[k[a].i];
            snprintf(ph[k[b].i].input_error, sizeof ph[k[b].i].input_error,
                     "the same phone as line %u (%s)", first->csv_line, first->url);
        }
    }
    for (size_t i = 0; i < m; i++)
        free(k[i].key);
    free(k);
}

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

/* ---- the run ---- */

static void lines_words(const json_t *lines, char *buf, size_t n)
{
    size_t i, off = 0;
    json_t *v;
    buf[0] = '\0';
    if (json_array_size(lines) == 0)
        return;
    off += (size_t)snprintf(buf, n, " (line%s", json_array_size(lines) > 1 ? "s" : "");
    json_array_foreach(lines, i, v)
        if (off < n)
            off += (size_t)snprintf(buf + off, n - off, "%s %lld", i ? "," : "",
                                    (long long)json_integer_value(v));
    if (off < n)
        snprintf(buf + off, n - off, ")");
}

static void report(struct run *r, struct phone *p)
{
    json_object_set_new(p->receipt, "result", json_string(outcome_name[p->outcome]));
    if (p->outcome == OUT_FAILED)
        json_object_set_new(p->receipt, "error", json_string(p->error));
    char what[700], lines[160];
    lines_words(json_object_get(p->receipt, "changed_lines"), lines, sizeof lines);
    switch (p->outcome) {
    case OUT_CHANGED: snprintf(what, sizeof what, "changed%s", lines); break;
    case OUT_WOULD_CHANGE: snprintf(what, sizeof what, "would change%s", lines); break;
    case OUT_UNCHANGED:
        snprintf(what, sizeof what, "unchanged%s",
                 json_is_true(json_object_get(p->receipt, "resolutions_updated"))
                     ? " (stored DNS results refreshed)" : "");
        break;
    default: snprintf(what, sizeof what, "FAILED: %s", p->error);
    }
    size_t nw = json_array_size(json_object_get(p->receipt, "warnings"));
    pthread_mutex_lock(&r->mu);
    r->done++;
    printf("[%zu/%zu] %s (%s:%u): %s", r->done, r->nphones, p->address, r->phones_name,
           p->csv_line, what);
    if (nw)
        printf(", %zu warning%s", nw, nw > 1 ? "s" : "");
    putchar('\n');
    fflush(stdout);
    if (r->receipts) {
        char *s = json_dumps(p->receipt, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) {
            fprintf(r->receipts, "%s\n", s);
            fflush(r->receipts);
        }
        free(s);
    }
    pthread_mutex_unlock(&r->mu);
}

static void *worker(void *arg)
{
    struct run *r = arg;
    CURL *h = curl_easy_init();
    for (;;) {
        pthread_mutex_lock(&r->mu);
        size_t i = r->next < r->nphones ? r->next++ : r->nphones;
        pthread_mutex_unlock(&r->mu);
        if (i == r->nphones)
            break;
        struct phone *p = &r->phone[i];
        char at[32];
        utc_now(at, sizeof at);
        p->receipt = json_pack("{s:s, s:s, s:I, s:s, s:b}", "phone", p->address, "url", p->url,
                               "csv_line", (json_int_t)p->csv_line, "at", at, "dry_run",
                               r->o->dry_run);
        if (!p->receipt)
            continue;
        if (p->input_error[0]) {
            json_object_set_new(p->receipt, "step", json_string("input"));
            snprintf(p->error, sizeof p->error, "%s", p->input_error);
        } else if (!h) {
            snprintf(p->error, sizeof p->error, "out of memory (curl)");
        } else {
            provision_phone_run(h, r->o, p);
        }
        report(r, p);
    }
    if (h)
        curl_easy_cleanup(h);
    return NULL;
}

static int summary(const struct run *r)
{
    size_t n[4] = {0};
    for (size_t i = 0; i < r->nphones; i++)
        n[r->phone[i].outcome]++;
    if (r->o->dry_run)
        printf("dry run: %zu phone%s: %zu would change, %zu unchanged, %zu failed; nothing written",
               r->nphones, r->nphones == 1 ? "" : "s", n[OUT_WOULD_CHANGE], n[OUT_UNCHANGED],
               n[OUT_FAILED]);
    else
        printf("provisioned %zu phone%s: %zu changed, %zu unchanged, %zu failed", r->nphones,
               r->nphones == 1 ? "" : "s", n[OUT_CHANGED], n[OUT_UNCHANGED], n[OUT_FAILED]);
    const char *sep = ": ";
    for (size_t i = 0; i < r->nphones; i++)
        if (r->phone[i].outcome == OUT_FAILED) {
            printf("%s%s:%u (%s)", sep, r->phones_name, r->phone[i].csv_line,
                   r->phone[i].address);
            sep = ", ";
        }
    putchar('\n');
    return n[OUT_FAILED] ? 1 : 0;
}

static int run_all(struct run *r)
{
    pthread_t tid[JOBS_MAX];
    size_t nt = r->o->jobs < r->nphones ? r->o->jobs : r->nphones, started = 0;
    for (size_t i = 0; i < nt; i++)
        if (pthread_create(&tid[started], NULL, worker, r) == 0)
            started++;
    if (started == 0 && r->nphones)
        worker(r);                   /* no thread to be had: do them one by one */
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    return summary(r);
}

/* ---- options and main ---- */

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option opts[] = {
        {"template", required_argument, NULL, 't'}, {"phones", required_argument, NULL, 'p'},
        {"jobs", required_argument, NULL, 'j'},     {"dry-run", no_argument, NULL, 'n'},
        {"dns", required_argument, NULL, 'd'},      {"receipts", required_argument, NULL, 'r'},
        {"cacert", required_argument, NULL, 'c'},   {"insecure", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *o = (struct opts){.jobs = JOBS_DEFAULT, .dns = "require"};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        char *end = NULL;
        long v;
        switch (c) {
        case 't': o->tmpl_path = optarg; break;
        case 'p': o->phones_path = optarg; break;
        case 'r': o->receipts_path = optarg; break;
        case 'c': o->cacert = optarg; break;
        case 'k': o->insecure = true; break;
        case 'n': o->dry_run = true; break;
        case 'd':
            if (strcmp(optarg, "require") != 0 && strcmp(optarg, "warn") != 0 &&
                strcmp(optarg, "skip") != 0)
                return usage_error("--dns must be require, warn or skip, not '%s'", optarg);
            o->dns = optarg;
            break;
        case 'j':
            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno || !end || *end || end == optarg || v < 1 || v > JOBS_MAX)
                return usage_error("--jobs must be a number 1..%d, not '%s'", JOBS_MAX, optarg);
            o->jobs = (unsigned)v;
            break;
        case 'h': provision_usage(stdout); return -1;
        default:
            return usage_error("unknown option or missing value: '%s'",
                               optind > 0 && optind <= argc ? argv[optind - 1] : "?");
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->tmpl_path || !o->phones_path)
        return usage_error("--template and --phones are required");
    if (o->cacert && o->insecure)
        return usage_error("--cacert and --insecure exclude each other");
    if (o->cacert && access(o->cacert, R_OK) != 0)
        return usage_error("--cacert %s: %s", o->cacert, strerror(errno));
    return 0;
}

/* Template and phone list, checked as a whole before any phone is contacted. */
static int load_input(const struct opts *o, json_t **tmpl, struct csv **csv)
{
    size_t len = 0;
    char *text = read_file(o->tmpl_path, TEMPLATE_MAX, &len), err[400];
    if (!text)
        return 1;
    struct json_syntax_error jerr;
    *tmpl = json_parse_body(text, len, &jerr);
    free(text);
    if (!*tmpl)
        return cli_fail("%s:%d:%d: not a configuration in JSON: %s", o->tmpl_path, jerr.line,
                    jerr.column, jerr.text);
    json_t *names = tmpl_names(*tmpl, err, sizeof err);
    if (!names)
        return cli_fail("%s: %s", o->tmpl_path, err);
    text = read_file(o->phones_path, PHONES_MAX, &len);
    if (!text) {
        json_decref(names);
        return 1;
    }
    int rc = csv_parse(text, len, csv, err, sizeof err);
    explicit_bzero(text, len);       /* admin passwords */
    free(text);
    if (rc < 0) {
        json_decref(names);
        return strncmp(err, "line ", 5) ? cli_fail("%s: %s", o->phones_path, err)
                                        : cli_fail("%s:%s", o->phones_path, err + 5);
    }
    int bad = check_columns(*csv, names, o->phones_path);
    json_decref(names);
    if (!bad && (*csv)->nrecords == 0)
        bad = cli_fail("%s: no phones: only the header row", o->phones_path);
    return bad ? 1 : 0;
}

int cli_provision(int argc, char **argv)
{
    struct opts o;
    cli_prog = "sipcfg provision";
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    json_t *tmpl = NULL;
    struct csv *csv = NULL;
    struct run r = {.o = &o, .phones_name = o.phones_path};
    if (load_input(&o, &tmpl, &csv)) {
        json_decref(tmpl);
        csv_free(csv);
        return 1;
    }
    const char *slash = strrchr(o.phones_path, '/');
    r.phones_name = slash ? slash + 1 : o.phones_path;
    r.nphones = csv->nrecords;
    r.phone = calloc(r.nphones, sizeof *r.phone);
    rc = 1;
    if (!r.phone) {
        cli_fail("out of memory");
        goto out;
    }
    for (size_t i = 0; i < r.nphones; i++)
        make_phone(&r.phone[i], csv, &csv->record[i], tmpl);
    mark_duplicates(r.phone, r.nphones);
    if (o.receipts_path) {
        int fd = open(o.receipts_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        r.receipts = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!r.receipts) {
            cli_fail("--receipts %s: %s", o.receipts_path, strerror(errno));
            if (fd >= 0)
                close(fd);
            goto out;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_fail("libcurl could not start");
        goto out;
    }
    pthread_mutex_init(&r.mu, NULL);
    rc = run_all(&r);
    pthread_mutex_destroy(&r.mu);
    curl_global_cleanup();
out:
    if (r.receipts && fclose(r.receipts) != 0 && rc == 0)
        rc = cli_fail("--receipts %s: %s", o.receipts_path, strerror(errno));
    for (size_t i = 0; r.phone && i < r.nphones; i++) {
        if (r.phone[i].body)
            explicit_bzero(r.phone[i].body, strlen(r.phone[i].body));   /* SIP passwords */
        free(r.phone[i].body);
        json_decref(r.phone[i].receipt);
    }
    free(r.phone);
    for (size_t i = 0; csv && i < csv->nrecords; i++) {
        int ip = csv_column(csv, "admin_password");
        if (ip >= 0 && (size_t)ip < csv->record[i].nfields)
            explicit_bzero(csv->record[i].field[ip], strlen(csv->record[i].field[ip]));
    }
    csv_free(csv);
    json_decref(tmpl);
    return rc;
}

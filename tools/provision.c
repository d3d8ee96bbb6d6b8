/* sipcfg provision: the factory's provisioning script, built in (API.md
 * section 8). A configuration template with {{column}} placeholders
 * (template.h) and a CSV of phones (csv.h, one row per phone) become one
 * PUT /api/v1/config per phone over each phone's REST API: first read
 * (GET /config, for the ETag and what changes), then a dry run, then the
 * apply, atomic on the phone and guarded with If-Match. libcurl does HTTP,
 * digest (SHA-256) and TLS. Phones run in parallel, at most --jobs at a time;
 * every phone gets a progress line and a receipt (a JSON line). */
#include <curl/curl.h>
#include <errno.h>
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
#include "template.h"

#define TEMPLATE_MAX ((size_t)1024 * 1024)
#define PHONES_MAX ((size_t)16 * 1024 * 1024)
#define ANSWER_MAX ((size_t)1024 * 1024)  /* a 16-line GET /config is ~100 KiB */
#define JOBS_MAX 64
#define JOBS_DEFAULT 4
#define ADDRESS_MAX 255
#define CONNECT_TIMEOUT_S 10L
/* A write waits for the phone's DNS checks (2 s each by default, in parallel). */
#define REQUEST_TIMEOUT_S 120L

static const char *prog = "sipcfg provision";

enum outcome { OUT_FAILED, OUT_CHANGED, OUT_UNCHANGED, OUT_WOULD_CHANGE };
static const char *const outcome_name[] = {"failed", "changed", "unchanged", "would_change"};

struct opts {
    const char *tmpl_path, *phones_path, *receipts_path, *cacert;
    const char *dns;
    unsigned jobs;
    bool dry_run, insecure;
};

struct phone {
    unsigned csv_line;
    const char *address;            /* as written in the CSV */
    char url[ADDRESS_MAX + 16];     /* base URL, no trailing '/' */
    const char *password;
    char *body;                     /* the filled template as JSON text */
    char input_error[400];          /* a bad row: never contacted */
    /* results */
    enum outcome outcome;
    char error[600];
    json_t *receipt;
};

struct run {
    const struct opts *o;
    const char *phones_name;        /* for "phones.csv:4" */
    struct phone *phone;
    size_t nphones;
    size_t next, done;              /* under mu */
    pthread_mutex_t mu;
    FILE *receipts;
};

/* "sipcfg provision: " + the message + a newline, on stderr. */
__attribute__((format(printf, 1, 0))) static void vsay(const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2))) static int perr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    return 1;
}

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
    vsay(fmt, ap);
    va_end(ap);
    provision_usage(stderr);
    return 2;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perr("%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > max) {
        perr("%s: %s", path, bad ? "unreadable" : "too large");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
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
            bad += perr("%s:1: no column '%s' (every phone needs one)", file, required[i]);
    size_t i;
    json_t *v;
    json_array_foreach(names, i, v)
        if (csv_column(c, json_string_value(v)) < 0)
            bad += perr("%s:1: no column '%s' for the template's placeholder {{%s}}", file,
                        json_string_value(v), json_string_value(v));
    for (size_t k = 0; k < c->ncolumns; k++) {
        const char *col = c->column[k];
        if (strcmp(col, "address") != 0 && strcmp(col, "admin_password") != 0 &&
            !in_list(names, col))
            bad += perr("%s:1: unknown column '%s': the template has no {{%s}}", file, col, col);
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

/* Two rows for one phone would race each other's If-Match: refuse the later. */
static void mark_duplicates(struct phone *ph, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i && !ph[i].input_error[0]; j++)
            if (!ph[j].input_error[0] && strcmp(ph[i].url, ph[j].url) == 0)
                snprintf(ph[i].input_error, sizeof ph[i].input_error,
                         "the same phone as line %u (%s)", ph[j].csv_line, ph[j].url);
}

/* ---- HTTP ---- */

struct answer {
    long status;
    char *text;
    size_t len;
    bool too_big;
    char etag[96];
    json_t *json;                   /* the body when it is JSON */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb;
    if (a->len + n > ANSWER_MAX) {
        a->too_big = true;
        return 0;                   /* curl stops the transfer */
    }
    char *t = realloc(a->text, a->len + n + 1);
    if (!t)
        return 0;
    memcpy(t + a->len, ptr, n);
    a->text = t;
    a->len += n;
    t[a->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        a->etag[0] = '\0';          /* a new response (the digest challenge came first) */
    } else if (n > 5 && !strncasecmp(ptr, "etag:", 5)) {
        const char *v = ptr + 5;
        size_t vl = n - 5;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof a->etag) {
            memcpy(a->etag, v, vl);
            a->etag[vl] = '\0';
        }
    }
    return n;
}

static void answer_clear(struct answer *a)
{
    free(a->text);
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}

/* A transport failure in words: what a person checks next. */
static void curl_words(CURLcode rc, const char *errbuf, const char *url, char *out, size_t n)
{
    const char *what;
    switch (rc) {
    case CURLE_COULDNT_CONNECT: what = "unreachable: nothing answers at"; break;
    case CURLE_COULDNT_RESOLVE_HOST: what = "unreachable: the name does not resolve:"; break;
    case CURLE_OPERATION_TIMEDOUT: what = "unreachable: no answer in time from"; break;
    case CURLE_PEER_FAILED_VERIFICATION:
        what = "the phone's TLS certificate is not trusted (--cacert FILE, or --insecure):";
        break;
    case CURLE_SSL_CONNECT_ERROR: what = "the TLS handshake failed with"; break;
    default: what = "the request failed:"; break;
    }
    snprintf(out, n, "%s %s (%s)", what, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* One request; 0 when an HTTP answer came (any status), else -1 with words in err. */
static int request(CURL *h, const struct opts *o, const struct phone *p, const char *method,
                   const char *path, const char *body, const char *if_match, struct answer *a,
                   char *err, size_t errn)
{
    char url[sizeof p->url + 96], errbuf[CURL_ERROR_SIZE] = "", im[128];
    struct curl_slist *hdr = NULL;
    answer_clear(a);
    snprintf(url, sizeof url, "%s/api/v1%s", p->url, path);
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    curl_easy_setopt(h, CURLOPT_USERNAME, "admin");
    curl_easy_setopt(h, CURLOPT_PASSWORD, p->password);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    if (o->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        hdr = curl_slist_append(hdr, "Expect:");   /* no 100-continue round trip */
    }
    if (if_match) {
        snprintf(im, sizeof im, "If-Match: %s", if_match);
        hdr = curl_slist_append(hdr, im);
    }
    if (hdr)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK) {
        if (a->too_big)
            snprintf(err, errn, "the answer of %s is larger than %zu bytes", url, ANSWER_MAX);
        else
            curl_words(rc, errbuf, p->url, err, errn);
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    if (a->text)
        a->json = json_loadb(a->text, a->len, 0, NULL);
    return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A status other than 200 in words; a 422's errors go into the receipt. */
static void status_words(const struct answer *a, const char *step, json_t *receipt, char *out,
                         size_t n)
{
    const json_t *errs = json_object_get(a->json, "errors");
    const char *detail = jstr(a->json, "detail");
    json_object_set_new(receipt, "http_status", json_integer(a->status));
    if (a->status == 401) {
        snprintf(out, n, "wrong admin password (401)");
    } else if (a->status == 429) {
        snprintf(out, n, "too many failed logins from here; the phone refuses for a while (429)");
    } else if (a->status == 422 && json_array_size(errs) > 0) {
        const json_t *e = json_array_get(errs, 0);
        size_t more = json_array_size(errs) - 1;
        char tail[48] = "";
        if (more)
            snprintf(tail, sizeof tail, " (and %zu more)", more);
        snprintf(out, n, "%s refused (422): %s%s%s%s", step, jstr(e, "field"),
                 jstr(e, "field")[0] ? ": " : "", jstr(e, "message"), tail);
        json_object_set(receipt, "errors", (json_t *)errs);
    } else if (a->status == 412) {
        snprintf(out, n, "the phone's configuration changed between the check and the apply "
                         "(412); nothing was written, run again");
    } else if (a->status == 404) {
        snprintf(out, n, "no sipcfg API at this address (404)");
    } else {
        snprintf(out, n, "%s: HTTP %ld%s%s", step, a->status, detail[0] ? ": " : "", detail);
    }
    if (json_object_get(a->json, "checks"))
        json_object_set(receipt, "checks", json_object_get(a->json, "checks"));
}

/* Lines (1-based) whose object differs between two "lines" arrays. */
static json_t *changed_lines(const json_t *before, const json_t *after)
{
    json_t *out = json_array();
    size_t n = json_array_size(after);
    for (size_t i = 0; out && i < n; i++)
        if (!json_equal(json_array_get(before, i), json_array_get(after, i)))
            json_array_append_new(out, json_integer((json_int_t)i + 1));
    return out;
}

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, n, "1970-01-01T00:00:00Z");
}

/* Read, dry run, apply. Fills p->outcome, p->error and the receipt. */
static void provision_one(CURL *h, const struct opts *o, struct phone *p)
{
    json_t *rc = p->receipt;
    struct answer a = {0};
    char q[64];
    if (request(h, o, p, "GET", "/config", NULL, NULL, &a, p->error, sizeof p->error) < 0) {
        json_object_set_new(rc, "step", json_string("read"));
        goto out;
    }
    if (a.status != 200 || !json_is_array(json_object_get(a.json, "lines"))) {
        json_object_set_new(rc, "step", json_string("read"));
        status_words(&a, "reading the configuration", rc, p->error, sizeof p->error);
        goto out;
    }
    json_t *before = json_incref(json_object_get(a.json, "lines"));
    char etag[sizeof a.etag];
    snprintf(etag, sizeof etag, "%s", a.etag);
    json_object_set_new(rc, "etag", etag[0] ? json_string(etag) : json_null());

    snprintf(q, sizeof q, "/config?dry_run=true&dns=%s", o->dns);
    if (request(h, o, p, "PUT", q, p->body, NULL, &a, p->error, sizeof p->error) < 0 ||
        a.status != 200) {
        json_object_set_new(rc, "step", json_string("dry_run"));
        if (a.status)
            status_words(&a, "the dry run", rc, p->error, sizeof p->error);
        json_decref(before);
        goto out;
    }
    if (o->dry_run) {
        bool ch = json_is_true(json_object_get(a.json, "changed"));
        p->outcome = ch ? OUT_WOULD_CHANGE : OUT_UNCHANGED;
        json_object_set_new(rc, "changed", json_boolean(ch));
        json_object_set_new(rc, "changed_lines",
                            changed_lines(before, json_object_get(a.json, "lines")));
    } else {
        snprintf(q, sizeof q, "/config?dns=%s", o->dns);
        if (request(h, o, p, "PUT", q, p->body, etag[0] ? etag : NULL, &a, p->error,
                    sizeof p->error) < 0 || a.status != 200) {
            json_object_set_new(rc, "step", json_string("apply"));
            if (a.status)
                status_words(&a, "the apply", rc, p->error, sizeof p->error);
            json_decref(before);
            goto out;
        }
        bool ch = json_is_true(json_object_get(a.json, "changed"));
        p->outcome = ch ? OUT_CHANGED : OUT_UNCHANGED;
        json_object_set_new(rc, "etag", a.etag[0] ? json_string(a.etag) : json_null());
        json_object_set_new(rc, "changed", json_boolean(ch));
        json_object_set_new(rc, "resolutions_updated",
                            json_boolean(json_is_true(json_object_get(a.json,
                                                                       "resolutions_updated"))));
        json_object_set_new(rc, "changed_lines",
                            changed_lines(before, json_object_get(a.json, "lines")));
    }
    json_decref(before);
    json_object_set(rc, "checks", json_object_get(a.json, "checks"));
    json_object_set(rc, "warnings", json_object_get(a.json, "warnings"));
out:
    answer_clear(&a);
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
            provision_one(h, r->o, p);
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
        return perr("%s:%d:%d: not a configuration in JSON: %s", o->tmpl_path, jerr.line,
                    jerr.column, jerr.text);
    json_t *names = tmpl_names(*tmpl, err, sizeof err);
    if (!names)
        return perr("%s: %s", o->tmpl_path, err);
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
        return strncmp(err, "line ", 5) ? perr("%s: %s", o->phones_path, err)
                                        : perr("%s:%s", o->phones_path, err + 5);
    }
    int bad = check_columns(*csv, names, o->phones_path);
    json_decref(names);
    if (!bad && (*csv)->nrecords == 0)
        bad = perr("%s: no phones: only the header row", o->phones_path);
    return bad ? 1 : 0;
}

int cli_provision(int argc, char **argv)
{
    struct opts o;
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
        perr("out of memory");
        goto out;
    }
    for (size_t i = 0; i < r.nphones; i++)
        make_phone(&r.phone[i], csv, &csv->record[i], tmpl);
    mark_duplicates(r.phone, r.nphones);
    if (o.receipts_path) {
        int fd = open(o.receipts_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        r.receipts = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!r.receipts) {
            perr("--receipts %s: %s", o.receipts_path, strerror(errno));
            if (fd >= 0)
                close(fd);
            goto out;
        }
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        perr("libcurl could not start");
        goto out;
    }
    pthread_mutex_init(&r.mu, NULL);
    rc = run_all(&r);
    pthread_mutex_destroy(&r.mu);
    curl_global_cleanup();
out:
    if (r.receipts && fclose(r.receipts) != 0 && rc == 0)
        rc = perr("--receipts %s: %s", o.receipts_path, strerror(errno));
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

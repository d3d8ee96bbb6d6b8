/* http_gate: what every request goes through before it is answered (see
 * http.c's head for the order): Host, the page or the API, authentication,
 * the canonical path, the route, cross-site writes, the body's type and
 * size, and the query parameters a route takes. */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "text.h"

/* ---- following flash ----
 *
 * The CLI (sipcfg import, passwd) may commit to the image while the daemon
 * runs: before any API request is judged, api/'s hook (api_follow_flash)
 * reloads what flash holds when another process committed, so the request
 * is judged, authentication included, against what flash says. */
static void follow_flash(struct http *h)
{
    if (h->before_api)
        h->before_api(h->app);
}

/* ---- the gate ---- */

static bool host_allowed(struct http *h, const char *host, bool *bad)
{
    *bad = false;
    char name[256];
    size_t len = strlen(host);
    if (len == 0 || len >= sizeof name) {
        *bad = true;
        return false;
    }
    const char *port = NULL;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (!end) { *bad = true; return false; }
        size_t n = (size_t)(end - host - 1);
        memcpy(name, host + 1, n);
        name[n] = '\0';
        if (end[1] == ':') port = end + 2;
        else if (end[1]) { *bad = true; return false; }
        struct in6_addr a6;
        if (inet_pton(AF_INET6, name, &a6) != 1) { *bad = true; return false; }
    } else {
        const char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':')) { *bad = true; return false; }
        size_t n = colon ? (size_t)(colon - host) : len;
        memcpy(name, host, n);
        name[n] = '\0';
        if (colon) port = colon + 1;
    }
    if (port) {
        size_t pl = strlen(port);
        if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl || strtoul(port, NULL, 10) > 65535) {
            *bad = true;
            return false;
        }
    }
    if (host[0] == '[') return true;
    struct in_addr a4;
    if (inet_pton(AF_INET, name, &a4) == 1) return true;
    if (!strcasecmp(name, "localhost")) return true;
    for (size_t i = 0; i < h->n_allow_hosts; i++)
        if (!strcasecmp(name, h->allow_hosts[i])) return true;
    return false;
}

/* A canonical API path: [A-Za-z0-9/_.-] only, no empty, "." or ".." segment. */
static bool path_canonical(const char *p)
{
    if (p[0] != '/') return false;
    for (const char *s = p; *s; s++) {
        char ch = *s;
        bool okc = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '/' || ch == '_' || ch == '.' || ch == '-';
        if (!okc) return false;
        if (ch == '/') {
            const char *seg = s + 1;
            size_t n = strcspn(seg, "/");
            if (n == 0 && seg[0] == '/') return false;                 /* "//" */
            if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
                return false;                                          /* "/./", "/../" */
        }
    }
    return true;
}

static bool unsafe_method(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* A cross-site write never passes, whatever authenticated it (defence in
 * depth besides SameSite, CSRF tokens and the JSON-only rule). */
static bool cross_site(struct req *rq)
{
    const char *site = req_header(rq, "Sec-Fetch-Site");
    if (site && !strcasecmp(site, "cross-site")) return true;
    const char *origin = req_header(rq, "Origin");
    if (!origin) return false;
    const char *host = req_header(rq, "Host");
    if (!host) return true;
    char want[300];
    snprintf(want, sizeof want, "%s://%s", rq->h->tls ? "https" : "http", host);
    return strcasecmp(origin, want) != 0;
}

static bool json_content_type(const char *ct, bool merge_patch_ok)
{
    if (!ct) return false;
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    bool type_ok = (n == 16 && !strncasecmp(ct, "application/json", n)) ||
                   (merge_patch_ok && n == 28 && !strncasecmp(ct, "application/merge-patch+json", n));
    if (!type_ok) return false;
    const char *p = ct + strcspn(ct, ";");
    if (!*p) return true;
    p++;
    while (*p == ' ' || *p == '\t') p++;
    /* The only parameter we accept is the one JSON already implies. */
    if (strncasecmp(p, "charset=", 8) != 0) return false;
    p += 8;
    if (*p == '"') {
        return !strcasecmp(p, "\"utf-8\"");
    }
    size_t m = strcspn(p, " \t");
    if (m != 5 || strncasecmp(p, "utf-8", 5) != 0) return false;
    p += m;
    while (*p == ' ' || *p == '\t') p++;
    return *p == '\0';
}

/* ---- request framing (issue 7, "also wrong") ----
 * libmicrohttpd 0.9.75 hands us C strings, so a raw NUL cut a path or a Host
 * short ("/index.html\0.png" was served as /index.html), and it takes the
 * first of repeated headers (a second If-Match, which RFC 9110 joins to the
 * first as one list, was not seen). Both are refused with 400 before anything else,
 * as is a body framed two ways; a transfer coding other than chunked is 501
 * at once (it used to wait for the idle timeout). */

struct header_scan {
    const char *nul;                    /* a header whose name or value holds a NUL */
    const char *prev_key, *prev_end;    /* the previous header, and where its value ended */
    unsigned host, clen, ctype, authz, te, ifmatch;
    bool patch, ctype_other;            /* PATCH; a Content-Type we would refuse */
};

/* libmicrohttpd 0.9.75 measures names and values with strlen and turns each
 * line's CR LF (or bare LF) into NULs in place. So a value was cut by a NUL
 * of its own when the byte after its end is not NUL and is not where the
 * next header's name begins (a bare LF line end); an obsolete folded header,
 * which 0.9.75 moves about in its buffer, may read as cut too and is refused
 * as well (RFC 7230 allows that). */
static bool cut_short(const char *end, const char *next_key)
{
    return end[1] != '\0' && end + 1 != next_key;
}

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct header_scan *s = cls;
    if (!key) return MHD_YES;
    if (!s->nul && (strlen(key) != key_size || (value && strlen(value) != value_size))) s->nul = key;
    if (!s->nul && s->prev_end && cut_short(s->prev_end, key)) s->nul = s->prev_key;
    s->prev_key = key;
    s->prev_end = value ? value + strlen(value) : NULL;
    if (!strcasecmp(key, "Host")) s->host++;
    else if (!strcasecmp(key, "Content-Length")) s->clen++;
    else if (!strcasecmp(key, "Content-Type")) {
        s->ctype++;
        s->ctype_other |= !json_content_type(value, s->patch);
    }
    else if (!strcasecmp(key, "Authorization")) s->authz++;
    else if (!strcasecmp(key, "Transfer-Encoding")) s->te++;
    else if (!strcasecmp(key, "If-Match")) s->ifmatch++;
    return MHD_YES;
}

bool http_framing_ok(struct req *rq, struct resp *rs, const char *version)
{
    /* The target's bytes run up to the space before the version: a NUL
     * before that (strlen short of it) was cut off by libmicrohttpd. */
    if (rq->uri_at && version && version[0] && rq->uri_at + rq->uri_len + 1 != version) {
        resp_problem(rs, 400, NULL, "The request target contains a NUL byte.");
        return false;
    }
    struct header_scan s = {.patch = rq->method && !strcmp(rq->method, "PATCH")};
    MHD_get_connection_values_n(rq->c, MHD_HEADER_KIND, scan_header, &s);
    if (!s.nul && s.prev_end && cut_short(s.prev_end, NULL)) s.nul = s.prev_key;
    char d[128];
    if (s.nul) {
        snprintf(d, sizeof d, "The header %.40s contains a NUL byte.", s.nul);
        resp_problem(rs, 400, NULL, d);
        return false;
    }
    /* Two Content-Types that are both JSON mean the same (curl -H adds a
     * second one beside a helper's); any other pair is ambiguous. */
    const char *twice = s.host > 1 ? "Host" : s.clen > 1 ? "Content-Length"
                      : s.ctype > 1 && s.ctype_other ? "Content-Type"
                      : s.authz > 1 ? "Authorization" : s.te > 1 ? "Transfer-Encoding"
                      : s.ifmatch > 1 ? "If-Match" : NULL;
    if (twice) {
        snprintf(d, sizeof d, "The header %s is given more than once.", twice);
        resp_problem(rs, 400, NULL, d);
        return false;
    }
    const char *te = req_header(rq, "Transfer-Encoding");
    if (te && s.clen) {
        resp_problem(rs, 400, NULL, "A body framed both by Content-Length and Transfer-Encoding.");
        return false;
    }
    if (te && strcasecmp(te, "chunked") != 0) {
        resp_problem(rs, 501, NULL, "Only the chunked transfer coding is supported.");
        return false;
    }
    return true;
}

bool http_has_body(struct req *rq)
{
    if (req_header(rq, "Transfer-Encoding")) return true;
    const char *cl = req_header(rq, "Content-Length");
    return cl && strspn(cl, "0") != strlen(cl);
}

/* ---- query parameters (API.md section 3) ----
 * Each route accepts only the parameters it defines, each at most once, read
 * from the raw request target (names byte for byte, no decoding; values
 * percent-decoded here, a NUL or a broken escape refused). Anything else is a
 * 400 naming the parameter before the handler runs: a misspelt "dry_run" must
 * never commit, and "dns=skip&dns=require" has no first or last that wins. */

static bool route_defines(const struct http_route *route, const char *name, size_t n)
{
    const char *p = route->query;
    while (p && *p) {
        size_t len = strcspn(p, " ");
        if (len == n && !strncmp(p, name, n)) return true;
        p += len;
        while (*p == ' ') p++;
    }
    return false;
}

/* Percent-decodes [v, v+n) into out; false on a NUL, a broken escape or overflow. */
static bool query_decode(const char *v, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)v[i];
        if (c == '+') c = ' ';
        else if (c == '%') {
            int hi = i + 2 < n ? text_hexval(v[i + 1]) : -1;
            int lo = hi >= 0 ? text_hexval(v[i + 2]) : -1;
            if (hi < 0 || lo < 0) return false;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap) return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static bool query_check(struct req *rq, struct resp *rs)
{
    const char *q = rq->raw ? strchr(rq->raw, '?') : NULL;
    rq->nq = 0;
    if (!q) return true;
    q++;
    char detail[192], shown[48];
    while (*q) {
        size_t seg = strcspn(q, "&");
        size_t nlen = strcspn(q, "=&");
        if (nlen > seg) nlen = seg;
        if (seg == 0) {                  /* "a=1&&b=2", a trailing "&": nothing there */
            q++;
            continue;
        }
        /* The name as sent, printable, for the answer. */
        size_t k = 0;
        for (size_t i = 0; i < nlen && k + 4 < sizeof shown; i++)
            shown[k++] = (char)(q[i] > 0x20 && q[i] < 0x7f ? q[i] : '?');
        if (nlen > k) { memcpy(shown + k, "...", 3); k += 3; }
        shown[k] = '\0';
        const char *m = rq->route->method;
        if (!route_defines(rq->route, q, nlen)) {
            if (rq->route->query)
                snprintf(detail, sizeof detail, "query parameter '%s' is not defined for %s %s "
                         "(it takes: %s); nothing was done.", shown, m, rq->route->pattern, rq->route->query);
            else
                snprintf(detail, sizeof detail, "query parameter '%s' is not defined for %s %s "
                         "(it takes none); nothing was done.", shown, m, rq->route->pattern);
            resp_bad_parameter(rs, shown, detail);
            return false;
        }
        for (unsigned i = 0; i < rq->nq; i++) {
            if (strlen(rq->q[i].name) == nlen && !strncmp(rq->q[i].name, q, nlen)) {
                snprintf(detail, sizeof detail, "query parameter '%s' is given more than once; "
                         "nothing was done.", shown);
                resp_bad_parameter(rs, shown, detail);
                return false;
            }
        }
        if (rq->nq >= HTTP_QUERY_MAX || nlen >= sizeof rq->q[0].name) {
            resp_bad_parameter(rs, shown, "too many query parameters; nothing was done.");
            return false;
        }
        memcpy(rq->q[rq->nq].name, q, nlen);
        rq->q[rq->nq].name[nlen] = '\0';
        const char *v = nlen < seg ? q + nlen + 1 : q + seg;
        size_t vlen = (size_t)(q + seg - v);
        if (!query_decode(v, vlen, rq->q[rq->nq].value, sizeof rq->q[0].value)) {
            snprintf(detail, sizeof detail, "query parameter '%s' has a malformed value "
                     "(a NUL, a broken %%-escape, or too long); nothing was done.", shown);
            resp_bad_parameter(rs, shown, detail);
            return false;
        }
        rq->nq++;
        q += seg;
        if (*q == '&') q++;
    }
    return true;
}

bool http_gate(struct req *rq, struct resp *rs, bool *is_asset)
{
    struct http *h = rq->h;
    *is_asset = false;
    const char *host = req_header(rq, "Host");
    if (!host) {
        if (!rq->version || strcmp(rq->version, MHD_HTTP_VERSION_1_0) != 0) {
            resp_problem(rs, 400, NULL, "HTTP/1.1 requires a Host header.");
            return false;
        }
    } else {
        bool bad;
        if (!host_allowed(h, host, &bad)) {
            if (bad) resp_problem(rs, 400, NULL, "The Host header is malformed.");
            else resp_problem(rs, 421, NULL, "This device does not answer to that host name "
                                  "(start sipcfgd with --allow-host NAME to allow it).");
            return false;
        }
    }
    if (rq->path[0] != '/') {           /* too long, or not origin-form ("*", absolute URI) */
        resp_problem(rs, 404, NULL, "No such page.");
        return false;
    }
    if (strncmp(rq->path, "/api/", 5) != 0) {
        *is_asset = true;
        return false;
    }

    /* The API. The public route is found first only to skip authentication
     * for it; nothing is told about other paths before authentication. */
    bool canonical = path_canonical(rq->path);
    const char *sub = NULL;
    if (canonical && !strncmp(rq->path, "/api/v1/", 8)) sub = rq->path + 7;
    const struct http_route *route = NULL;
    char allow[96] = "";
    int rc = sub ? http_route_find(h->routes, rq->method, sub, &route, allow, sizeof allow) : -ENOENT;
    bool public_route = rc == 0 && route && (route->flags & HTTP_ROUTE_PUBLIC);
    follow_flash(h);
    if (!public_route && auth_request(h->auth, rq, rs) != 0) return false;
    if (!sub || rc == -ENOENT) {
        resp_problem(rs, 404, NULL, "No such resource.");
        return false;
    }
    if (rc != 0) {
        resp_problem(rs, 405, NULL, "This resource does not support that method.");
        resp_header(rs, "Allow", allow);
        return false;
    }
    rq->api_path = sub;
    rq->route = route;
    if (!query_check(rq, rs)) return false;
    if (unsafe_method(rq->method) && cross_site(rq)) {
        resp_problem(rs, 403, NULL, "Cross-site requests may not change anything.");
        return false;
    }
    if (http_has_body(rq)) {
        if (!json_content_type(req_header(rq, "Content-Type"), !strcmp(rq->method, "PATCH"))) {
            resp_problem(rs, 415, NULL, !strcmp(rq->method, "PATCH")
                                 ? "The body must be application/json or application/merge-patch+json."
                                 : "The body must be application/json.");
            return false;
        }
        const char *cl = req_header(rq, "Content-Length");
        if (cl) {
            errno = 0;
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > HTTP_BODY_MAX) {
                resp_problem(rs, 413, NULL, "The body is larger than 64 KiB.");
                return false;
            }
        }
    }
    return true;
}

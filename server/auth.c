/* auth: digest and session authentication, CSRF, login rate limit (auth.h). */
#include "auth.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/sha2.h>

#include "admin.h"
#include "config.h"

struct auth {
    struct session_table *sessions;
    struct login_limiter *limiter;
    struct nonce_table *nonces;
    auth_ha1_fn ha1;                  /* where the admin's HA1 comes from (api/) */
    void *ha1_arg;
};

void auth_set_ha1_source(struct auth *a, auth_ha1_fn fn, void *arg)
{
    a->ha1 = fn;
    a->ha1_arg = arg;
}

int auth_new(session_clock now, void *clock_arg, struct auth **out)
{
    struct auth *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int rc = session_table_new(now, clock_arg, &a->sessions);
    if (!rc) rc = login_limiter_new(now, clock_arg, &a->limiter);
    if (!rc) rc = nonce_table_new(now, clock_arg, &a->nonces);
    if (rc) {
        auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void auth_free(struct auth *a)
{
    if (!a) return;
    session_table_free(a->sessions);
    login_limiter_free(a->limiter);
    nonce_table_free(a->nonces);
    free(a);
}

const char *auth_cookie_name(bool tls)
{
    return tls ? AUTH_COOKIE_TLS : AUTH_COOKIE_PLAIN;
}

void auth_login_failed(struct auth *a, const char *ip) { login_limiter_fail(a->limiter, ip); }
void auth_login_succeeded(struct auth *a, const char *ip) { login_limiter_success(a->limiter, ip); }

bool auth_answer_if_locked(struct auth *a, const char *ip, struct resp *rs)
{
    unsigned wait = login_limiter_check(a->limiter, ip);
    if (!wait) return false;
    char detail[160], secs[16];
    snprintf(detail, sizeof detail,
             "Too many failed logins from this address: try again in %u seconds.", wait);
    snprintf(secs, sizeof secs, "%u", wait);
    resp_problem(rs, 429, NULL, detail);
    resp_header(rs, "Retry-After", secs);
    return true;
}

int auth_session_new(struct auth *a, char id[SESSION_ID_HEX + 1], char csrf[SESSION_ID_HEX + 1])
{
    return session_table_create(a->sessions, id, csrf);
}

void auth_session_end(struct auth *a, const char *id)
{
    if (id && *id) session_table_delete(a->sessions, id);
}

void auth_sessions_end_all(struct auth *a) { session_table_clear(a->sessions); }

void auth_cookie_header(bool tls, const char *id, char *buf, size_t n)
{
    if (id)
        snprintf(buf, n, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", auth_cookie_name(tls), id,
                 tls ? "; Secure" : "");
    else
        snprintf(buf, n, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
                 auth_cookie_name(tls), tls ? "; Secure" : "");
}

struct cookie_scan {
    const char *name;
    const char *value;
    unsigned count;
    bool nocase;
};

static enum MHD_Result scan_cookie(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct cookie_scan *s = cls;
    if (key && !(s->nocase ? strcasecmp(key, s->name) : strcmp(key, s->name))) {
        s->count++;
        s->value = value ? value : "";
    }
    return MHD_YES;
}

/* The session cookie: exactly one with the exact name, else none. libmicrohttpd
 * parses only the first Cookie header, so a request with several is treated as
 * carrying several session cookies (browsers send one). */
static const char *session_cookie(struct req *rq, unsigned *count)
{
    struct cookie_scan s = {.name = auth_cookie_name(req_is_tls(rq))};
    struct cookie_scan h = {.name = MHD_HTTP_HEADER_COOKIE, .nocase = true};
    MHD_get_connection_values(http_req_connection(rq), MHD_HEADER_KIND, scan_cookie, &h);
    MHD_get_connection_values(http_req_connection(rq), MHD_COOKIE_KIND, scan_cookie, &s);
    *count = h.count > 1 ? 2 : s.count;
    return *count == 1 ? s.value : NULL;
}

const char *auth_request_cookie(struct req *rq)
{
    unsigned n;
    return session_cookie(rq, &n);
}

static int unauthorized(struct auth *a, struct req *rq, struct resp *rs, const char *detail,
                        bool stale)
{
    resp_problem(rs, 401, NULL, detail);
    /* The page asks for no challenge: a browser shows its own password
     * dialog for any 401 that carries one, even to fetch(). */
    if (!req_header(rq, AUTH_NO_CHALLENGE_HEADER)) {
        char nonce[NONCE_HEX + 1], value[256];
        nonce_table_issue(a->nonces, nonce);
        /* The form libmicrohttpd used, which curl and browsers know. */
        snprintf(value, sizeof value,
                 "Digest realm=\"%s\",qop=\"auth\",nonce=\"%s\",opaque=\"sipcfg\",algorithm=sha-256%s",
                 ADMIN_REALM, nonce, stale ? ",stale=true" : "");
        resp_header(rs, "WWW-Authenticate", value);
    }
    return -EACCES;
}

/* ---- HTTP Digest (RFC 7616, SHA-256, qop=auth) ----
 * sipcfgd checks digest itself, with its own nonces (lib/session.c,
 * nonce_table): libmicrohttpd 0.9.75 resets a nonce's count on "nc=00000000"
 * and whenever it re-issues the same nonce (same URI, same second), so a
 * captured header could be replayed. Here a header is parsed strictly first
 * (anything but a clean RFC 7616 header is refused and counted as a failed
 * login), the nonce must be ours and fresh, the response is computed from the
 * stored HA1 and compared in constant time, and only a right response records
 * its nonce-count, which is accepted once. A wrong response changes nothing
 * but the failure count. */

#define DIGEST_CNONCE_MAX 128
#define DIGEST_URI_MAX 2048

struct digest_params {
    char username[64], realm[64], nonce[NONCE_HEX + 8], uri[DIGEST_URI_MAX], response[72],
        qop[16], nc[16], cnonce[DIGEST_CNONCE_MAX + 1], algorithm[24], opaque[64], userhash[8];
    unsigned seen;                       /* bit per field: a repeated one is refused */
};

static bool tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Parses the auth-params after "Digest ". NULL on success, else why not
 * (a short phrase for the 401's detail). */
static const char *parse_digest(const char *p, struct digest_params *d)
{
    memset(d, 0, sizeof *d);
    static const char *const names[] = {"username", "realm", "nonce", "uri", "response", "qop",
                                        "nc", "cnonce", "algorithm", "opaque", "userhash"};
    char *const dsts[] = {d->username, d->realm, d->nonce, d->uri, d->response, d->qop,
                          d->nc, d->cnonce, d->algorithm, d->opaque, d->userhash};
    const size_t caps[] = {sizeof d->username, sizeof d->realm, sizeof d->nonce, sizeof d->uri,
                           sizeof d->response, sizeof d->qop, sizeof d->nc, sizeof d->cnonce,
                           sizeof d->algorithm, sizeof d->opaque, sizeof d->userhash};
    bool first = true;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) break;
        if (!first) {
            if (*p != ',') return "parameters must be separated by commas";
            while (*p == ',' || *p == ' ' || *p == '\t') p++;
            if (!*p) break;
        }
        first = false;
        char key[16];
        size_t k = 0;
        while (tchar(*p)) {
            if (k + 1 >= sizeof key) return "unknown parameter";
            key[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p | 0x20 : *p);
            p++;
        }
        key[k] = '\0';
        while (*p == ' ' || *p == '\t') p++;
        if (k == 0 || *p != '=') return "malformed parameter";
        p++;
        while (*p == ' ' || *p == '\t') p++;
        size_t f = 0;
        while (f < sizeof names / sizeof names[0] && strcmp(key, names[f]) != 0) f++;
        if (f == sizeof names / sizeof names[0]) return "unknown parameter";
        if (d->seen & (1u << f)) return "a parameter is repeated";
        d->seen |= 1u << f;
        char *dst = dsts[f];
        size_t cap = caps[f], n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\') p++;
                if (!*p || (unsigned char)*p < 0x20 || *p == 0x7f) return "malformed quoted value";
                if (n + 1 >= cap) return f == 7 ? "cnonce is too long" : "a value is too long";
                dst[n++] = *p++;
            }
            if (*p != '"') return "unterminated quoted value";
            p++;
        } else {
            while (tchar(*p)) {
                if (n + 1 >= cap) return f == 6 ? "nc must be 8 hex digits" : "a value is too long";
                dst[n++] = *p++;
            }
        }
        dst[n] = '\0';
    }
    return NULL;
}

static void sha256_hex(const char *const *parts, size_t nparts, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    struct sha256_ctx ctx;
    uint8_t dig[SHA256_DIGEST_SIZE];
    sha256_init(&ctx);
    for (size_t i = 0; i < nparts; i++) sha256_update(&ctx, strlen(parts[i]), (const uint8_t *)parts[i]);
    sha256_digest(&ctx, sizeof dig, dig);
    for (size_t i = 0; i < sizeof dig; i++) {
        out[2 * i] = hex[dig[i] >> 4];
        out[2 * i + 1] = hex[dig[i] & 15];
    }
    out[64] = '\0';
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return s[n] == '\0';
}

/* What is wrong with a parsed header whatever the password, or NULL. */
static const char *digest_malformed(const struct req *rq, const struct digest_params *d, uint64_t *nc)
{
    static const unsigned required = 0xff;   /* username .. cnonce */
    if ((d->seen & required) != required) return "a required parameter is missing";
    if (d->algorithm[0] && strcasecmp(d->algorithm, "SHA-256") != 0)
        return "the algorithm must be SHA-256";
    if (d->userhash[0] && strcasecmp(d->userhash, "false") != 0) return "userhash is not supported";
    if (strcmp(d->qop, "auth") != 0) return "qop must be auth";
    if (strlen(d->nc) != 8 || !all_hex(d->nc, 8)) return "nc must be 8 hex digits";
    *nc = strtoull(d->nc, NULL, 16);
    if (*nc == 0) return "nc must not be 00000000";
    if (!d->cnonce[0]) return "cnonce is empty";
    if (strlen(d->response) != 64 || !all_hex(d->response, 64)) return "response must be 64 hex digits";
    /* The uri must be the request target as sent (a header made for another
     * path or query is no credential for this one). */
    if (strcmp(d->uri, http_req_target(rq)) != 0) return "uri is not this request's target";
    return NULL;
}

/* True when the response is right for the admin's HA1 (constant-time compare). */
static bool digest_response_right(const struct req *rq, const struct digest_params *d,
                                  const char *ha1_hex)
{
    char ha2[65], expect[65], lower[65];
    const char *a2[] = {req_method(rq), ":", d->uri};
    sha256_hex(a2, 3, ha2);
    const char *kd[] = {ha1_hex, ":", d->nonce, ":", d->nc, ":", d->cnonce, ":", d->qop, ":", ha2};
    sha256_hex(kd, 11, expect);
    for (size_t i = 0; i < 65; i++)
        lower[i] = (char)(d->response[i] >= 'A' && d->response[i] <= 'F' ? d->response[i] | 0x20
                                                                          : d->response[i]);
    bool right = session_token_equal(lower, expect);
    explicit_bzero(expect, sizeof expect);
    return right;
}

static int check_digest(struct auth *a, struct req *rq, struct resp *rs)
{
    const char *ip = req_client_ip(rq);
    if (auth_answer_if_locked(a, ip, rs)) return -EACCES;
    const char *authz = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    if (strncasecmp(authz, "Digest ", 7) != 0)
        return unauthorized(a, rq, rs, "Use HTTP Digest (SHA-256) or log in with POST /api/v1/session.",
                            false);
    struct digest_params *d = malloc(sizeof *d);
    if (!d) {
        resp_problem(rs, 500, NULL, "out of memory");
        return -ENOMEM;
    }
    uint64_t nc = 0;
    const char *bad = parse_digest(authz + 7, d);
    if (!bad) bad = digest_malformed(rq, d, &nc);
    if (bad) {
        /* No client sends this by mistake: count it, so that malformed
         * headers buy nothing either. */
        char detail[128];
        snprintf(detail, sizeof detail, "The Authorization header is malformed: %s.", bad);
        explicit_bzero(d, sizeof *d);
        free(d);
        auth_login_failed(a, ip);
        return unauthorized(a, rq, rs, detail, false);
    }
    int rc;
    struct nonce_ref ref;
    if (nonce_table_valid(a->nonces, d->nonce, &ref) != 0) {
        /* Not ours, expired, or from before a restart: no password check at all. */
        explicit_bzero(d, sizeof *d);
        free(d);
        return unauthorized(a, rq, rs, "The nonce is stale or unknown: authenticate again.", true);
    }
    char hex[ADMIN_HA1_HEX + 1] = "";
    if (a->ha1)
        a->ha1(a->ha1_arg, hex);
    if (!hex[0]) {
        explicit_bzero(d, sizeof *d);
        free(d);
        return unauthorized(a, rq, rs, "No admin password is set.", false);
    }
    /* All three are computed, whatever the first says (no early exit to time). */
    bool user_ok = session_token_equal(d->username, ADMIN_USER);
    bool realm_ok = session_token_equal(d->realm, ADMIN_REALM);
    bool response_ok = digest_response_right(rq, d, hex);
    bool right = user_ok && realm_ok && response_ok;
    explicit_bzero(hex, sizeof hex);
    if (!right) {
        explicit_bzero(d, sizeof *d);
        free(d);
        /* Credentials were sent and were wrong (user, password or a forged response). */
        auth_login_failed(a, ip);
        return unauthorized(a, rq, rs, "Wrong user name or password.", false);
    }
    rc = nonce_table_use(a->nonces, &ref, nc);
    explicit_bzero(d, sizeof *d);
    free(d);
    /* A replay of a right header (curl or a browser retrying, someone on the
     * admin's NAT): neither a failed login, which would let it lock the
     * admin's address out, nor a success, which would clear the failures of
     * whoever replays it and trust their address. A new challenge with
     * stale=true lets an honest client answer it at once. */
    if (rc == -EALREADY)
        return unauthorized(a, rq, rs, "This nonce-count was already used (a replay?): authenticate again.",
                            true);
    if (rc)
        return unauthorized(a, rq, rs, "The nonce is stale or unknown: authenticate again.", true);
    auth_login_succeeded(a, ip);
    http_req_set_auth(rq, false, NULL);
    return 0;
}

int auth_request(struct auth *a, struct req *rq, struct resp *rs)
{
    if (req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION)) return check_digest(a, rq, rs);

    unsigned count = 0;
    const char *sid = session_cookie(rq, &count);
    if (count > 1)
        return unauthorized(a, rq, rs, "More than one session cookie was sent.", false);
    if (!sid)
        return unauthorized(a, rq, rs, "Authentication required: HTTP Digest, or log in with "
                                    "POST /api/v1/session.", false);
    char csrf[SESSION_ID_HEX + 1];
    if (session_table_lookup(a->sessions, sid, csrf))
        return unauthorized(a, rq, rs, "The session has ended: log in again.", false);
    http_req_set_auth(rq, true, sid);
    const char *m = req_method(rq);
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0) {
        const char *token = req_header(rq, "X-CSRF-Token");
        bool good = token && session_token_equal(token, csrf);
        explicit_bzero(csrf, sizeof csrf);
        if (!good) {
            resp_problem(rs, 403, NULL, token ? "The X-CSRF-Token does not match the session."
                                             : "A write with a session needs the X-CSRF-Token header.");
            return -EACCES;
        }
    }
    explicit_bzero(csrf, sizeof csrf);
    return 0;
}

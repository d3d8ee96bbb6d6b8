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
#include "api.h"

struct auth {
    struct session_table *sessions;
    struct login_limiter *limiter;
};

int auth_new(session_clock now, void *clock_arg, struct auth **out)
{
    struct auth *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int rc = session_table_new(now, clock_arg, &a->sessions);
    if (!rc) rc = login_limiter_new(now, clock_arg, &a->limiter);
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
    api_problem(rs, 429, NULL, detail);
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

static int unauthorized(struct req *rq, struct resp *rs, const char *detail, bool stale)
{
    api_problem(rs, 401, NULL, detail);
    /* The page asks for no challenge: a browser shows its own password
     * dialog for any 401 that carries one, even to fetch(). */
    if (!req_header(rq, AUTH_NO_CHALLENGE_HEADER)) http_resp_challenge(rs, stale);
    return -EACCES;
}

/* ---- telling a wrong password from a spent nonce ----
 * libmicrohttpd 0.9.75 answers MHD_NO both for a wrong password and for a
 * nonce-count already used. The latter is common and innocent: its nonce
 * depends only on the second, method and URI, so parallel clients of one URI
 * get the same nonce and all but the first collide on nc=1. Counting those as
 * failed logins would lock out parallel automation, so when libmicrohttpd
 * refuses, the response is recomputed here from the stored HA1 (RFC 7616,
 * SHA-256, qop=auth): if it is right, the client knows the password and gets
 * a fresh (stale=true) challenge, uncounted; only a wrong response counts. */

struct digest_params {
    char username[64], realm[64], nonce[160], uri[2048], response[80], qop[16], nc[16], cnonce[160];
};

/* Parses RFC 7616 auth-params after "Digest "; false when malformed or too long. */
static bool parse_digest(const char *p, struct digest_params *d)
{
    memset(d, 0, sizeof *d);
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        char key[16];
        size_t k = 0;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
            if (k + 1 >= sizeof key) return false;
            key[k++] = (char)(*p | 0x20);
            p++;
        }
        key[k] = '\0';
        while (*p == ' ') p++;
        if (k == 0 || *p != '=') return false;
        p++;
        while (*p == ' ') p++;
        char *dst = NULL;
        size_t cap = 0;
#define FIELD(name) if (!strcmp(key, #name)) { dst = d->name; cap = sizeof d->name; }
        FIELD(username) FIELD(realm) FIELD(nonce) FIELD(uri) FIELD(response) FIELD(qop) FIELD(nc)
        FIELD(cnonce)
#undef FIELD
        size_t n = 0;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) p++;
                if (dst) {
                    if (n + 1 >= cap) return false;
                    dst[n++] = *p;
                }
                p++;
            }
            if (*p != '"') return false;
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ' && *p != '\t') {
                if (dst) {
                    if (n + 1 >= cap) return false;
                    dst[n++] = *p;
                }
                p++;
            }
        }
        if (dst) dst[n] = '\0';
    }
    return true;
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

/* True when the Authorization header carries the right response for the
 * admin's HA1 (whatever libmicrohttpd thought of its nonce). */
static bool digest_response_right(struct req *rq, const char *authz, const char *ha1_hex)
{
    struct digest_params *d = malloc(sizeof *d);
    if (!d) return false;
    bool right = false;
    if (parse_digest(authz + 7, d) && !strcmp(d->username, ADMIN_USER) && !strcmp(d->realm, ADMIN_REALM) &&
        !strcasecmp(d->qop, "auth") && d->nonce[0] && d->nc[0] && d->cnonce[0] && d->uri[0] &&
        strlen(d->response) == 64) {
        char ha2[65], expect[65];
        const char *a2[] = {req_method(rq), ":", d->uri};
        sha256_hex(a2, 3, ha2);
        const char *kd[] = {ha1_hex, ":", d->nonce, ":", d->nc, ":", d->cnonce, ":", d->qop, ":", ha2};
        sha256_hex(kd, 11, expect);
        char lower[65];
        for (size_t i = 0; i < 65; i++)
            lower[i] = (char)(d->response[i] >= 'A' && d->response[i] <= 'F' ? d->response[i] | 0x20
                                                                              : d->response[i]);
        right = session_token_equal(lower, expect);
    }
    explicit_bzero(d, sizeof *d);
    free(d);
    return right;
}

static int check_digest(struct app *app, struct req *rq, struct resp *rs)
{
    struct auth *a = app->auth;
    const char *ip = req_client_ip(rq);
    if (auth_answer_if_locked(a, ip, rs)) return -EACCES;
    const char *authz = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    if (strncasecmp(authz, "Digest ", 7) != 0)
        return unauthorized(rq, rs, "Use HTTP Digest (SHA-256) or log in with POST /api/v1/session.",
                            false);
    uint8_t ha1[32];
    char hex[ADMIN_HA1_HEX + 1];
    pthread_mutex_lock(&app->lock);
    snprintf(hex, sizeof hex, "%s", app->cfg->admin_ha1);
    pthread_mutex_unlock(&app->lock);
    bool have = hex[0] && admin_hex_to_bin(hex, ha1) == 0;
    if (!have) {
        explicit_bzero(hex, sizeof hex);
        return unauthorized(rq, rs, "No admin password is set.", false);
    }
    int r = MHD_digest_auth_check_digest2(http_req_connection(rq), ADMIN_REALM, ADMIN_USER, ha1,
                                          sizeof ha1, AUTH_NONCE_TIMEOUT_S, MHD_DIGEST_ALG_SHA256);
    explicit_bzero(ha1, sizeof ha1);
    bool right = r != MHD_YES && r != MHD_INVALID_NONCE && digest_response_right(rq, authz, hex);
    explicit_bzero(hex, sizeof hex);
    if (r == MHD_YES) {
        http_req_set_auth(rq, false, NULL);
        return 0;
    }
    if (r == MHD_INVALID_NONCE || right)
        return unauthorized(rq, rs, "The nonce is stale, unknown or already used: authenticate again.",
                            true);
    /* Credentials were sent and were wrong (user, password or a forged response). */
    auth_login_failed(a, ip);
    return unauthorized(rq, rs, "Wrong user name or password.", false);
}

int auth_request(struct app *app, struct req *rq, struct resp *rs)
{
    if (req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION)) return check_digest(app, rq, rs);

    unsigned count = 0;
    const char *sid = session_cookie(rq, &count);
    if (count > 1)
        return unauthorized(rq, rs, "More than one session cookie was sent.", false);
    if (!sid)
        return unauthorized(rq, rs, "Authentication required: HTTP Digest, or log in with "
                                    "POST /api/v1/session.", false);
    char csrf[SESSION_ID_HEX + 1];
    if (session_table_lookup(app->auth->sessions, sid, csrf))
        return unauthorized(rq, rs, "The session has ended: log in again.", false);
    http_req_set_auth(rq, true, sid);
    const char *m = req_method(rq);
    if (strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0) {
        const char *token = req_header(rq, "X-CSRF-Token");
        bool good = token && session_token_equal(token, csrf);
        explicit_bzero(csrf, sizeof csrf);
        if (!good) {
            api_problem(rs, 403, NULL, token ? "The X-CSRF-Token does not match the session."
                                             : "A write with a session needs the X-CSRF-Token header.");
            return -EACCES;
        }
    }
    explicit_bzero(csrf, sizeof csrf);
    return 0;
}

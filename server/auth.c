/* auth: digest and session authentication, CSRF, login rate limit (auth.h). */
#include "auth.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

unsigned auth_login_locked(struct auth *a, const char *ip) { return login_limiter_check(a->limiter, ip); }
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

static int check_digest(struct app *app, struct req *rq, struct resp *rs)
{
    struct auth *a = app->auth;
    const char *ip = req_client_ip(rq);
    if (auth_answer_if_locked(a, ip, rs)) return -EACCES;
    const char *authz = req_header(rq, MHD_HTTP_HEADER_AUTHORIZATION);
    if (strncasecmp(authz, "Digest ", 7))
        return unauthorized(rq, rs, "Use HTTP Digest (SHA-256) or log in with POST /api/v1/session.",
                            false);
    uint8_t ha1[32];
    char hex[ADMIN_HA1_HEX + 1];
    pthread_mutex_lock(&app->lock);
    snprintf(hex, sizeof hex, "%s", app->cfg->admin_ha1);
    pthread_mutex_unlock(&app->lock);
    bool have = hex[0] && admin_hex_to_bin(hex, ha1) == 0;
    explicit_bzero(hex, sizeof hex);
    if (!have) return unauthorized(rq, rs, "No admin password is set.", false);
    int r = MHD_digest_auth_check_digest2(http_req_connection(rq), ADMIN_REALM, ADMIN_USER, ha1,
                                          sizeof ha1, AUTH_NONCE_TIMEOUT_S, MHD_DIGEST_ALG_SHA256);
    explicit_bzero(ha1, sizeof ha1);
    if (r == MHD_YES) {
        http_req_set_auth(rq, false, NULL);
        return 0;
    }
    if (r == MHD_INVALID_NONCE)
        return unauthorized(rq, rs, "The nonce is stale or unknown: authenticate again.", true);
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
    if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "OPTIONS")) {
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

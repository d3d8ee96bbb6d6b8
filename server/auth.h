/* auth: who may use the API (API.md section 5). HTTP Digest (RFC 7616,
 * SHA-256, realm "sipcfg", user "admin") against the stored HA1 for
 * automation; session cookies with a CSRF token for the page; a per-address
 * login rate limit. The tables live in lib/session.c (pure, unit-tested);
 * this module ties them to requests. The session handlers themselves
 * (POST/DELETE /session, PUT /admin/password) are in api/session.c and are
 * declared in api/api.h. */
#ifndef SIPCFG_AUTH_H
#define SIPCFG_AUTH_H
#include <stdbool.h>
#include "http.h"
#include "session.h"

#define AUTH_NONCE_TIMEOUT_S 300
/* The session cookie: "__Host-sid" over TLS (the browser then insists on
 * Secure, Path=/ and no Domain), "sid" over plain HTTP (where __Host- is refused). */
#define AUTH_COOKIE_TLS "__Host-sid"
#define AUTH_COOKIE_PLAIN "sid"
/* Requests carrying this header (any value; the page sends "sipcfg") get a 401
 * without WWW-Authenticate, so a browser never shows its own password dialog. */
#define AUTH_NO_CHALLENGE_HEADER "X-Requested-With"

struct auth;

/* Writes the admin's HA1 (ADMIN_HA1_HEX lower-case hex digits, "" when none
 * is set) into out[65]; api/ provides it (api_admin_ha1) over its state. */
typedef void (*auth_ha1_fn)(void *arg, char out[65]);

/* now: NULL = CLOCK_MONOTONIC (tests may inject a clock). */
int auth_new(session_clock now, void *clock_arg, struct auth **out);
void auth_free(struct auth *a);
/* Where digest authentication reads the admin's HA1. */
void auth_set_ha1_source(struct auth *a, auth_ha1_fn fn, void *arg);

/* For every API request but the public POST /session, before routing:
 * 0 = authenticated (req_by_session/req_session_id tell how); otherwise rs
 * holds the answer (401 with or without a digest challenge, 403 for a missing
 * or wrong X-CSRF-Token on a cookie-authenticated write, 429 while the
 * address is locked) and -EACCES is returned. */
int auth_request(struct auth *a, struct req *rq, struct resp *rs);

const char *auth_cookie_name(bool tls);

/* Login bookkeeping for api/session.c. */
void auth_login_failed(struct auth *a, const char *ip);
void auth_login_succeeded(struct auth *a, const char *ip);
/* Answers 429 with Retry-After when ip is locked; returns true then. */
bool auth_answer_if_locked(struct auth *a, const char *ip, struct resp *rs);
int auth_session_new(struct auth *a, char id[SESSION_ID_HEX + 1], char csrf[SESSION_ID_HEX + 1]);
void auth_session_end(struct auth *a, const char *id);
void auth_sessions_end_all(struct auth *a);
/* The session id a request's cookie names (valid or not), or NULL; for
 * ending a stale session at re-login. */
const char *auth_request_cookie(struct req *rq);
/* The Set-Cookie value that installs (id) or removes (id NULL) the cookie. */
void auth_cookie_header(bool tls, const char *id, char *buf, size_t n);

/* ---- Provided by http.c for auth.c only (server-internal) ---- */
struct MHD_Connection;
struct MHD_Connection *http_req_connection(const struct req *rq);
void http_req_set_auth(struct req *rq, bool by_session, const char *sid);
/* The request target as sent (path and query, undecoded): a digest uri must equal it. */
const char *http_req_target(const struct req *rq);

#endif

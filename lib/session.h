/* session: the daemon's browser sessions and its login rate limiter
 * (API.md section 5), as pure logic with an injectable clock, so unit tests
 * need neither libmicrohttpd nor sleeping. Everything lives in RAM: a reboot
 * ends every session and forgets every counter (no flash wear). Both tables
 * are thread-safe (one mutex each). */
#ifndef SIPCFG_SESSION_H
#define SIPCFG_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SESSION_ID_HEX 64              /* 256 random bits as lower-case hex */
#define SESSION_IDLE_S 1800            /* idle timeout, renewed on every use */
#define SESSION_ABSOLUTE_S (12 * 3600L) /* absolute limit from login */
#define SESSION_MAX 32                 /* the least recently used is evicted */

#define LOGIN_MAX_FAILURES 5           /* failures from one address ... */
#define LOGIN_WINDOW_S 60              /* ... within this many seconds lock it */
#define LOGIN_ADDR_MAX 64              /* addresses tracked (oldest forgotten) */
#define LOGIN_ADDR_LEN 64              /* "2001:db8::1" fits easily */
/* The global ceiling: failed password checks across all addresses, as two
 * token buckets refilled every second. Addresses that failed recently (in
 * the table, or remembered in a hashed bitmap after the table forgot them)
 * share one; addresses that never failed share the other, so an attack from
 * any number of failing addresses leaves clean addresses a budget of their
 * own. A check is refused (429, Retry-After: 1) while its bucket is empty;
 * only a failure takes a token, a right password never does. An attacker
 * with a fresh address per guess can still drain the clean bucket, so the
 * addresses that logged in successfully last (LOGIN_TRUSTED_MAX) skip the
 * global buckets: the admin's own address is never locked out by others,
 * only by its own LOGIN_MAX_FAILURES. */
#define LOGIN_SUSPECT_RATE 5           /* failures per second, refill */
#define LOGIN_SUSPECT_BURST 20
#define LOGIN_CLEAN_RATE 2
#define LOGIN_CLEAN_BURST 10
#define LOGIN_TRUSTED_MAX 8            /* addresses of the latest successful logins */
#define LOGIN_SEEN_BITS 8192           /* per generation; two generations of LOGIN_WINDOW_S */

/* Seconds of a monotonic clock; NULL = CLOCK_MONOTONIC. */
typedef int64_t (*session_clock)(void *arg);

struct session_table;

int session_table_new(session_clock now, void *clock_arg, struct session_table **out);
void session_table_free(struct session_table *t);

/* A new session with fresh random id and CSRF token (SESSION_ID_HEX + NUL each).
 * Evicts the least recently used session when the table is full. 0 or -errno. */
int session_table_create(struct session_table *t, char id[SESSION_ID_HEX + 1],
                   char csrf[SESSION_ID_HEX + 1]);
/* Finds a live session by id (constant time over the table) and renews its
 * idle timer; copies its CSRF token when csrf is not NULL. 0 or -ENOENT
 * (unknown, malformed, idle too long or past the absolute limit). */
int session_table_lookup(struct session_table *t, const char *id, char csrf[SESSION_ID_HEX + 1]);
int session_table_delete(struct session_table *t, const char *id);   /* 0 or -ENOENT */
void session_table_clear(struct session_table *t);                    /* ends every session */
size_t session_table_count(struct session_table *t);                  /* live sessions */

/* Constant-time equality of two strings (time depends only on the lengths). */
bool session_token_equal(const char *a, const char *b);

struct login_limiter;

int login_limiter_new(session_clock now, void *clock_arg, struct login_limiter **out);
void login_limiter_free(struct login_limiter *l);
/* 0 when addr may try to log in; otherwise the seconds until it may (>= 1):
 * LOGIN_MAX_FAILURES failures within LOGIN_WINDOW_S lock the address until
 * the oldest of them is LOGIN_WINDOW_S old (a sliding window); and while the
 * global bucket of its kind (recently failed or clean) is empty, 1, unless
 * the address is among the latest to log in successfully. */
unsigned login_limiter_check(struct login_limiter *l, const char *addr);
void login_limiter_fail(struct login_limiter *l, const char *addr);
/* A successful login forgets the address's failures and trusts the address. */
void login_limiter_success(struct login_limiter *l, const char *addr);

/* ---- digest nonces (RFC 7616) ----
 * sipcfgd issues and checks its own nonces instead of libmicrohttpd 0.9.75's,
 * whose nonce-count table is reset by "nc=00000000" and by every re-issued
 * challenge, so a captured Authorization header could be replayed.
 * A nonce is "TTTTTTTT SSSSSSSSSSSSSSSS MAC" as 88 lower-case hex characters:
 * the issue time (seconds of the clock), a sequence number unique per issue,
 * and HMAC-SHA256 over both with a per-process random key. Issuing keeps no
 * state; a nonce-count is recorded only once a request with a right response
 * uses the nonce, and a count is accepted once only. When the table of used
 * nonces is full, the oldest is forgotten and every nonce issued before it is
 * refused as stale from then on, so forgetting never re-opens a replay. */
#define NONCE_HEX 88
#define NONCE_LIFETIME_S 300
#define NONCE_USED_MAX 256

struct nonce_table;

int nonce_table_new(session_clock now, void *clock_arg, struct nonce_table **out);
void nonce_table_free(struct nonce_table *t);
/* A fresh nonce (NONCE_HEX characters and a NUL). */
void nonce_table_issue(struct nonce_table *t, char out[NONCE_HEX + 1]);
/* What nonce_table_valid learnt of a nonce: nonce_table_use takes it, so
 * the nonce's MAC is computed once per request. */
struct nonce_ref {
    uint64_t seq;
    int64_t issued;
};
/* 0 when the nonce is one of ours and not expired (nothing is recorded),
 * and *ref (if not NULL) names it; -ESTALE otherwise (expired, forged, from
 * an earlier run, or forgotten). */
int nonce_table_valid(struct nonce_table *t, const char *nonce, struct nonce_ref *ref);
/* Records the use of (the nonce ref names, nc), nc >= 1, for a request
 * whose response was right: 0 the first time; -EALREADY when that count was
 * used before (a replay); -ESTALE when the nonce expired or was forgotten
 * since nonce_table_valid. */
int nonce_table_use(struct nonce_table *t, const struct nonce_ref *ref, uint64_t nc);

#endif

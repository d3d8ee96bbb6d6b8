/* session: browser sessions and the login rate limiter (see session.h). */
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct session {
    bool used;
    char id[SESSION_ID_HEX + 1];
    char csrf[SESSION_ID_HEX + 1];
    int64_t created;
    int64_t last_used;
};

struct session_table {
    pthread_mutex_t lock;
    session_clock now;
    void *clock_arg;
    struct session s[SESSION_MAX];
};

struct login_addr {
    bool used;
    char addr[LOGIN_ADDR_LEN];
    unsigned n;                              /* failures recorded (<= LOGIN_MAX_FAILURES) */
    unsigned head;                           /* next slot of the ring */
    int64_t fail_at[LOGIN_MAX_FAILURES];     /* the newest failures, a ring */
    int64_t last;                            /* newest failure, for eviction */
};

struct login_limiter {
    pthread_mutex_t lock;
    session_clock now;
    void *clock_arg;
    struct login_addr a[LOGIN_ADDR_MAX];
};

static int64_t monotonic_now(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static int64_t clock_of(session_clock fn, void *arg)
{
    return fn ? fn(arg) : monotonic_now(arg);
}

bool session_token_equal(const char *a, const char *b)
{
    if (!a || !b) return false;
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    /* Walk the expected length whatever the input, so timing tells nothing
     * about how many leading characters matched. */
    for (size_t i = 0; i < lb; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        diff |= (unsigned char)(ca ^ (unsigned char)b[i]);
    }
    return diff == 0;
}

static int random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[64];
    if (nbytes > sizeof buf) return -EINVAL;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t r = getrandom(buf + got, nbytes - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        got += (size_t)r;
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[buf[i] >> 4];
        out[2 * i + 1] = hex[buf[i] & 15];
    }
    out[2 * nbytes] = '\0';
    explicit_bzero(buf, sizeof buf);
    return 0;
}

static bool well_formed_id(const char *id)
{
    if (!id) return false;
    size_t i;
    for (i = 0; id[i] && i <= SESSION_ID_HEX; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return false;
    return i == SESSION_ID_HEX;
}

static bool expired(const struct session *s, int64_t now)
{
    return now - s->last_used >= SESSION_IDLE_S || now - s->created >= SESSION_ABSOLUTE_S;
}

static void wipe(struct session *s)
{
    explicit_bzero(s, sizeof *s);
}

int session_table_new(session_clock now, void *clock_arg, struct session_table **out)
{
    struct session_table *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    pthread_mutex_init(&t->lock, NULL);
    t->now = now;
    t->clock_arg = clock_arg;
    *out = t;
    return 0;
}

void session_table_free(struct session_table *t)
{
    if (!t) return;
    pthread_mutex_destroy(&t->lock);
    explicit_bzero(t->s, sizeof t->s);
    free(t);
}

int session_table_create(struct session_table *t, char id[SESSION_ID_HEX + 1],
                   char csrf[SESSION_ID_HEX + 1])
{
    struct session fresh = {.used = true};
    int rc = random_hex(fresh.id, SESSION_ID_HEX / 2);
    if (!rc) rc = random_hex(fresh.csrf, SESSION_ID_HEX / 2);
    if (rc) return rc;
    pthread_mutex_lock(&t->lock);
    int64_t now = clock_of(t->now, t->clock_arg);
    fresh.created = fresh.last_used = now;
    /* A free or expired slot, else the least recently used one. */
    size_t pick = SESSION_MAX;
    for (size_t i = 0; i < SESSION_MAX; i++) {
        if (!t->s[i].used || expired(&t->s[i], now)) { pick = i; break; }
        if (pick == SESSION_MAX || t->s[i].last_used < t->s[pick].last_used) pick = i;
    }
    t->s[pick] = fresh;
    pthread_mutex_unlock(&t->lock);
    memcpy(id, fresh.id, sizeof fresh.id);
    memcpy(csrf, fresh.csrf, sizeof fresh.csrf);
    wipe(&fresh);
    return 0;
}

/* The slot of a live session with this id, or -1; expired ones are wiped. */
static int find(struct session_table *t, const char *id, int64_t now)
{
    int hit = -1;
    for (int i = 0; i < SESSION_MAX; i++) {
        struct session *s = &t->s[i];
        if (!s->used) continue;
        if (expired(s, now)) { wipe(s); continue; }
        if (session_token_equal(id, s->id)) hit = i;
    }
    return hit;
}

int session_table_lookup(struct session_table *t, const char *id, char csrf[SESSION_ID_HEX + 1])
{
    if (!well_formed_id(id)) return -ENOENT;
    pthread_mutex_lock(&t->lock);
    int64_t now = clock_of(t->now, t->clock_arg);
    int i = find(t, id, now);
    if (i >= 0) {
        t->s[i].last_used = now;
        if (csrf) memcpy(csrf, t->s[i].csrf, SESSION_ID_HEX + 1);
    }
    pthread_mutex_unlock(&t->lock);
    return i >= 0 ? 0 : -ENOENT;
}

int session_table_delete(struct session_table *t, const char *id)
{
    if (!well_formed_id(id)) return -ENOENT;
    pthread_mutex_lock(&t->lock);
    int i = find(t, id, clock_of(t->now, t->clock_arg));
    if (i >= 0) wipe(&t->s[i]);
    pthread_mutex_unlock(&t->lock);
    return i >= 0 ? 0 : -ENOENT;
}

void session_table_clear(struct session_table *t)
{
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < SESSION_MAX; i++) wipe(&t->s[i]);
    pthread_mutex_unlock(&t->lock);
}

size_t session_table_count(struct session_table *t)
{
    size_t n = 0;
    pthread_mutex_lock(&t->lock);
    int64_t now = clock_of(t->now, t->clock_arg);
    for (size_t i = 0; i < SESSION_MAX; i++) {
        if (t->s[i].used && expired(&t->s[i], now)) wipe(&t->s[i]);
        if (t->s[i].used) n++;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ---- login rate limiter ---- */

int login_limiter_new(session_clock now, void *clock_arg, struct login_limiter **out)
{
    struct login_limiter *l = calloc(1, sizeof *l);
    if (!l) return -ENOMEM;
    pthread_mutex_init(&l->lock, NULL);
    l->now = now;
    l->clock_arg = clock_arg;
    *out = l;
    return 0;
}

void login_limiter_free(struct login_limiter *l)
{
    if (!l) return;
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static struct login_addr *addr_find(struct login_limiter *l, const char *addr)
{
    for (size_t i = 0; i < LOGIN_ADDR_MAX; i++)
        if (l->a[i].used && !strncmp(l->a[i].addr, addr, LOGIN_ADDR_LEN - 1)) return &l->a[i];
    return NULL;
}

/* Seconds the address stays locked at `now`, 0 when it is not. */
static unsigned locked_for(const struct login_addr *e, int64_t now)
{
    if (e->n < LOGIN_MAX_FAILURES) return 0;
    /* The ring is full: head points at the oldest of the newest failures. */
    int64_t until = e->fail_at[e->head] + LOGIN_WINDOW_S;
    return until > now ? (unsigned)(until - now) : 0;
}

unsigned login_limiter_check(struct login_limiter *l, const char *addr)
{
    if (!addr) addr = "";
    pthread_mutex_lock(&l->lock);
    struct login_addr *e = addr_find(l, addr);
    unsigned s = e ? locked_for(e, clock_of(l->now, l->clock_arg)) : 0;
    pthread_mutex_unlock(&l->lock);
    return s;
}

void login_limiter_fail(struct login_limiter *l, const char *addr)
{
    if (!addr) addr = "";
    pthread_mutex_lock(&l->lock);
    int64_t now = clock_of(l->now, l->clock_arg);
    struct login_addr *e = addr_find(l, addr);
    if (!e) {
        /* A free slot, else the address whose newest failure is the oldest:
         * an idle entry is the cheapest to forget. */
        for (size_t i = 0; i < LOGIN_ADDR_MAX; i++) {
            struct login_addr *c = &l->a[i];
            if (!c->used) { e = c; break; }
            if (!e || c->last < e->last) e = c;
        }
        memset(e, 0, sizeof *e);
        e->used = true;
        strncpy(e->addr, addr, LOGIN_ADDR_LEN - 1);
    }
    /* While locked, further failures do not extend the lock: the window is
     * the one the client was told in Retry-After. */
    if (!locked_for(e, now)) {
        e->fail_at[e->head] = now;
        e->head = (e->head + 1) % LOGIN_MAX_FAILURES;
        if (e->n < LOGIN_MAX_FAILURES) e->n++;
    }
    e->last = now;
    pthread_mutex_unlock(&l->lock);
}

void login_limiter_success(struct login_limiter *l, const char *addr)
{
    if (!addr) addr = "";
    pthread_mutex_lock(&l->lock);
    struct login_addr *e = addr_find(l, addr);
    if (e) memset(e, 0, sizeof *e);
    pthread_mutex_unlock(&l->lock);
}

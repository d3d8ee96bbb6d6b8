/* session: browser sessions and the login rate limiter (see session.h). */
#include "session.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>

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

struct login_bucket {
    unsigned tokens, rate, burst;
    int64_t at;                              /* the second of the last refill */
};

struct login_limiter {
    pthread_mutex_t lock;
    session_clock now;
    void *clock_arg;
    struct login_addr a[LOGIN_ADDR_MAX];
    struct login_bucket suspect, clean;
    char trusted[LOGIN_TRUSTED_MAX][LOGIN_ADDR_LEN];   /* a ring, "" = free */
    unsigned trusted_next;
    uint64_t salt;
    int64_t seen_epoch;                      /* LOGIN_WINDOW_S periods since 0 */
    uint8_t seen[2][LOGIN_SEEN_BITS / 8];    /* [epoch % 2]: addresses that failed */
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
    while (getrandom(&l->salt, sizeof l->salt, 0) != (ssize_t)sizeof l->salt) {
        if (errno != EINTR) {
            int e = -errno;
            free(l);
            return e;
        }
    }
    pthread_mutex_init(&l->lock, NULL);
    l->now = now;
    l->clock_arg = clock_arg;
    int64_t t = clock_of(now, clock_arg);
    l->suspect = (struct login_bucket){LOGIN_SUSPECT_BURST, LOGIN_SUSPECT_RATE, LOGIN_SUSPECT_BURST, t};
    l->clean = (struct login_bucket){LOGIN_CLEAN_BURST, LOGIN_CLEAN_RATE, LOGIN_CLEAN_BURST, t};
    l->seen_epoch = t / LOGIN_WINDOW_S;
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

static void bucket_refill(struct login_bucket *b, int64_t now)
{
    if (now <= b->at) return;
    int64_t add = (now - b->at) * (int64_t)b->rate;
    b->tokens = add >= (int64_t)b->burst - b->tokens ? b->burst : b->tokens + (unsigned)add;
    b->at = now;
}

/* The bit of addr in the "failed recently" bitmap (salted FNV-1a, so an
 * attacker cannot aim collisions at the admin's address). */
static size_t seen_bit(const struct login_limiter *l, const char *addr)
{
    uint64_t h = 14695981039346656037ull ^ l->salt;
    for (const char *p = addr; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h ^= h >> 29;
    return (size_t)(h % LOGIN_SEEN_BITS);
}

/* Rolls the bitmap's generations: an address is remembered for one to two windows. */
static void seen_roll(struct login_limiter *l, int64_t now)
{
    int64_t epoch = now / LOGIN_WINDOW_S;
    if (epoch == l->seen_epoch) return;
    if (epoch - l->seen_epoch >= 2) memset(l->seen, 0, sizeof l->seen);
    else memset(l->seen[epoch & 1], 0, sizeof l->seen[0]);
    l->seen_epoch = epoch;
}

/* Has addr failed recently (tracked, or remembered after eviction)? */
static bool suspect(struct login_limiter *l, const char *addr, int64_t now)
{
    struct login_addr *e = addr_find(l, addr);
    if (e && e->n) return true;
    seen_roll(l, now);
    size_t b = seen_bit(l, addr);
    return ((l->seen[0][b / 8] | l->seen[1][b / 8]) >> (b % 8)) & 1;
}

static bool trusted(const struct login_limiter *l, const char *addr)
{
    for (size_t i = 0; i < LOGIN_TRUSTED_MAX; i++)
        if (l->trusted[i][0] && !strncmp(l->trusted[i], addr, LOGIN_ADDR_LEN - 1)) return true;
    return false;
}

unsigned login_limiter_check(struct login_limiter *l, const char *addr)
{
    if (!addr) addr = "";
    pthread_mutex_lock(&l->lock);
    int64_t now = clock_of(l->now, l->clock_arg);
    struct login_addr *e = addr_find(l, addr);
    unsigned s = e ? locked_for(e, now) : 0;
    if (!s && !trusted(l, addr)) {
        struct login_bucket *b = suspect(l, addr, now) ? &l->suspect : &l->clean;
        bucket_refill(b, now);
        if (!b->tokens) s = 1;
    }
    pthread_mutex_unlock(&l->lock);
    return s;
}

void login_limiter_fail(struct login_limiter *l, const char *addr)
{
    if (!addr) addr = "";
    pthread_mutex_lock(&l->lock);
    int64_t now = clock_of(l->now, l->clock_arg);
    struct login_bucket *b = suspect(l, addr, now) ? &l->suspect : &l->clean;
    bucket_refill(b, now);
    if (b->tokens) b->tokens--;
    size_t bit = seen_bit(l, addr);
    l->seen[l->seen_epoch & 1][bit / 8] |= (uint8_t)(1u << (bit % 8));
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
    if (!trusted(l, addr)) {
        strncpy(l->trusted[l->trusted_next], addr, LOGIN_ADDR_LEN - 1);
        l->trusted_next = (l->trusted_next + 1) % LOGIN_TRUSTED_MAX;
    }
    pthread_mutex_unlock(&l->lock);
}

/* ---- digest nonces ---- */

struct nonce_used {
    bool used;
    uint64_t seq;
    int64_t issued;
    uint64_t max_nc;                         /* highest count used */
    uint64_t mask;                           /* bit i: count max_nc - 1 - i was used */
};

struct nonce_table {
    pthread_mutex_t lock;
    session_clock now;
    void *clock_arg;
    uint8_t key[32];
    uint64_t next_seq;
    uint64_t floor_seq;                      /* nonces up to this one are refused unless recorded */
    struct nonce_used u[NONCE_USED_MAX];
};

int nonce_table_new(session_clock now, void *clock_arg, struct nonce_table **out)
{
    struct nonce_table *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    size_t got = 0;
    while (got < sizeof t->key) {
        ssize_t r = getrandom(t->key + got, sizeof t->key - got, 0);
        if (r < 0 && errno != EINTR) {
            int e = -errno;
            free(t);
            return e;
        }
        if (r > 0) got += (size_t)r;
    }
    pthread_mutex_init(&t->lock, NULL);
    t->now = now;
    t->clock_arg = clock_arg;
    t->next_seq = 1;
    *out = t;
    return 0;
}

void nonce_table_free(struct nonce_table *t)
{
    if (!t) return;
    pthread_mutex_destroy(&t->lock);
    explicit_bzero(t, sizeof *t);
    free(t);
}

static void hex_out(const uint8_t *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
}

/* The nonce text for (issued, seq): 8 + 16 + 64 hex characters. */
static void nonce_make(const struct nonce_table *t, uint32_t issued, uint64_t seq,
                       char out[NONCE_HEX + 1])
{
    uint8_t msg[12], mac[SHA256_DIGEST_SIZE];
    for (int i = 0; i < 4; i++) msg[i] = (uint8_t)(issued >> (24 - 8 * i));
    for (int i = 0; i < 8; i++) msg[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
    struct hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, sizeof t->key, t->key);
    hmac_sha256_update(&ctx, sizeof msg, msg);
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    explicit_bzero(&ctx, sizeof ctx);
    hex_out(msg, sizeof msg, out);
    hex_out(mac, sizeof mac, out + 2 * sizeof msg);
    out[NONCE_HEX] = '\0';
}

static bool hex_field(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

static bool nonce_fresh(int64_t issued, int64_t now)
{
    return issued <= now && now - issued <= NONCE_LIFETIME_S;
}

/* Parses and authenticates a nonce (its MAC); called with the lock held. */
static int nonce_check(struct nonce_table *t, const char *nonce, int64_t now, uint64_t *seq,
                       int64_t *issued)
{
    uint64_t ts;
    if (!nonce || strnlen(nonce, NONCE_HEX + 1) != NONCE_HEX || !hex_field(nonce, 8, &ts) ||
        !hex_field(nonce + 8, 16, seq))
        return -ESTALE;
    char expect[NONCE_HEX + 1];
    nonce_make(t, (uint32_t)ts, *seq, expect);
    bool mine = session_token_equal(nonce, expect);
    explicit_bzero(expect, sizeof expect);
    *issued = (int64_t)ts;
    return mine && nonce_fresh(*issued, now) ? 0 : -ESTALE;
}

void nonce_table_issue(struct nonce_table *t, char out[NONCE_HEX + 1])
{
    pthread_mutex_lock(&t->lock);
    int64_t now = clock_of(t->now, t->clock_arg);
    uint64_t seq = t->next_seq++;
    nonce_make(t, (uint32_t)now, seq, out);
    pthread_mutex_unlock(&t->lock);
}

int nonce_table_valid(struct nonce_table *t, const char *nonce, struct nonce_ref *ref)
{
    uint64_t seq;
    int64_t issued;
    pthread_mutex_lock(&t->lock);
    int rc = nonce_check(t, nonce, clock_of(t->now, t->clock_arg), &seq, &issued);
    if (!rc && seq <= t->floor_seq) {
        rc = -ESTALE;
        for (size_t i = 0; i < NONCE_USED_MAX; i++)
            if (t->u[i].used && t->u[i].seq == seq) rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    if (!rc && ref) *ref = (struct nonce_ref){.seq = seq, .issued = issued};
    return rc;
}

int nonce_table_use(struct nonce_table *t, const struct nonce_ref *ref, uint64_t nc)
{
    if (nc == 0) return -EALREADY;
    const uint64_t seq = ref->seq;
    const int64_t issued = ref->issued;
    pthread_mutex_lock(&t->lock);
    int64_t now = clock_of(t->now, t->clock_arg);
    /* Authenticated by nonce_table_valid; only time may have passed since. */
    int rc = nonce_fresh(issued, now) ? 0 : -ESTALE;
    struct nonce_used *e = NULL, *oldest = NULL, *free_slot = NULL;
    for (size_t i = 0; !rc && i < NONCE_USED_MAX; i++) {
        struct nonce_used *c = &t->u[i];
        if (c->used && now - c->issued > NONCE_LIFETIME_S) {
            /* expired: its nonce is refused by nonce_check anyway */
            if (c->seq > t->floor_seq) t->floor_seq = c->seq;
            memset(c, 0, sizeof *c);
        }
        if (!c->used) {
            if (!free_slot) free_slot = c;
            continue;
        }
        if (c->seq == seq) e = c;
        if (!oldest || c->seq < oldest->seq) oldest = c;
    }
    if (!rc && !e) {
        if (seq <= t->floor_seq) {
            rc = -ESTALE;                    /* forgotten: it may have been used */
        } else {
            e = free_slot;
            if (!e) {
                /* Forget the oldest; from now on nothing issued up to it is taken. */
                if (oldest->seq > t->floor_seq) t->floor_seq = oldest->seq;
                e = oldest;
                if (seq <= t->floor_seq) rc = -ESTALE;
            }
            if (!rc) *e = (struct nonce_used){.used = true, .seq = seq, .issued = issued};
        }
    }
    if (!rc) {
        if (nc > e->max_nc) {
            uint64_t shift = nc - e->max_nc;
            /* the old max becomes bit shift-1 (if it was a real count) */
            e->mask = shift >= 64 ? 0 : (e->mask << shift);
            if (e->max_nc && shift <= 64) e->mask |= (uint64_t)1 << (shift - 1);
            e->max_nc = nc;
        } else if (nc == e->max_nc || e->max_nc - nc > 64 ||
                   (e->mask & ((uint64_t)1 << (e->max_nc - nc - 1)))) {
            rc = -EALREADY;
        } else {
            e->mask |= (uint64_t)1 << (e->max_nc - nc - 1);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

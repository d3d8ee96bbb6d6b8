/* guard: deadlines and fair limits for connections (guard.h). */
#include "guard.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct gconn {
    struct gconn *prev, *next;
    struct guard *g;
    struct MHD_Connection *c;
    int fd;
    char ip[INET6_ADDRSTRLEN];
    int64_t since_ms;        /* when the request it owes us began (open or last answer) */
    bool incomplete;         /* still owes us a request (line, headers or body) */
    bool answering;          /* its answer is queued and not all sent */
    int64_t answer_ms;       /* when it was queued */
    bool reaped;             /* answered by the guard and shut down */
    bool rejected;           /* let in over the limits: its request gets 503 */
};

/* libmicrohttpd's thread only (guard.h): no lock. */
struct guard {
    bool tls;
    struct gconn *head;
    unsigned n;
    /* No deadline falls before this (INT64_MAX: none pending), so a tick
     * before it has nothing to reap and need not walk the table, which it
     * did on every pass of libmicrohttpd. Lowered whenever a deadline is set
     * (note_deadline); deadlines that move later or go leave it early, and
     * the next walk makes it exact again. */
    int64_t due_ms;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* May the guard write on x's socket? Called in libmicrohttpd's thread, so
 * libmicrohttpd is not inside a send; it must also have nothing pending of
 * its own: a queued response (an error reply of its own or our answer, maybe
 * half sent) or a "100 Continue" (sent, maybe in part, once the headers of a
 * request with Expect are in). */
static bool may_write(const struct guard *g, const struct gconn *x)
{
    if (g->tls) return false;          /* raw bytes would break the TLS stream */
    if (MHD_get_connection_info(x->c, MHD_CONNECTION_INFO_HTTP_STATUS)) return false;
    return !(MHD_get_connection_info(x->c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE) &&
             MHD_lookup_connection_value(x->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT));
}

/* Answers a short problem+json when it may (may_write), then shuts the
 * socket down: libmicrohttpd sees the end at its next pass. */
static void reap(struct guard *g, struct gconn *x, unsigned status)
{
    if (x->reaped) return;
    x->reaped = true;
    x->incomplete = x->answering = false;
    if (may_write(g, x)) {
        const char *title = status == 408 ? "Request Timeout" : "Service Unavailable";
        const char *detail = status == 408
            ? "The request was not complete within 10 seconds."
            : "Too many connections: this one was waiting longest for its request. Try again.";
        char body[256], msg[768];
        int bl = snprintf(body, sizeof body,
                          "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%u,\"detail\":\"%s\"}",
                          title, status, detail);
        int ml = snprintf(msg, sizeof msg,
                          "HTTP/1.1 %u %s\r\nConnection: close\r\nContent-Type: application/problem+json\r\n"
                          "Content-Length: %d\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
                          "Cache-Control: no-store\r\n%s\r\n%s",
                          status, title, bl, status == 503 ? "Retry-After: 1\r\n" : "", body);
        if (ml > 0 && (size_t)ml < sizeof msg)
            (void)send(x->fd, msg, (size_t)ml, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    shutdown(x->fd, SHUT_RDWR);
}

/* x's pending deadline: its request's, else its answer's; INT64_MAX for none. */
static int64_t deadline_of(const struct gconn *x)
{
    if (x->reaped) return INT64_MAX;
    if (x->incomplete) return x->since_ms + (int64_t)GUARD_DEADLINE_S * 1000;
    if (x->answering) return x->answer_ms + (int64_t)GUARD_ANSWER_S * 1000;
    return INT64_MAX;
}

/* After any change of x's deadline fields: keeps due_ms a lower bound. */
static void note_deadline(struct gconn *x)
{
    int64_t d = deadline_of(x);
    if (d < x->g->due_ms) x->g->due_ms = d;
}

int guard_tick(struct guard *g)
{
    int64_t now = now_ms();
    if (now > g->due_ms) {              /* a deadline may have passed: walk */
        int64_t due = INT64_MAX;
        for (struct gconn *x = g->head; x; x = x->next) {
            int64_t d = deadline_of(x);
            if (d == INT64_MAX) continue;
            /* A late answer is only shut down (may_write: libmicrohttpd is sending). */
            if (d < now) reap(g, x, 408);
            else if (d < due) due = d;
        }
        g->due_ms = due;
    }
    if (g->due_ms == INT64_MAX) return -1;
    /* +1: wake just past the deadline, not just before it */
    int64_t left = g->due_ms - now + 1;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

int guard_new(bool tls, struct guard **out)
{
    struct guard *g = calloc(1, sizeof *g);
    if (!g) return -ENOMEM;
    g->tls = tls;
    g->due_ms = INT64_MAX;
    *out = g;
    return 0;
}

void guard_free(struct guard *g)
{
    if (!g) return;
    while (g->head) {                   /* none left after MHD_stop_daemon; be safe */
        struct gconn *x = g->head;
        g->head = x->next;
        free(x);
    }
    free(g);
}

/* The connection to take for a newcomer (of ip, when not NULL), other than
 * self: the one that has been sending its request the longest, else the
 * slow reader whose answer has been pending the longest, else NULL. */
static struct gconn *victim(struct guard *g, const char *ip, const struct gconn *self)
{
    struct gconn *best = NULL, *slow = NULL;
    int64_t now = now_ms();
    for (struct gconn *x = g->head; x; x = x->next) {
        if (x == self || x->reaped) continue;
        if (ip && strcmp(x->ip, ip) != 0) continue;
        if (x->incomplete && (!best || x->since_ms < best->since_ms)) best = x;
        if (x->answering && now - x->answer_ms > GUARD_SLOW_MS &&
            (!slow || x->answer_ms < slow->answer_ms))
            slow = x;
    }
    return best ? best : slow;
}

static void client_ip(struct MHD_Connection *c, char *ip, size_t n)
{
    ip[0] = '\0';
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, ip, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, ip, (socklen_t)n);
}

void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                  enum MHD_ConnectionNotificationCode code)
{
    struct guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct gconn *x = *socket_context;
        if (!x) return;
        *socket_context = NULL;
        if (x->prev) x->prev->next = x->next;
        else g->head = x->next;
        if (x->next) x->next->prev = x->prev;
        g->n--;
        free(x);
        return;
    }
    struct gconn *x = calloc(1, sizeof *x);
    if (!x) return;                     /* untracked: libmicrohttpd's idle timeout still applies */
    const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    x->fd = fi ? fi->connect_fd : -1;
    x->c = c;
    x->g = g;
    if (x->fd >= 0) {
        int sb = GUARD_SNDBUF;
        (void)setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof sb);
    }
    client_ip(c, x->ip, sizeof x->ip);
    x->since_ms = now_ms();
    x->incomplete = x->fd >= 0;         /* cannot be reaped without its socket */
    note_deadline(x);
    x->next = g->head;
    if (g->head) g->head->prev = x;
    g->head = x;
    g->n++;
    unsigned same = 0;
    for (struct gconn *y = g->head; y; y = y->next)
        if (!y->reaped && !strcmp(y->ip, x->ip)) same++;
    /* Room for the newcomer: the one that has been sending its request the longest goes. */
    if (same > GUARD_PER_IP_LIMIT) {
        struct gconn *v = victim(g, x->ip, x);
        if (v) reap(g, v, 503);
        else x->rejected = true;
    }
    unsigned live = 0;
    for (struct gconn *y = g->head; y; y = y->next) live += !y->reaped;
    if (!x->rejected && live > GUARD_CONN_LIMIT) {
        struct gconn *v = victim(g, NULL, x);
        if (v) reap(g, v, 503);
        else x->rejected = true;
    }
    *socket_context = x;
}

static struct gconn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

void guard_request_received(struct MHD_Connection *c)
{
    struct gconn *x = conn_of(c);
    if (x) x->incomplete = false;
}

void guard_answer_queued(struct MHD_Connection *c)
{
    struct gconn *x = conn_of(c);
    if (x && !x->reaped) {
        x->incomplete = false;
        x->answering = true;
        x->answer_ms = now_ms();
        note_deadline(x);
    }
}

void guard_request_done(struct MHD_Connection *c)
{
    struct gconn *x = conn_of(c);
    if (x) x->answering = false;
    if (x && !x->reaped && x->fd >= 0) {
        x->incomplete = true;
        x->since_ms = now_ms();
        note_deadline(x);
    }
}

bool guard_rejected(struct MHD_Connection *c)
{
    struct gconn *x = conn_of(c);
    return x && x->rejected;
}

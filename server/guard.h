/* guard: the daemon's connection table against slowloris (issue 7.3).
 *
 * libmicrohttpd 0.9.75 restarts its idle timeout with every byte and closes
 * connections over its limits without a word, so four addresses sending a
 * header line every few seconds could hold every slot. The guard keeps its
 * own table of connections (MHD_OPTION_NOTIFY_CONNECTION) and:
 *  - gives every request a deadline, GUARD_DEADLINE_S from the moment the
 *    connection opened or its previous answer was sent, for its request
 *    line, headers and body; past it the connection gets 408 and is shut
 *    down (guard_tick, which also says when the next deadline falls);
 *  - when a new connection makes the table hold more than GUARD_CONN_LIMIT
 *    (or its address more than GUARD_PER_IP_LIMIT), closes the oldest
 *    connection that has not finished sending its request (of that address,
 *    for the per-address limit) with a 503, so the newcomer is served;
 *  - when there is no such connection (every one is being served, none is a
 *    slow reader, below), lets the
 *    newcomer in only to answer its request 503 with Retry-After, never a
 *    silent close. libmicrohttpd's own limit is set above ours
 *    (GUARD_CONN_HARD) and is reached only if even that fails.
 *
 * Every function here runs in libmicrohttpd's thread (server/http.c drives
 * libmicrohttpd from its own loop and calls guard_tick between passes), so
 * the table needs no lock, and the guard never writes while libmicrohttpd
 * is inside a send. The guard's 408/503 is written on the raw socket only
 * when libmicrohttpd has nothing of its own to send on it: no response
 * queued (libmicrohttpd's own 400/413/431 error replies, or ours, may be
 * half sent) and no interim "100 Continue" (a request with Expect whose
 * headers are in). Otherwise, and always over TLS (raw bytes would break
 * the TLS stream), the socket is only shut down. libmicrohttpd then sees
 * the end at its next pass and frees the connection. */
#ifndef SIPCFG_GUARD_H
#define SIPCFG_GUARD_H
#include <microhttpd.h>
#include <stdbool.h>

#define GUARD_CONN_LIMIT 256u
#define GUARD_PER_IP_LIMIT 64u
#define GUARD_CONN_HARD (GUARD_CONN_LIMIT + 64u)
#define GUARD_DEADLINE_S 10u
/* Slow readers (issue 7, found by attacking): a client that sends its
 * requests at once (pipelined) and reads the answers a trickle at a time is
 * past the request deadline, and libmicrohttpd's idle timeout never fires
 * while every read lets it send a little. So each connection's kernel send
 * buffer is bounded (it grew to 2 MiB on loopback: 256 slow readers held
 * half a GiB), an answer must be handed to the kernel within
 * GUARD_ANSWER_S, and when the table is full a connection whose answer has
 * been pending for GUARD_SLOW_MS is taken like one still sending its
 * request. */
#define GUARD_SNDBUF (64 * 1024)
#define GUARD_ANSWER_S 30u
#define GUARD_SLOW_MS 2000

struct guard;

/* 0 or -errno. */
int guard_new(bool tls, struct guard **out);
/* After MHD_stop_daemon (which still reports closes). */
void guard_free(struct guard *g);

/* Between two passes of libmicrohttpd: answers 408 to every connection past
 * its request deadline, shuts down every one whose answer is later than
 * GUARD_ANSWER_S. Returns the milliseconds until the next deadline (or
 * sooner, when a deadline moved later since the table was last walked:
 * the table is walked only once the earliest deadline it knew has passed),
 * -1 when there is none. */
int guard_tick(struct guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                  enum MHD_ConnectionNotificationCode code);

/* The request on c has been received completely: no deadline while it is served. */
void guard_request_received(struct MHD_Connection *c);
/* Its answer is queued: GUARD_ANSWER_S for libmicrohttpd to send it. */
void guard_answer_queued(struct MHD_Connection *c);
/* Its answer went out: the deadline starts again for the next request. */
void guard_request_done(struct MHD_Connection *c);
/* True when c was let in over the limits: answer its request 503. */
bool guard_rejected(struct MHD_Connection *c);

#endif

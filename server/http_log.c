/* http_log: libmicrohttpd's own messages, rate-limited and summarised. */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <time.h>

/* ---- libmicrohttpd's messages, rate-limited ----
 * Anyone can make libmicrohttpd log ("closed by remote side with incomplete
 * request", "reached connection limit", ...) without logging in: 95,621
 * half-sent connections once wrote 8 MB in 5 s. So its messages share a
 * token bucket (a burst of HTTP_LOG_BURST lines, then HTTP_LOG_PER_S a
 * second); what does not fit is counted and summarised as "N similar
 * messages suppressed" before the next line that is written, and at stop. */
#define HTTP_LOG_BURST 20u
#define HTTP_LOG_PER_S 2u

static struct {
    pthread_mutex_t mu;
    unsigned tokens;
    int64_t at;
    unsigned long suppressed;
    char like[96];
} log_rl = {PTHREAD_MUTEX_INITIALIZER, HTTP_LOG_BURST, 0, 0, ""};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

/* Says how many were suppressed, if any; with log_rl.mu held. */
static void log_summary_locked(void)
{
    if (!log_rl.suppressed) return;
    fprintf(stderr, "sipcfgd: libmicrohttpd: %lu similar messages suppressed (the first: %s)\n",
            log_rl.suppressed, log_rl.like);
    log_rl.suppressed = 0;
    log_rl.like[0] = '\0';
}

__attribute__((format(printf, 2, 0))) void http_on_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    pthread_mutex_lock(&log_rl.mu);
    int64_t now = mono_s();
    if (now > log_rl.at) {
        int64_t add = (now - log_rl.at) * HTTP_LOG_PER_S;
        log_rl.tokens = add >= (int64_t)(HTTP_LOG_BURST - log_rl.tokens) ? HTTP_LOG_BURST
                                                                         : log_rl.tokens + (unsigned)add;
        log_rl.at = now;
    }
    if (log_rl.tokens) {
        log_rl.tokens--;
        log_summary_locked();
        fprintf(stderr, "sipcfgd: libmicrohttpd: %s\n", msg);
    } else {
        if (!log_rl.suppressed++) {
            size_t k = n < sizeof log_rl.like - 1 ? n : sizeof log_rl.like - 1;
            memcpy(log_rl.like, msg, k);
            log_rl.like[k] = '\0';
        }
    }
    pthread_mutex_unlock(&log_rl.mu);
}

void http_log_flush(void)
{
    pthread_mutex_lock(&log_rl.mu);
    log_summary_locked();
    pthread_mutex_unlock(&log_rl.mu);
}

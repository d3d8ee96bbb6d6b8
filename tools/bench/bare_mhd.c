/* The yardstick for `make bench`: a bare libmicrohttpd responder with the
 * options sipcfgd uses (one internal epoll thread, suspend/resume, the same
 * per-connection memory pool and timeout), answering every request with the
 * same bytes sipcfgd answered (its body and headers, recorded by the bench).
 *
 * It answers on the second call of the access handler, when the request is
 * complete: libmicrohttpd 0.9.75 closes the connection after a response
 * queued on the first call (before it knows the request has no body), which
 * turns every request into a new TCP connection. The bench checks that the
 * connections stay open, for this responder and for sipcfgd alike.
 *
 * usage: bare_mhd PORT POOL_BYTES BODY_FILE HEADERS_FILE
 *   HEADERS_FILE: "Name: value" lines (CRLF or LF), Date and Content-Length excluded. */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HDR 32

static char *body;
static size_t body_len;
static char *hname[MAX_HDR], *hvalue[MAX_HDR];
static unsigned nhdr;

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int seen;
    if (!*con_cls) {                    /* headers read; wait for the end of the request */
        *con_cls = &seen;
        return MHD_YES;
    }
    if (*upload_size) {                 /* a body (the bench sends none): drop it */
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    for (unsigned i = 0; i < nhdr; i++)
        MHD_add_response_header(r, hname[i], hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n, f)) > 0)
        n += k;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static int load_headers(const char *path)
{
    size_t len;
    char *text = slurp(path, &len);
    if (!text)
        return -1;
    for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char *colon = strchr(line, ':');
        if (!colon || nhdr >= MAX_HDR)
            continue;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ')
            v++;
        hname[nhdr] = line;
        hvalue[nhdr] = v;
        nhdr++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bare_mhd PORT POOL_BYTES BODY_FILE HEADERS_FILE\n");
        return 2;
    }
    body = slurp(argv[3], &body_len);
    if (!body || load_headers(argv[4]) < 0) {
        fprintf(stderr, "bare_mhd: cannot read %s or %s\n", argv[3], argv[4]);
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)atoi(argv[1]), NULL,
        NULL, answer, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 15u,
        MHD_OPTION_CONNECTION_LIMIT, 256u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)strtoul(argv[2], NULL, 10), MHD_OPTION_END);
    if (!d)
        return 1;
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}

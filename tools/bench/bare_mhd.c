/* The yardstick for `make bench`: a bare libmicrohttpd responder in the same
 * threading mode as sipcfgd, answering every request with a fixed small JSON
 * body. sipcfgd's throughput is reported as a ratio to this one's. */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char body[] =
    "{\"line\":1,\"enabled\":true,\"label\":\"Office\",\"user\":\"1001\","
    "\"proxy\":{\"host\":\"pbx.example.com\",\"port\":null,\"transport\":\"auto\"}}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body,
                                                             MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bare_mhd PORT\n");
        return 2;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)atoi(argv[1]), NULL,
        NULL, answer, NULL, MHD_OPTION_CONNECTION_TIMEOUT, 15u, MHD_OPTION_END);
    if (!d)
        return 1;
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    return 0;
}

/* http_assets: the page's files (compiled in, or --www from disk). */
#include "http_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "www_assets.h"

enum MHD_Result http_serve_asset(struct req *rq, struct resp *rs)
{
    struct http *h = rq->h;
    const char *p = rq->path;
    if (!strcmp(p, "/")) p = "/index.html";
    /* /fields.json is generated at build time (tools/gen/fields.c), never in
     * the --www directory: always from memory. */
    bool from_disk = h->use_www_dir && strcmp(p, "/fields.json") != 0;
    const struct www_asset *a = NULL;
    for (const struct www_asset *w = from_disk ? www_dev_names : www_assets; w->path; w++)
        if (!strcmp(w->path, p)) { a = w; break; }
    if (!a) {
        resp_problem(rs, 404, NULL, "No such page.");
        return http_send_resp(rq, rs);
    }
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        resp_problem(rs, 405, NULL, "The page is read-only.");
        resp_header(rs, "Allow", "GET, HEAD");
        return http_send_resp(rq, rs);
    }
    struct MHD_Response *r = NULL;
    if (from_disk) {
        /* Development: www/'s names, read from disk. The name comes from
         * the table, never from the request. */
        char file[600];
        snprintf(file, sizeof file, "%s%s", h->www_dir, a->path);
        int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (size_t)st.st_size <= HTTP_WWW_FILE_MAX) {
            char *buf = malloc((size_t)st.st_size + 1);
            size_t got = 0;
            while (buf && got < (size_t)st.st_size) {
                ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);
                if (k <= 0) break;
                got += (size_t)k;
            }
            if (buf && got == (size_t)st.st_size)
                r = MHD_create_response_from_buffer(got, buf, MHD_RESPMEM_MUST_FREE);
            else
                free(buf);
        }
        if (fd >= 0) close(fd);
        if (!r) {
            resp_problem(rs, 404, NULL, "No such page in --www.");
            return http_send_resp(rq, rs);
        }
    } else {
        r = MHD_create_response_from_buffer(a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
    }
    if (!r) return MHD_NO;
    http_security_headers(h, r);
    MHD_add_response_header(r, "Content-Type", a->content_type);
    rq->phase = P_DONE;
    guard_answer_queued(rq->c);
    enum MHD_Result ret = MHD_queue_response(rq->c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Headers read, no body yet: everything that can be decided without the
 * body. Returns true when the request goes on to read its body and run its
 * handler; otherwise rs holds the answer. */

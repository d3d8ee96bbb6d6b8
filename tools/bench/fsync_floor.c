/* The floor under a save, for `make bench`: what any durable replacement of
 * 4 KiB costs on this file system (write, fsync, rename, fsync of the
 * directory), so that a commit's latency can be given as a multiple of it.
 * usage: fsync_floor DIR COUNT -> prints "p50_us p99_us" */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int n = atoi(argv[2]);
    if (n < 1 || n > 10000)
        return 2;
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/floor.tmp", argv[1]);
    snprintf(dst, sizeof dst, "%s/floor.dat", argv[1]);
    static char block[4096];
    double *t = calloc((size_t)n, sizeof *t);
    if (!t)
        return 1;
    for (int i = 0; i < n; i++) {
        memset(block, 'a' + i % 26, sizeof block);
        double t0 = now_us();
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, block, sizeof block) != (ssize_t)sizeof block || fsync(fd) != 0)
            return 1;
        close(fd);
        if (rename(tmp, dst) != 0)
            return 1;
        int dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) != 0)
            return 1;
        close(dfd);
        t[i] = now_us() - t0;
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("%.0f %.0f\n", t[n / 2], t[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1]);
    unlink(dst);
    free(t);
    return 0;
}

/* Test shim (THREATS A1): preloaded into sipcfgd, it records any attempt to run
 * a program (system, popen, exec*, posix_spawn*, fork) in $NOEXEC_LOG and
 * refuses it, so a test fails if anything in the process ever shells out. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void record(const char *what, const char *arg)
{
    const char *log = getenv("NOEXEC_LOG");
    if (!log)
        return;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0)
        return;
    char line[512];
    int n = snprintf(line, sizeof line, "%s(%s)\n", what, arg ? arg : "");
    if (n > 0)
        (void)!write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    close(fd);
}

int system(const char *cmd) { record("system", cmd); errno = EPERM; return -1; }
FILE *popen(const char *cmd, const char *mode) { (void)mode; record("popen", cmd); errno = EPERM; return NULL; }
int execve(const char *p, char *const a[], char *const e[]) { (void)a; (void)e; record("execve", p); errno = EPERM; return -1; }
int execv(const char *p, char *const a[]) { (void)a; record("execv", p); errno = EPERM; return -1; }
int execvp(const char *p, char *const a[]) { (void)a; record("execvp", p); errno = EPERM; return -1; }
int execvpe(const char *p, char *const a[], char *const e[]) { (void)a; (void)e; record("execvpe", p); errno = EPERM; return -1; }
int execl(const char *p, const char *a, ...) { (void)a; record("execl", p); errno = EPERM; return -1; }
int execlp(const char *p, const char *a, ...) { (void)a; record("execlp", p); errno = EPERM; return -1; }
int execle(const char *p, const char *a, ...) { (void)a; record("execle", p); errno = EPERM; return -1; }
int posix_spawn(pid_t *pid, const char *p, const posix_spawn_file_actions_t *f,
                const posix_spawnattr_t *at, char *const a[], char *const e[])
{ (void)pid; (void)f; (void)at; (void)a; (void)e; record("posix_spawn", p); return EPERM; }
int posix_spawnp(pid_t *pid, const char *p, const posix_spawn_file_actions_t *f,
                 const posix_spawnattr_t *at, char *const a[], char *const e[])
{ (void)pid; (void)f; (void)at; (void)a; (void)e; record("posix_spawnp", p); return EPERM; }
pid_t fork(void) { record("fork", ""); errno = EPERM; return -1; }

/* tmpdir: see tmpdir.h. */
#include "tmpdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[256];

int tmpdir_make(const char *prefix)
{
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/%s.XXXXXX", t && *t ? t : "/tmp", prefix);
    return mkdtemp(dir) ? 0 : -1;
}

const char *tmpdir_path(void)
{
    return dir;
}

void tmpdir_file(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

int tmpdir_remove(const char *const *names, size_t count)
{
    char path[512];
    for (size_t i = 0; i < count; i++) {
        tmpdir_file(path, sizeof(path), names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

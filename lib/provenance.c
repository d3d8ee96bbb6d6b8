/* provenance: see provenance.h. Generic over the field table: a new row of
 * line_fields gets provenance and locks without a line here. */
#include "provenance.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const source_names[] = {"default", "image", "provisioning", "api", "page"};

const char *prov_source_name(enum prov_source s)
{
    return (unsigned)s < sizeof source_names / sizeof source_names[0] ? source_names[s] : NULL;
}

int prov_source_from_name(const char *name, size_t len, enum prov_source *out)
{
    for (size_t i = 0; i < sizeof source_names / sizeof source_names[0]; i++)
        if (strlen(source_names[i]) == len && memcmp(source_names[i], name, len) == 0) {
            *out = (enum prov_source)i;
            return 0;
        }
    return -EINVAL;
}

void prov_time_format(int64_t t, char out[PROV_TIME_LEN + 1])
{
    struct tm tm;
    time_t tt = (time_t)t;
    out[0] = '\0';
    if (t > 0 && gmtime_r(&tt, &tm) && strftime(out, PROV_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != PROV_TIME_LEN)
        out[0] = '\0';
}

int prov_time_parse(const char *s, size_t len, int64_t *out)
{
    /* exactly YYYY-MM-DDTHH:MM:SSZ */
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
    if (len != PROV_TIME_LEN)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
            return -EINVAL;
    int v[6], off[6] = {0, 5, 8, 11, 14, 17}, w[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int k = 0; k < w[i]; k++)
            v[i] = v[i] * 10 + (s[off[i] + k] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60 ||
        v[0] < 1970)
        return -EINVAL;
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    time_t t = timegm(&tm);
    if (t <= 0)
        return -EINVAL;
    *out = (int64_t)t;
    return 0;
}

int prov_to_text(const struct prov *p, char *buf, size_t n)
{
    char at[PROV_TIME_LEN + 1];
    const char *src = prov_source_name((enum prov_source)p->source);
    prov_time_format(p->at, at);
    int w = snprintf(buf, n, "%s%s%s", src ? src : "default", at[0] ? " " : "", at);
    return w < 0 || (size_t)w >= n ? -ENAMETOOLONG : 0;
}

int prov_from_text(const char *s, struct prov *out)
{
    const char *sp = strchr(s, ' ');
    size_t sl = sp ? (size_t)(sp - s) : strlen(s);
    enum prov_source src;
    int64_t at = 0;
    if (prov_source_from_name(s, sl, &src) < 0)
        return -EINVAL;
    if (sp && prov_time_parse(sp + 1, strlen(sp + 1), &at) < 0)
        return -EINVAL;
    out->source = (uint8_t)src;
    out->at = at;
    return 0;
}

void prov_stamp(struct line *next, const struct line *old, enum prov_source src, int64_t now,
                bool keep_locks)
{
    for (size_t i = 0; i < line_nfields; i++) {
        if (line_field_equal(&line_fields[i], next, old))
            next->prov[i] = old->prov[i];
        else
            next->prov[i] = (struct prov){.source = (uint8_t)src, .at = now};
    }
    if (keep_locks)
        next->locked = old->locked;
    for (size_t i = 0; i < line_nfields; i++) {
        uint32_t bit = UINT32_C(1) << i;
        if (!(next->locked & bit))
            next->lock[i] = (struct prov){0};
        else if (old->locked & bit)
            next->lock[i] = old->lock[i];
        else
            next->lock[i] = (struct prov){.source = (uint8_t)src, .at = now};
    }
}

uint32_t prov_locked_changes(const struct line *old, const struct line *next)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < line_nfields; i++)
        if ((old->locked & (UINT32_C(1) << i)) && !line_field_equal(&line_fields[i], old, next))
            bits |= UINT32_C(1) << i;
    return bits;
}

/* config: see config.h. Flash keys come from the field table (line.c):
 * "lineN." + the row's key, and for a server "lineN.F.host|port|transport|resolved".
 * Reading validates every value with the checks JSON input gets, so a corrupt
 * or hand-edited image cannot bring in anything the API would have refused. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "provenance.h"
#include "hostport.h"
#include "text.h"

void config_defaults(struct config *c, unsigned nlines)
{
    memset(c, 0, sizeof *c);
    if (nlines < 1)
        nlines = 1;
    if (nlines > LINE_MAX_LINES)
        nlines = LINE_MAX_LINES;
    c->nlines = nlines;
    for (unsigned i = 0; i < LINE_MAX_LINES; i++)
        line_defaults(&c->line[i]);
}

int config_key(char *buf, size_t n, unsigned line, const char *name, const char *sub)
{
    int w = sub ? snprintf(buf, n, "line%u.%s.%s", line, name, sub)
                : snprintf(buf, n, "line%u.%s", line, name);
    return (w < 0 || (size_t)w >= n) ? -ENAMETOOLONG : 0;
}

static int set_kv(struct kv *kv, unsigned line, const char *name, const char *sub,
                  const char *value)
{
    char key[KV_KEY_MAX + 1];
    int rc = config_key(key, sizeof key, line, name, sub);
    return rc < 0 ? rc : kv_set(kv, key, value);
}

/* Decision: a server's port key is written only when a port is given (no key
 * = "not given"); its transport key is always written ("auto" included). */
static int server_to_kv(struct kv *kv, unsigned n, const struct field_desc *d,
                        const struct server *s, const char *resolved)
{
    char port[8];
    int rc;
    if (!s->set)
        return 0;
    if ((rc = set_kv(kv, n, d->key, "host", s->host)) < 0)
        return rc;
    if (s->port) {
        snprintf(port, sizeof port, "%u", (unsigned)s->port);
        if ((rc = set_kv(kv, n, d->key, "port", port)) < 0)
            return rc;
    }
    if ((rc = set_kv(kv, n, d->key, "transport", transport_name(s->transport))) < 0)
        return rc;
    if (resolved[0] && (rc = set_kv(kv, n, d->key, "resolved", resolved)) < 0)
        return rc;
    return 0;
}

/* lineN.provenance.F for a field with a known source or time, lineN.locked.F
 * for a locked one (provenance.h). */
static int prov_to_kv(struct kv *kv, unsigned n, const struct line *l)
{
    char text[PROV_TEXT_MAX];
    int rc = 0;
    for (size_t f = 0; f < line_nfields && rc == 0; f++) {
        const struct prov *p = &l->prov[f];
        if ((p->source != PROV_DEFAULT || p->at) &&
            (rc = prov_to_text(p, text, sizeof text)) == 0)
            rc = set_kv(kv, n, "provenance", line_fields[f].key, text);
        if (rc == 0 && (l->locked & (UINT32_C(1) << f)) &&
            (rc = prov_to_text(&l->lock[f], text, sizeof text)) == 0)
            rc = set_kv(kv, n, "locked", line_fields[f].key, text);
    }
    return rc;
}

/* The same from flash; a value that does not parse is reported and left out. */
static void prov_from_kv(const struct kv *kv, unsigned n, struct line *l, struct diag_list *errs)
{
    char key[KV_KEY_MAX + 1];
    for (size_t f = 0; f < line_nfields; f++) {
        static const char *const kinds[2] = {"provenance", "locked"};
        for (int k = 0; k < 2; k++) {
            const char *v = config_key(key, sizeof key, n, kinds[k], line_fields[f].key) == 0
                                ? kv_get(kv, key) : NULL;
            struct prov p;
            if (!v)
                continue;
            if (prov_from_text(v, &p) < 0) {
                diag_add(errs, key, "invalid_type",
                         "%s is not '<default|image|provisioning|api|page> <RFC 3339 UTC time>'",
                         key);
                continue;
            }
            if (k == 0) {
                l->prov[f] = p;
            } else {
                l->lock[f] = p;
                l->locked |= UINT32_C(1) << f;
            }
        }
    }
}

int config_to_kv(const struct config *c, struct kv *kv)
{
    char num[16];
    int rc = 0;
    kv_clear(kv);
    for (unsigned i = 0; i < c->nlines && i < LINE_MAX_LINES && rc == 0; i++) {
        const struct line *l = &c->line[i];
        unsigned n = i + 1;
        for (size_t f = 0; f < line_nfields && rc == 0; f++) {
            const struct field_desc *d = &line_fields[f];
            const char *p = (const char *)l + d->offset;
            switch (d->type) {
            case FT_BOOL:
                rc = set_kv(kv, n, d->key, NULL, *(const bool *)p ? "1" : "0");
                break;
            case FT_UINT:
                snprintf(num, sizeof num, "%u", (unsigned)*(const uint32_t *)p);
                rc = set_kv(kv, n, d->key, NULL, num);
                break;
            case FT_SERVER:
                rc = server_to_kv(kv, n, d, (const struct server *)p, l->resolved[d->server]);
                break;
            default:
                rc = set_kv(kv, n, d->key, NULL, p);
            }
        }
        if (rc == 0)
            rc = prov_to_kv(kv, n, l);
    }
    if (rc == 0 && c->admin_ha1[0])
        rc = kv_set(kv, "admin.ha1", c->admin_ha1);
    return rc;
}

/* One server field from flash into a temporary; the line keeps the default
 * (unset) unless every one of its keys is good. */
static void server_from_kv(const struct kv *kv, unsigned n, const struct field_desc *d,
                           struct line *l, struct diag_list *errs)
{
    char key[KV_KEY_MAX + 1];
    const char *v[4];
    static const char *const sub[4] = {"host", "port", "transport", "resolved"};
    for (int i = 0; i < 4; i++) {
        v[i] = config_key(key, sizeof key, n, d->key, sub[i]) == 0 ? kv_get(kv, key) : NULL;
    }
    if (!v[0]) {
        for (int i = 1; i < 4; i++)
            if (v[i]) {
                config_key(key, sizeof key, n, d->key, sub[i]);
                diag_add(errs, key, "missing_field", "%s is stored without line%u.%s.host", key,
                         n, d->key);
            }
        return;
    }

    size_t before = diag_count(errs);
    struct server s = {.set = true, .transport = TRANSPORT_AUTO};
    config_key(key, sizeof key, n, d->key, "host");
    host_parse(v[0], strlen(v[0]), s.host, key, errs);
    if (v[1]) {
        unsigned long long port;
        config_key(key, sizeof key, n, d->key, "port");
        if (text_uint(v[1], strlen(v[1]), PORT_MAX, &port) < 0 || port < PORT_MIN)
            diag_add(errs, key, "invalid_port", "the stored port is not a number %u..%u",
                     PORT_MIN, PORT_MAX);
        else
            s.port = (uint16_t)port;
    }
    if (v[2] && transport_from_name(v[2], &s.transport) < 0) {
        config_key(key, sizeof key, n, d->key, "transport");
        diag_add(errs, key, "invalid_transport", "the stored transport is not auto, udp, tcp or tls");
    }
    if (v[3]) {
        config_key(key, sizeof key, n, d->key, "resolved");
        check_resolved(v[3], key, errs);
    }
    if (diag_count(errs) > before)
        return;
    l->srv[d->server] = s;
    if (v[3])
        snprintf(l->resolved[d->server], sizeof l->resolved[d->server], "%s", v[3]);
}

int config_from_kv(const struct kv *kv, unsigned nlines, struct config *c, struct diag_list *errs)
{
    char key[KV_KEY_MAX + 1];
    size_t before = diag_count(errs);

    config_defaults(c, nlines);
    for (unsigned i = 0; i < c->nlines; i++) {
        struct line *l = &c->line[i];
        unsigned n = i + 1;
        for (size_t f = 0; f < line_nfields; f++) {
            const struct field_desc *d = &line_fields[f];
            char *p = (char *)l + d->offset;
            if (d->type == FT_SERVER) {
                server_from_kv(kv, n, d, l, errs);
                continue;
            }
            if (config_key(key, sizeof key, n, d->key, NULL) < 0)
                continue;
            const char *v = kv_get(kv, key);
            if (!v)
                continue;       /* absent: the default */
            unsigned long long u;
            switch (d->type) {
            case FT_BOOL:
                if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
                    *(bool *)p = v[0] == '1';
                else
                    diag_add(errs, key, "invalid_type", "%s must be 0 or 1", key);
                break;
            case FT_UINT:
                if (text_uint(v, strlen(v), 9999999999ULL, &u) < 0)
                    diag_add(errs, key, "invalid_type", "%s must be a decimal number", key);
                else if (check_uint(d, (long long)u, key, errs) == 0)
                    *(uint32_t *)p = (uint32_t)u;
                break;
            case FT_DOMAIN:
                if (v[0])
                    host_parse(v, strlen(v), p, key, errs);
                break;
            default: {
                size_t len = strlen(v);
                if (check_field_text(d, v, len, key, errs) == 0) {
                    memcpy(p, v, len);      /* len <= max_len: checked */
                    p[len] = '\0';
                }
            }
            }
        }
        prov_from_kv(kv, n, l, errs);
    }

    const char *ha1 = kv_get(kv, "admin.ha1");
    if (ha1) {
        size_t hl = strlen(ha1);
        if (hl == ADMIN_HA1_HEX && strspn(ha1, "0123456789abcdef") == hl)
            memcpy(c->admin_ha1, ha1, hl + 1);
        else
            diag_add(errs, "admin.ha1", "invalid_type",
                     "admin.ha1 is not %d lower-case hex digits", ADMIN_HA1_HEX);
    }
    return diag_count(errs) > before ? -EINVAL : 0;
}

unsigned config_key_line(const char *k)
{
    if (!k || strncmp(k, "line", 4) != 0)
        return 0;
    const char *p = k + 4;
    size_t digits = strspn(p, "0123456789");
    unsigned long long n;
    if (digits == 0 || digits > 2 || p[digits] != '.' || p[0] == '0' ||
        text_uint(p, digits, 99, &n) < 0)
        return 0;
    return (unsigned)n;
}

unsigned config_lines_in_kv(const struct kv *kv)
{
    unsigned max = 0;
    for (size_t i = 0; i < kv_count(kv); i++) {
        unsigned n = config_key_line(kv_key_at(kv, i));
        if (n <= LINE_MAX_LINES && n > max)
            max = n;
    }
    return max < LINE_DEFAULT_LINES ? LINE_DEFAULT_LINES : max;
}

int config_load(struct store *st, unsigned nlines, struct config *c, struct kv **kv_out,
                struct diag_list *errs, struct store_info *info)
{
    struct kv *kv = NULL;
    struct diag_list *scratch = NULL;
    if (kv_out)
        *kv_out = NULL;
    int rc = store_load(st, &kv, info);
    config_defaults(c, nlines ? nlines : LINE_DEFAULT_LINES);
    if (rc < 0)
        return rc;
    if (!errs) {
        /* Bad values come back as defaults, with diagnostics nobody reads here. */
        errs = scratch = malloc(sizeof *scratch);
        if (!scratch) {
            kv_free(kv);
            return -ENOMEM;
        }
        diag_init(scratch);
    }
    (void)config_from_kv(kv, nlines ? nlines : config_lines_in_kv(kv), c, errs);
    free(scratch);
    if (kv_out)
        *kv_out = kv;
    else
        kv_free(kv);
    return 0;
}

/* The keys of lines above nlines in what flash holds now, into a new kv. */
static int read_higher_lines(struct store *st, unsigned nlines, struct kv **out)
{
    struct kv *stored = NULL, *above = kv_new();
    if (!above)
        return -ENOMEM;
    int rc = 0;
    if (store_load(st, &stored, NULL) == 0 && stored)   /* else nothing readable to keep */
        for (size_t i = 0; rc == 0 && i < kv_count(stored); i++) {
            const char *k = kv_key_at(stored, i);
            if (config_key_line(k) > nlines)
                rc = kv_set(above, k, kv_value_at(stored, i));
        }
    kv_free(stored);
    if (rc < 0) {
        kv_free(above);
        return rc;
    }
    *out = above;
    return 0;
}

int config_commit_kept(struct store *st, const struct config *c, const uint32_t *expect,
                       struct kv **kept, struct store_info *info)
{
    struct kv *kv = kv_new(), *above = kept && expect ? *kept : NULL;
    int rc = kv ? config_to_kv(c, kv) : -ENOMEM;
    if (rc == 0 && !above)
        rc = read_higher_lines(st, c->nlines, &above);
    for (size_t i = 0; rc == 0 && i < kv_count(above); i++)
        rc = kv_set(kv, kv_key_at(above, i), kv_value_at(above, i));
    if (rc == 0)
        rc = store_commit(st, kv, expect, info);
    kv_free(kv);
    if (kept && expect && rc >= 0) {
        *kept = above;         /* what flash holds above c->nlines at the new generation */
    } else {
        if (kept && above == *kept)
            *kept = NULL;      /* flash may hold something else: read it next time */
        kv_free(above);
    }
    return rc;
}

int config_commit(struct store *st, const struct config *c, const uint32_t *expect,
                  struct store_info *info)
{
    return config_commit_kept(st, c, expect, NULL, info);
}

unsigned config_line_diff(const struct line *a, const struct line *b)
{
    if (!line_equal(a, b, false) || a->locked != b->locked)
        return CONFIG_DIFF_SETTINGS;
    return line_equal(a, b, true) ? 0 : CONFIG_DIFF_RESOLVED;
}

unsigned config_diff(const struct config *a, const struct config *b)
{
    if (a->nlines != b->nlines || strcmp(a->admin_ha1, b->admin_ha1) != 0)
        return CONFIG_DIFF_SETTINGS;
    unsigned d = 0;
    for (unsigned i = 0; i < a->nlines && i < LINE_MAX_LINES; i++)
        d |= config_line_diff(&a->line[i], &b->line[i]);
    return d;
}

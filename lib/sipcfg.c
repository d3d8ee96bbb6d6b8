/* sipcfg: the SIP core's reader API (include/sipcfg.h) over store, config and dns. */
#include "sipcfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "provenance.h"
#include "dns_target.h"
#include "kv.h"
#include "hostport.h"
#include "store.h"
#include "text.h"

struct sipcfg {
    struct store *store;
    struct kv *kv;
    uint32_t generation;
    unsigned nlines;
    struct config *cfg;            /* kv decoded once per load */
};

static int load_into(sipcfg *c)
{
    struct kv *kv = NULL;
    struct store_info info;
    struct config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        return -ENOMEM;
    int rc = config_load(c->store, 0, cfg, &kv, NULL, &info);
    if (rc < 0) {
        free(cfg);
        return rc;
    }
    kv_free(c->kv);
    free(c->cfg);
    c->kv = kv;
    c->cfg = cfg;
    c->nlines = cfg->nlines;
    c->generation = info.generation;
    return 0;
}

int sipcfg_open(const char *path, sipcfg **out)
{
    *out = NULL;
    sipcfg *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    int rc = store_open(path, 0, &c->store);
    if (rc == 0)
        rc = load_into(c);
    if (rc < 0) {
        sipcfg_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

void sipcfg_close(sipcfg *c)
{
    if (!c)
        return;
    if (c->store)
        store_close(c->store);
    kv_free(c->kv);
    free(c->cfg);
    free(c);
}

int sipcfg_reload(sipcfg *c)
{
    return load_into(c);
}

uint32_t sipcfg_generation(const sipcfg *c)
{
    return c->generation;
}

int sipcfg_changed(sipcfg *c)
{
    uint32_t gen;
    int rc = store_generation(c->store, &gen, NULL);
    if (rc < 0)
        return rc;
    return gen != c->generation;
}

const char *sipcfg_get(const sipcfg *c, const char *key)
{
    return key ? kv_get(c->kv, key) : NULL;
}

size_t sipcfg_count(const sipcfg *c)
{
    return kv_count(c->kv);
}

const char *sipcfg_key_at(const sipcfg *c, size_t i)
{
    return i < kv_count(c->kv) ? kv_key_at(c->kv, i) : NULL;
}

const char *sipcfg_value_at(const sipcfg *c, size_t i)
{
    return i < kv_count(c->kv) ? kv_value_at(c->kv, i) : NULL;
}

unsigned sipcfg_lines(const sipcfg *c)
{
    return c->nlines;
}

static void fill_server(struct sipcfg_server *o, const struct server *s, const char *resolved)
{
    memset(o, 0, sizeof *o);
    if (!s->set)
        return;
    o->set = 1;
    text_copy(o->host, sizeof o->host, s->host);
    o->port = s->port;
    text_copy(o->transport, sizeof o->transport, transport_name(s->transport));
    if (!resolved || !*resolved)
        return;
    struct dns_target *t = calloc(SIPCFG_MAX_TARGETS, sizeof *t);
    unsigned nt = 0;
    if (t && dns_targets_from_flash(resolved, t, SIPCFG_MAX_TARGETS, &nt) == 0) {
        for (unsigned i = 0; i < nt; i++) {
            struct sipcfg_target *d = &o->targets[i];
            d->priority = t[i].priority;
            d->weight = t[i].weight;
            d->port = t[i].port;
            text_copy(d->transport, sizeof d->transport, transport_name(t[i].transport));
            text_copy(d->host, sizeof d->host, t[i].host);
            d->naddrs = t[i].naddrs < SIPCFG_MAX_ADDRS ? t[i].naddrs : SIPCFG_MAX_ADDRS;
            for (unsigned a = 0; a < d->naddrs; a++)
                text_copy(d->addrs[a], sizeof d->addrs[a], t[i].addrs[a]);
        }
        o->ntargets = nt;
    }
    free(t);
}

int sipcfg_get_line(const sipcfg *c, unsigned n, struct sipcfg_line *out)
{
    if (n < 1 || n > c->nlines)
        return -ERANGE;
    const struct line *l = &c->cfg->line[n - 1];
    memset(out, 0, sizeof *out);
    out->number = n;
    /* Every field from the table: where it is in struct line and in ours. */
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        const char *from = (const char *)l + d->offset;
        char *to = (char *)out + d->reader_offset;
        switch (d->type) {
        case FT_BOOL:
            *(int *)(void *)to = *(const bool *)from;
            break;
        case FT_UINT:
            *(unsigned *)(void *)to = *(const uint32_t *)from;
            break;
        case FT_SERVER:
            fill_server((struct sipcfg_server *)(void *)to, (const struct server *)from,
                        l->resolved[d->server]);
            break;
        default:
            text_copy(to, d->reader_size, from);
        }
    }
    return 0;
}

const char *sipcfg_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case -ENOENT: return "no such flash image";
    case -EBADMSG: return "neither flash bank holds a valid configuration";
    case -EIO: return "flash read or write failed";
    case -ENOMEM: return "out of memory";
    case -ERANGE: return "no such line";
    case -ESTALE: return "the configuration was changed by someone else meanwhile";
    case -EFBIG: return "the configuration does not fit in a flash bank";
    case -ENOSPC: return "no space left on the disk that holds the flash image";
    case -EROFS: return "the flash image is read-only";
    case -EMEDIUMTYPE: return "not a sipcfg flash image (left untouched)";
    case -EUCLEAN: return "the flash image cannot be written safely (its layout was guessed from a "
                          "damaged file, or its trailer is of another format), so it is read-only "
                          "(export, then import into a new image)";
    case -EDQUOT: return "the disk quota for the flash image is used up";
    case -EINVAL: return "invalid argument";
    case -EPERM: return "flash refused the write (bit set without erase)";
    case -EACCES: return "permission denied";
    default: return err < 0 ? strerror(-err) : "unknown error";
    }
}

int sipcfg_get_provenance(const sipcfg *c, unsigned n, const char *field,
                          struct sipcfg_provenance *out)
{
    if (n < 1 || n > c->nlines)
        return -ERANGE;
    const struct field_desc *d = line_field_by_member(field);
    if (!d)
        return -ENOENT;
    size_t i = (size_t)(d - line_fields);
    const struct line *l = &c->cfg->line[n - 1];
    const char *src = prov_source_name((enum prov_source)l->prov[i].source);
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", src ? src : "default");
    prov_time_format(l->prov[i].at, out->at);
    if (l->locked & (UINT32_C(1) << i)) {
        const char *by = prov_source_name((enum prov_source)l->lock[i].source);
        out->locked = 1;
        snprintf(out->locked_by, sizeof out->locked_by, "%s", by ? by : "default");
        prov_time_format(l->lock[i].at, out->locked_at);
    }
    return 0;
}

/* dns_target: see dns_target.h */
#include "dns_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"
#include "text.h"

/* The rule lives in hostport.c, with host_check's words for each reason. */
bool dns_name_valid(const char *name)
{
    return host_name_valid(name, false);
}

bool dns_owner_name_valid(const char *name)
{
    return host_name_valid(name, true);
}

int dns_targets_to_flash(const struct dns_target *targets, unsigned nt, char *buf, size_t n)
{
    if (!buf || n == 0)
        return -EINVAL;
    buf[0] = '\0';
    size_t cap = n - 1 < RESOLVED_MAX ? n - 1 : RESOLVED_MAX, len = 0;
    for (unsigned i = 0; i < nt && i < DNS_MAX_TARGETS; i++) {
        const struct dns_target *t = &targets[i];
        if (t->naddrs == 0)
            continue;                  /* nothing the SIP core could use */
        char entry[RESOLVED_MAX + 1];
        int w = snprintf(entry, sizeof entry, "%s%u %u %u %s %s ", len ? ";" : "",
                         (unsigned)t->priority, (unsigned)t->weight, (unsigned)t->port,
                         transport_name(t->transport), t->host);
        size_t el = w > 0 ? (size_t)w : 0;
        for (unsigned k = 0; k < t->naddrs && k < DNS_MAX_ADDRS && el < sizeof entry; k++) {
            w = snprintf(entry + el, sizeof entry - el, "%s%s", k ? "," : "", t->addrs[k]);
            el += w > 0 ? (size_t)w : 0;
        }
        if (el >= sizeof entry || len + el > cap)
            break;                     /* whole targets only: drop the rest */
        memcpy(buf + len, entry, el);
        len += el;
        buf[len] = '\0';
    }
    return 0;
}

static int parse_u16(const char *s, uint16_t min, uint16_t *out)
{
    unsigned long long v;
    if (text_uint(s, strlen(s), 65535, &v) < 0 || v < min)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* "udp", "tcp" or "tls", in lower case as written: a stored value is never "auto". */
static int stored_transport(const char *s, enum transport *out)
{
    if (transport_from_name(s, out) < 0 || *out == TRANSPORT_AUTO ||
        strcmp(s, transport_name(*out)) != 0)
        return -EINVAL;
    return 0;
}

int dns_target_parse(const char *entry, size_t elen, struct dns_target *t)
{
    char e[RESOLVED_MAX + 1];
    if (elen > RESOLVED_MAX)
        return -EINVAL;
    memcpy(e, entry, elen);
    e[elen] = '\0';
    if (strstr(e, "  ") || e[0] == ' ' || (elen && e[elen - 1] == ' '))
        return -EINVAL;                /* strtok_r would skip empty fields */
    char *f[6];
    unsigned nf = 0;
    char *save = NULL;
    for (char *tok = strtok_r(e, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (nf >= 6)
            return -EINVAL;
        f[nf++] = tok;
    }
    if (nf != 6)
        return -EINVAL;
    memset(t, 0, sizeof *t);
    if (parse_u16(f[0], 0, &t->priority) || parse_u16(f[1], 0, &t->weight) ||
        parse_u16(f[2], 1, &t->port) || stored_transport(f[3], &t->transport))
        return -EINVAL;
    if (strlen(f[4]) > HOST_MAX || (!host_name_valid(f[4], false) && !host_ip_family(f[4])))
        return -EINVAL;
    text_copy(t->host, sizeof t->host, f[4]);
    size_t alen = strlen(f[5]);
    if (f[5][0] == ',' || f[5][alen - 1] == ',' || strstr(f[5], ",,"))
        return -EINVAL;                /* strtok_r would skip empty addresses */
    for (char *a = strtok_r(f[5], ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        if (t->naddrs >= DNS_MAX_ADDRS || strlen(a) >= DNS_ADDR_MAX || !host_ip_family(a))
            return -EINVAL;
        text_copy(t->addrs[t->naddrs++], DNS_ADDR_MAX, a);
    }
    return t->naddrs ? 0 : -EINVAL;
}

int dns_targets_from_flash(const char *value, struct dns_target *targets, unsigned max,
                           unsigned *ntargets)
{
    *ntargets = 0;
    if (!value)
        return -EINVAL;
    size_t len = strnlen(value, RESOLVED_MAX + 1);
    if (len > RESOLVED_MAX)
        return -EINVAL;
    if (len == 0)
        return 0;
    char copy[RESOLVED_MAX + 1];
    memcpy(copy, value, len + 1);
    /* strict: single spaces, no empty entries, so a damaged value is noticed */
    if (copy[0] == ';' || copy[len - 1] == ';' || strstr(copy, ";;"))
        return -EINVAL;
    unsigned n = 0;
    char *save = NULL;
    for (char *e = strtok_r(copy, ";", &save); e; e = strtok_r(NULL, ";", &save)) {
        struct dns_target t;
        if (dns_target_parse(e, strlen(e), &t) < 0) {
            *ntargets = 0;
            return -EINVAL;
        }
        if (n < max)
            targets[n++] = t;          /* more than `max`: the first ones, in stored order */
    }
    *ntargets = n;
    return 0;
}

/* ------------------------------------------------------------ ordering */

/* Priority ascending, then weight descending: the display order's key. */
static int rank_cmp(const struct dns_target *a, const struct dns_target *b)
{
    if (a->priority != b->priority)
        return a->priority < b->priority ? -1 : 1;
    if (a->weight != b->weight)
        return a->weight > b->weight ? -1 : 1;
    return 0;
}

void dns_targets_sort(struct dns_target *t, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {  /* insertion sort: stable, n <= 16 */
        struct dns_target x = t[i];
        unsigned j = i;
        while (j > 0 && rank_cmp(&t[j - 1], &x) > 0) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
}

int dns_target_cmp(const struct dns_target *a, const struct dns_target *b)
{
    int c = rank_cmp(a, b);
    if (c == 0)
        c = strcmp(a->host, b->host);
    if (c == 0 && a->port != b->port)
        c = a->port < b->port ? -1 : 1;
    if (c == 0 && a->transport != b->transport)
        c = a->transport < b->transport ? -1 : 1;
    return c;
}

static int target_qsort_cmp(const void *a, const void *b)
{
    return dns_target_cmp(a, b);
}

static int addr_cmp(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

bool dns_resolved_same(const char *x, const char *y)
{
    if (strcmp(x, y) == 0)
        return true;
    if (!x[0] || !y[0])
        return false;
    struct dns_target *a = calloc((size_t)2 * DNS_MAX_TARGETS, sizeof *a);
    if (!a)
        return false;
    struct dns_target *b = a + DNS_MAX_TARGETS;
    unsigned na = 0, nb = 0;
    bool same = false;
    if (dns_targets_from_flash(x, a, DNS_MAX_TARGETS, &na) == 0 &&
        dns_targets_from_flash(y, b, DNS_MAX_TARGETS, &nb) == 0 && na == nb) {
        for (unsigned i = 0; i < na; i++) {
            qsort(a[i].addrs, a[i].naddrs, DNS_ADDR_MAX, addr_cmp);
            qsort(b[i].addrs, b[i].naddrs, DNS_ADDR_MAX, addr_cmp);
        }
        qsort(a, na, sizeof *a, target_qsort_cmp);
        qsort(b, nb, sizeof *b, target_qsort_cmp);
        same = true;
        for (unsigned i = 0; same && i < na; i++) {
            same = dns_target_cmp(&a[i], &b[i]) == 0 && a[i].naddrs == b[i].naddrs;
            for (unsigned j = 0; same && j < a[i].naddrs; j++)
                same = strcmp(a[i].addrs[j], b[i].addrs[j]) == 0;
        }
    }
    free(a);
    return same;
}

void dns_rfc2782_order(struct dns_target *t, unsigned n, uint32_t (*rnd)(uint32_t bound, void *),
                       void *arg)
{
    /* priority ascending, stable */
    for (unsigned i = 1; i < n; i++) {
        struct dns_target x = t[i];
        unsigned j = i;
        while (j > 0 && t[j - 1].priority > x.priority) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = x;
    }
    for (unsigned lo = 0; lo < n;) {
        unsigned hi = lo;
        while (hi < n && t[hi].priority == t[lo].priority)
            hi++;
        /* RFC 2782: weight-0 records first in the unordered list */
        for (unsigned i = lo + 1; i < hi; i++) {
            struct dns_target x = t[i];
            unsigned j = i;
            while (j > lo && x.weight == 0 && t[j - 1].weight != 0) {
                t[j] = t[j - 1];
                j--;
            }
            t[j] = x;
        }
        for (unsigned pos = lo; pos + 1 < hi; pos++) {
            uint32_t sum = 0;
            for (unsigned i = pos; i < hi; i++)
                sum += t[i].weight;
            unsigned pick = pos;
            if (sum > 0) {
                uint32_t r = rnd(sum, arg);
                if (r > sum)
                    r = sum;
                uint32_t running = 0;
                for (unsigned i = pos; i < hi; i++) {
                    running += t[i].weight;
                    if (running >= r) {
                        pick = i;
                        break;
                    }
                }
            }
            /* take `pick` out and put it at `pos`, the rest keep their order */
            struct dns_target x = t[pick];
            memmove(&t[pos + 1], &t[pos], (pick - pos) * sizeof *t);
            t[pos] = x;
        }
        lo = hi;
    }
}

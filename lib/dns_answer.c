/* dns_answer: reading what a DNS server answered to one query of a check
 * (records, TTLs, a note for people); see dns_check.h. */
#include "dns_check.h"

#include <ares.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"

/* Appends to a bounded string; a note that does not fit is cut. */
__attribute__((format(printf, 3, 4)))
static void appendf(char *buf, size_t n, const char *fmt, ...)
{
    size_t len = strnlen(buf, n);
    if (len + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, n - len, fmt, ap);
    va_end(ap);
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}

/* Copies a DNS name without its trailing dot, lower-cased. */
void dns_name_copy(char *dst, size_t n, const char *src)
{
    text_copy(dst, n, src);
    size_t len = strlen(dst);
    if (len > 0 && dst[len - 1] == '.')
        dst[len - 1] = '\0';
    lower(dst);
}

/* ------------------------------------------------- TTLs from the raw answer */

static int skip_name(const unsigned char *a, int alen, int off)
{
    for (int hops = 0; hops < 128 && off < alen; hops++) {
        unsigned len = a[off];
        if ((len & 0xC0) == 0xC0)
            return off + 2 <= alen ? off + 2 : -1;
        if (len & 0xC0)
            return -1;
        if (len == 0)
            return off + 1;
        off += (int)len + 1;
    }
    return -1;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Smallest TTL of the answer section; for an answer without records the
 * negative TTL of the SOA in the authority section (RFC 2308). -1 = none. */
int64_t dns_answer_ttl(const unsigned char *a, int alen)
{
    if (!a || alen < 12)
        return -1;
    unsigned qd = (unsigned)a[4] << 8 | a[5], an = (unsigned)a[6] << 8 | a[7];
    unsigned ns = (unsigned)a[8] << 8 | a[9];
    int off = 12;
    for (unsigned i = 0; i < qd; i++) {
        off = skip_name(a, alen, off);
        if (off < 0 || off + 4 > alen)
            return -1;
        off += 4;
    }
    int64_t best = -1;
    for (unsigned i = 0; i < an + ns; i++) {
        off = skip_name(a, alen, off);
        if (off < 0 || off + 10 > alen)
            return best;
        unsigned type = (unsigned)a[off] << 8 | a[off + 1];
        uint32_t ttl = get32(a + off + 4) & 0x7fffffffu;
        unsigned rdlen = (unsigned)a[off + 8] << 8 | a[off + 9];
        off += 10;
        if (off + (int)rdlen > alen)
            return best;
        if (i >= an) {                  /* authority: only an SOA of a negative answer */
            if (an == 0 && type == T_SOA && rdlen >= 20) {
                uint32_t min = get32(a + off + rdlen - 4);
                int64_t neg = ttl < min ? ttl : min;
                if (best < 0 || neg < best)
                    best = neg;
            }
        } else if (best < 0 || ttl < best) {
            best = ttl;
        }
        off += (int)rdlen;
    }
    return best;
}

const char *dns_answer_outcome(int status)
{
    switch (status) {
    case ARES_ENODATA: return "no records";
    case ARES_ENOTFOUND: return "NXDOMAIN (no such name)";
    case ARES_ESERVFAIL: return "SERVFAIL (server failure)";
    case ARES_EREFUSED: return "REFUSED";
    case ARES_ECONNREFUSED: return "no answer (connection refused: no DNS server there)";
    case ARES_ETIMEOUT: return "no answer (timeout)";
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return "no answer (cancelled)";
    case ARES_EFORMERR: return "FORMERR (server rejected the query)";
    case ARES_ENOTIMP: return "NOTIMP (server does not support it)";
    case ARES_EBADRESP: return "bad answer (malformed)";
    default: return ares_strerror(status);
    }
}

void dns_answer_srv(struct query *q, const unsigned char *abuf, int alen)
{
    struct check *c = q->c;
    struct ares_srv_reply *list = NULL;
    if (ares_parse_srv_reply(abuf, alen, &list) != ARES_SUCCESS) {
        snprintf(q->outcome, sizeof q->outcome, "bad answer (malformed SRV)");
        q->status = ARES_EBADRESP;
        return;
    }
    unsigned dropped = 0;
    char note[80] = "";
    for (struct ares_srv_reply *r = list; r; r = r->next) {
        q->nrecords++;
        if (r->host[0] == '\0' || strcmp(r->host, ".") == 0) {
            q->dot = true;                     /* RFC 2782: decidedly not available */
            continue;
        }
        const char *why = NULL;
        if (!dns_name_valid(r->host))
            why = "not a host name";
        else if (r->port == 0)
            why = "port 0";
        if (why) {
            if (!dropped) {
                char qb[48];    /* diag_quote stops at the buffer: a note stays short */
                diag_quote(qb, sizeof qb, r->host);
                snprintf(note, sizeof note, "'%s': %s", qb, why);
            }
            dropped++;
            continue;
        }
        if (q->warn_only || c->nsrv >= DNS_MAX_SRV)
            continue;
        struct srv_rec *s = &c->srv[c->nsrv];
        s->priority = r->priority;
        s->weight = r->weight;
        s->port = r->port;
        s->tp = q->tp;
        s->order = (unsigned)(q - c->q) + 1;  /* which query it came from */
        dns_name_copy(s->host, sizeof s->host, r->host);
        c->nsrv++;
    }
    ares_free_data(list);
    snprintf(q->outcome, sizeof q->outcome, "%u record%s", q->nrecords, q->nrecords == 1 ? "" : "s");
    if (q->dot)
        appendf(q->outcome, sizeof q->outcome, ", target \".\" (no service)");
    if (dropped)
        appendf(q->outcome, sizeof q->outcome, ", %u dropped (%s)", dropped, note);
}

static enum transport naptr_transport(const char *service, bool *ok)
{
    *ok = true;
    if (strcasecmp(service, "SIP+D2U") == 0)
        return TRANSPORT_UDP;
    if (strcasecmp(service, "SIP+D2T") == 0)
        return TRANSPORT_TCP;
    if (strcasecmp(service, "SIPS+D2T") == 0)
        return TRANSPORT_TLS;
    *ok = false;                      /* SIP+D2S (SCTP), D2W (WebSocket): not ours */
    return TRANSPORT_AUTO;
}

void dns_answer_naptr(struct query *q, const unsigned char *abuf, int alen)
{
    struct check *c = q->c;
    struct ares_naptr_reply *list = NULL;
    if (ares_parse_naptr_reply(abuf, alen, &list) != ARES_SUCCESS) {
        snprintf(q->outcome, sizeof q->outcome, "bad answer (malformed NAPTR)");
        q->status = ARES_EBADRESP;
        return;
    }
    unsigned skipped = 0;
    for (struct ares_naptr_reply *r = list; r; r = r->next) {
        q->nrecords++;
        bool ok;
        enum transport tp = naptr_transport((const char *)r->service, &ok);
        if (!ok || strcasecmp((const char *)r->flags, "s") != 0 ||
            !dns_owner_name_valid(r->replacement) || c->nnaptr >= DNS_MAX_NAPTR) {
            skipped++;
            continue;
        }
        struct naptr_rec *n = &c->naptr[c->nnaptr++];
        n->order = r->order;
        n->pref = r->preference;
        n->tp = tp;
        dns_name_copy(n->replacement, sizeof n->replacement, r->replacement);
    }
    ares_free_data(list);
    snprintf(q->outcome, sizeof q->outcome, "%u record%s", q->nrecords, q->nrecords == 1 ? "" : "s");
    if (skipped)
        appendf(q->outcome, sizeof q->outcome, ", %u not usable (service or flags)", skipped);
}

void dns_answer_addresses(struct query *q, const unsigned char *abuf, int alen)
{
    int family = q->type == T_A ? AF_INET : AF_INET6;
    struct hostent *he = NULL;
    int rc = q->type == T_A ? ares_parse_a_reply(abuf, alen, &he, NULL, NULL)
                            : ares_parse_aaaa_reply(abuf, alen, &he, NULL, NULL);
    if (rc != ARES_SUCCESS || !he) {
        q->status = rc == ARES_SUCCESS ? ARES_EBADRESP : rc;
        text_copy(q->outcome, sizeof q->outcome, dns_answer_outcome(q->status));
        return;
    }
    size_t o = 0;
    for (char **p = he->h_addr_list; p && *p; p++) {
        q->nrecords++;
        char text[DNS_ADDR_MAX];
        if (!inet_ntop(family, *p, text, sizeof text))
            continue;
        if (q->naddrs < DNS_MAX_ADDRS)
            text_copy(q->addrs[q->naddrs++], DNS_ADDR_MAX, text);
        if (o < sizeof q->outcome) {
            int w = snprintf(q->outcome + o, sizeof q->outcome - o, "%s%s", o ? ", " : "", text);
            if (w > 0 && o + (size_t)w >= sizeof q->outcome) {
                snprintf(q->outcome, sizeof q->outcome, "%u addresses", q->nrecords);
                o = sizeof q->outcome;   /* stop listing: the count says it */
            } else if (w > 0) {
                o += (size_t)w;
            }
        } else {
            snprintf(q->outcome, sizeof q->outcome, "%u addresses", q->nrecords);
        }
    }
    ares_free_hostent(he);
    if (q->nrecords == 0) {
        q->status = ARES_ENODATA;
        text_copy(q->outcome, sizeof q->outcome, dns_answer_outcome(q->status));
    }
}

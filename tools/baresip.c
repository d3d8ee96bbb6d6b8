/* baresip: a line as a baresip 1.0 `accounts` entry. What baresip 1.0 reads
 * was checked in its source (src/account.c, src/ua.c) and libre 1.1's
 * (msg/param.c, sip/request.c) and by running it: docs/BARESIP.md gives the
 * mapping and the gaps. Everything a line holds that baresip cannot express
 * is reported through note(), never dropped silently. */
#include "baresip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define URI_MAX 300   /* "sip:" + 253-byte host + ":65535" + ";transport=tcp" */

struct out {
    char *p;
    size_t n, len;
    int full;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(o->p + o->len, o->n - o->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= o->n - o->len) {
        o->full = 1;
        o->len = o->n - 1;
    } else {
        o->len += (size_t)w;
    }
}

struct ctx {
    unsigned line;
    baresip_note_fn note;
    void *arg;
};

__attribute__((format(printf, 3, 4))) static void note(const struct ctx *x, const char *field,
                                                       const char *fmt, ...)
{
    char path[64], msg[512];
    snprintf(path, sizeof path, "line%u%s%s", x->line, field[0] ? "." : "", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->note(x->arg, path, msg);
}

static int is_ip(const char *host)
{
    unsigned char a[16];
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* "host", "[v6]"; with port and ;transport= as the server says. With DNS SRV
 * off, a name gets its default port: a URI with a port is looked up with
 * A/AAAA only (RFC 3263 4.2), which is what dns_srv=false means. */
static void server_hostport(const struct sipcfg_server *s, int dns_srv, struct out *o)
{
    put(o, strchr(s->host, ':') ? "[%s]" : "%s", s->host);
    unsigned port = s->port;
    if (!port && !dns_srv && !is_ip(s->host))
        port = strcmp(s->transport, "tls") ? 5060 : 5061;
    if (port)
        put(o, ":%u", port);
    if (strcmp(s->transport, "auto") != 0)
        put(o, ";transport=%s", s->transport);
}

static void server_uri(const struct sipcfg_server *s, int dns_srv, char *buf, size_t n)
{
    struct out o = {buf, n, 0, 0};
    buf[0] = '\0';
    put(&o, "sip:");
    server_hostport(s, dns_srv, &o);
}

static int same_server(const struct sipcfg_server *a, const struct sipcfg_server *b)
{
    return a->set && b->set && !strcasecmp(a->host, b->host) && a->port == b->port &&
           !strcmp(a->transport, b->transport);
}

/* A password goes in double quotes (libre's parameter parser strips them and
 * then allows spaces); what it cannot carry is refused, not mangled:
 *  '"' (no unescaping), a trailing backslash (it would escape the closing
 *  quote), ';' (libre looks for ";name=" anywhere in the parameters, so a
 *  password could otherwise set another parameter). */
static const char *password_problem(const char *pw)
{
    if (strchr(pw, '"'))
        return "it contains '\"'";
    if (strchr(pw, ';'))
        return "it contains ';'";
    size_t n = strlen(pw), bs = 0;
    while (bs < n && pw[n - 1 - bs] == '\\')
        bs++;
    if (bs % 2)
        return "it ends in a backslash";
    return NULL;
}

static void note_resolved(const struct ctx *x, const char *field, const struct sipcfg_server *s)
{
    if (s->set && s->ntargets && !is_ip(s->host))
        note(x, field,
             "baresip looks up %s itself at every REGISTER; the %u stored target%s (the "
             "fallback for a DNS outage) %s no baresip equivalent",
             s->host, s->ntargets, s->ntargets == 1 ? "" : "s", s->ntargets == 1 ? "has" : "have");
}

int baresip_account(const struct sipcfg_line *l, int with_secrets, char *buf, size_t n,
                    baresip_note_fn notefn, void *arg)
{
    const struct ctx x = {l->number, notefn, arg};
    const struct sipcfg_server *px = &l->proxy, *ob = &l->outbound_proxy, *bk = &l->backup_proxy;
    if (!n)
        return -EINVAL;
    buf[0] = '\0';
    if (!l->user[0]) {
        note(&x, "user", "empty: baresip needs a user for the AOR; line not exported");
        return -ENOENT;
    }
    if (!l->domain[0] && !px->set) {
        note(&x, "proxy", "neither a proxy nor a domain: nothing to register with; line not exported");
        return -ENOENT;
    }

    /* The AOR's host is where baresip addresses REGISTER (and completes calls);
     * it resolves it per RFC 3263 unless `outbound` routes requests elsewhere. */
    const int aor_is_proxy = px->set && (!l->domain[0] || !strcasecmp(l->domain, px->host));
    /* A backup needs both flows named: outbound (primary) and outbound2. */
    const int backup = bk->set && !ob->set && px->set;
    char route1[URI_MAX] = "", route2[URI_MAX] = "";
    int route1_is_proxy = 0;
    if (ob->set) {
        server_uri(ob, l->dns_srv, route1, sizeof route1);
    } else if (px->set && (!aor_is_proxy || backup)) {
        server_uri(px, l->dns_srv, route1, sizeof route1);
        route1_is_proxy = 1;
    }
    if (backup)
        server_uri(bk, l->dns_srv, route2, sizeof route2);

    struct out o = {buf, n, 0, 0};
    if (l->display_name[0]) {
        if (strpbrk(l->display_name, "\"\\"))
            note(&x, "display_name",
                 "contains '\"' or '\\', which baresip 1.0 keeps escaped: left out");
        else
            put(&o, "\"%s\" ", l->display_name);
    }
    put(&o, "<sip:%s@", l->user);
    if (aor_is_proxy && !route1_is_proxy)
        server_hostport(px, l->dns_srv, &o);
    else
        put(&o, strchr(l->domain[0] ? l->domain : px->host, ':') ? "[%s]" : "%s",
            l->domain[0] ? l->domain : px->host);
    put(&o, ">");
    if (l->auth_user[0])
        put(&o, ";auth_user=%s", l->auth_user);
    if (l->password[0]) {
        const char *why = password_problem(l->password);
        if (!with_secrets)
            note(&x, "password", "left out (export --with-secrets writes it as auth_pass)");
        else if (why)
            note(&x, "password", "%s, which a baresip 1.0 auth_pass cannot carry: left out", why);
        else
            put(&o, ";auth_pass=\"%s\"", l->password);
    }
    put(&o, ";regint=%u", l->reg ? l->register_expires : 0u);
    if (route1[0])
        put(&o, ";outbound=\"%s\"", route1);
    if (route2[0])
        put(&o, ";outbound2=\"%s\";sipnat=outbound", route2);

    /* What the entry cannot say. */
    if (ob->set && px->set && !aor_is_proxy)
        note(&x, "proxy",
             "baresip sends every request through outbound (%s) to the domain %s; "
             "the proxy %s is not used", ob->host, l->domain, px->host);
    if (l->registrar.set && !same_server(&l->registrar, px))
        note(&x, "registrar",
             "baresip registers with the AOR's domain %s%s; a separate registrar (%s) "
             "cannot be expressed: not used",
             l->domain[0] ? l->domain : px->host, route1[0] ? " through outbound" : "",
             l->registrar.host);
    if (bk->set && ob->set)
        note(&x, "backup_proxy",
             "baresip's second flow (outbound2) would bypass the outbound proxy: %s not used",
             bk->host);
    else if (bk->set && !px->set)
        note(&x, "backup_proxy", "no proxy to back up: %s not used", bk->host);
    else if (backup)
        note(&x, "backup_proxy",
             "written as outbound2 with sipnat=outbound (RFC 5626): baresip registers "
             "through outbound and outbound2 at the same time, not only when the first "
             "fails, and needs its uuid module");
    if (l->backup_registrar.set && !(backup && same_server(&l->backup_registrar, bk)))
        note(&x, "backup_registrar", "baresip has no backup registrar: %s not used",
             l->backup_registrar.host);
    if (aor_is_proxy || route1_is_proxy)
        note_resolved(&x, "proxy.resolved", px);
    note_resolved(&x, "outbound_proxy.resolved", ob);
    if (backup)
        note_resolved(&x, "backup_proxy.resolved", bk);

    if (o.full || o.len > BARESIP_LINE_MAX) {
        note(&x, "", "the entry is longer than the %d bytes baresip 1.0 reads per account "
                     "line: line not exported", BARESIP_LINE_MAX);
        explicit_bzero(buf, n);
        buf[0] = '\0';
        return -E2BIG;
    }
    return (int)o.len;
}

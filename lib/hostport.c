/* hostport: see hostport.h.
 *
 * Positive validation only (THREATS.md A1-A3): a server is an LDH host name or
 * an IP literal, an optional port 1..65535 and an optional transport. Anything
 * else is rejected with a message that names the exact problem; user input
 * reaches a message only through diag_quote. The parser works on (pointer,
 * length) pieces of the input, so no input length can overflow a buffer. */
#include "hostport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LABEL_MAX 63
#define MSG_MAX 1024    /* composed here, cut to DIAG_MESSAGE_MAX by diag_add */

static const char *const transport_names[] = {
    [TRANSPORT_AUTO] = "auto", [TRANSPORT_UDP] = "udp", [TRANSPORT_TCP] = "tcp",
    [TRANSPORT_TLS] = "tls",
};

const char *transport_name(enum transport t)
{
    return (unsigned)t <= TRANSPORT_TLS ? transport_names[t] : "?";
}

int transport_from_name(const char *name, enum transport *out)
{
    if (!name)
        return -EINVAL;
    for (unsigned t = 0; t <= TRANSPORT_TLS; t++)
        if (strcasecmp(name, transport_names[t]) == 0) {
            *out = (enum transport)t;
            return 0;
        }
    return -EINVAL;
}

/* Counts errors added, so a caller can tell whether its own checks failed
 * even when the list was already full. */
static int add_err(struct diag_list *errs, int *nerr, const char *path, const char *code,
                   const char *msg)
{
    diag_add(errs, path, code, "%s", msg);
    (*nerr)++;
    return -EINVAL;
}

static bool is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int host_ip_literal(const char *host, char *norm, size_t n)
{
    unsigned char a[16];
    static const int families[] = { AF_INET, AF_INET6 };
    for (size_t i = 0; host && i < sizeof families / sizeof families[0]; i++) {
        if (inet_pton(families[i], host, a) != 1)
            continue;
        if (norm && !inet_ntop(families[i], a, norm, (socklen_t)n))
            return 0;
        return families[i];
    }
    return 0;
}

int host_ip_family(const char *host)
{
    return host_ip_literal(host, NULL, 0);
}

/* Something that is clearly not a server: a URL or a user@host. Reported as
 * invalid_host with the reason; true when reported. */
static bool not_a_server(const char *s, size_t len, const char *path, struct diag_list *errs,
                         int *nerr)
{
    char q[DIAG_QUOTE_MAX], msg[MSG_MAX];
    const char *sep = memmem(s, len, "://", 3);
    if (sep) {
        bool web = (sep - s == 4 && strncasecmp(s, "http", 4) == 0) ||
                   (sep - s == 5 && strncasecmp(s, "https", 5) == 0);
        snprintf(msg, sizeof msg, "'%s' is %s, not a SIP server: give a host name, host:port "
                 "or a sip: URI", diag_quote_n(q, sizeof q, s, len),
                 web ? "a web address" : "a URL");
        add_err(errs, nerr, path, "invalid_host", msg);
        return true;
    }
    if (memchr(s, '@', len)) {
        snprintf(msg, sizeof msg, "'%s' is not a host name: a server must not contain a user "
                 "part (the user goes in 'user')", diag_quote_n(q, sizeof q, s, len));
        add_err(errs, nerr, path, "invalid_host", msg);
        return true;
    }
    return false;
}

/* Why s[0..len) is not a host name, or NULL when its characters and labels are
 * fine. `why` receives the reason after "'host' is not a host name: ".
 * `owner`: leading labels may start with '_' (the _sip._udp of an SRV owner). */
static bool name_problem(const char *s, size_t len, bool owner, char *why, size_t n)
{
    char q[DIAG_QUOTE_MAX];
    bool prefix = owner;                /* still in the leading "_label"s */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool label_start = i == 0 || s[i - 1] == '.';
        if (label_start)
            prefix = prefix && c == '_';
        if (c == '_' && label_start && prefix)
            continue;
        if (c == ' ') {
            snprintf(why, n, "it contains a space");
            return true;
        }
        if (c < 0x20 || c == 0x7f) {
            snprintf(why, n, "it contains a control character (\\x%02x)", c);
            return true;
        }
        if (c >= 0x80) {
            snprintf(why, n, "it contains a non-ASCII character: write an international name "
                     "in its xn-- form");
            return true;
        }
        if (!is_ldh(c) && c != '.') {
            snprintf(why, n, "it contains '%c', which a host name cannot contain", c);
            return true;
        }
    }
    if (len > HOST_MAX) {
        snprintf(why, n, "it is %zu bytes long, at most %d are allowed", len, HOST_MAX);
        return true;
    }
    const char *label = s, *end = s + len;
    while (label <= end) {
        const char *dot = memchr(label, '.', (size_t)(end - label));
        const char *lend = dot ? dot : end;
        size_t ll = (size_t)(lend - label);
        if (ll == 0) {
            snprintf(why, n, label == s ? "it starts with a dot"
                                        : "it has an empty label (two dots in a row)");
            return true;
        }
        if (ll > LABEL_MAX) {
            snprintf(why, n, "the label '%s' is %zu bytes long, at most %d are allowed",
                     diag_quote_n(q, sizeof q, label, ll), ll, LABEL_MAX);
            return true;
        }
        if (label[0] == '-') {
            snprintf(why, n, "a label may not start with a hyphen");
            return true;
        }
        if (lend[-1] == '-') {
            snprintf(why, n, "a label may not end with a hyphen");
            return true;
        }
        if (!dot)
            break;
        label = dot + 1;
    }
    return false;
}

bool host_name_valid(const char *name, bool srv_owner)
{
    if (!name)
        return false;
    size_t len = strnlen(name, HOST_MAX + 2);
    if (len > HOST_MAX + 1)
        return false;
    if (len > 0 && name[len - 1] == '.')
        len--;                          /* one trailing dot: fully qualified */
    char why[MSG_MAX / 4];
    return len > 0 && !name_problem(name, len, srv_owner, why, sizeof why);
}

/* Normalises and checks one host: brackets around an IPv6 literal are
 * dropped, IPv6 is written in its canonical form, names in lower case without
 * a trailing dot. `out` gets HOST_MAX + 1 bytes at most. */
static int host_parse_n(const char *in, size_t len, char *out, const char *path,
                        struct diag_list *errs, int *nerr)
{
    char q[DIAG_QUOTE_MAX], msg[MSG_MAX], why[MSG_MAX / 4];
    char buf[HOST_MAX + 1];

    out[0] = '\0';
    if (len == 0)
        return add_err(errs, nerr, path, "invalid_host",
                       "the host is empty: give a host name or an IP address");
    if (not_a_server(in, len, path, errs, nerr))
        return -EINVAL;
    diag_quote_n(q, sizeof q, in, len);

    bool bracketed = len >= 2 && in[0] == '[' && in[len - 1] == ']';
    const char *h = bracketed ? in + 1 : in;
    size_t hl = bracketed ? len - 2 : len;
    if (bracketed || memchr(h, ':', hl)) {
        unsigned char a[16];
        size_t colons = 0;
        for (size_t i = 0; i < hl; i++)
            colons += h[i] == ':';
        if (hl < sizeof buf) {
            memcpy(buf, h, hl);
            buf[hl] = '\0';
            if (inet_pton(AF_INET6, buf, a) == 1 && inet_ntop(AF_INET6, a, out, HOST_MAX + 1))
                return 0;
        }
        if (colons == 1 && !bracketed)
            snprintf(msg, sizeof msg, "'%s' is not a host name: it contains ':' (a port goes in "
                     "'port')", q);
        else
            snprintf(msg, sizeof msg, "'%s' is not a valid IPv6 address", q);
        return add_err(errs, nerr, path, "invalid_host", msg);
    }

    /* One trailing dot is the DNS root: "pbx.example.com." is the same name. */
    if (len > 1 && in[len - 1] == '.')
        len--;
    if (name_problem(in, len, false, why, sizeof why)) {
        snprintf(msg, sizeof msg, "'%s' is not a host name: %s", q, why);
        return add_err(errs, nerr, path, "invalid_host", msg);
    }
    for (size_t i = 0; i < len; i++)
        buf[i] = (char)((in[i] >= 'A' && in[i] <= 'Z') ? in[i] - 'A' + 'a' : in[i]);
    buf[len] = '\0';

    /* RFC 1123 2.1: a top-level label is never all digits, so a name whose
     * last label is numeric must be a dotted-quad IPv4 address. */
    const char *last = strrchr(buf, '.');
    last = last ? last + 1 : buf;
    if (strspn(last, "0123456789") == strlen(last)) {
        unsigned char a[4];
        if (inet_pton(AF_INET, buf, a) == 1) {
            memcpy(out, buf, len + 1);
            return 0;
        }
        if (strspn(buf, "0123456789.") == len)
            snprintf(msg, sizeof msg, "'%s' is not a valid IPv4 address: use four numbers "
                     "0..255 separated by dots", q);
        else
            snprintf(msg, sizeof msg, "'%s' is not a host name: its last label is all digits",
                     q);
        return add_err(errs, nerr, path, "invalid_host", msg);
    }
    memcpy(out, buf, len + 1);
    return 0;
}

int host_parse(const char *in, size_t len, char out[HOST_MAX + 1], const char *path,
               struct diag_list *errs)
{
    int nerr = 0;
    return host_parse_n(in, len, out, path, errs, &nerr);
}

int host_check(const char *host, const char *field, struct diag_list *errs)
{
    char out[HOST_MAX + 1];
    int nerr = 0;
    return host_parse_n(host ? host : "", host ? strlen(host) : 0, out, field, errs, &nerr);
}

/* A decimal port 1..65535. */
static int port_parse(const char *s, size_t len, uint16_t *out, const char *path,
                      struct diag_list *errs, int *nerr)
{
    char q[DIAG_QUOTE_MAX], msg[MSG_MAX];
    if (len == 0)
        return add_err(errs, nerr, path, "invalid_port", "the port is missing after ':'");
    diag_quote_n(q, sizeof q, s, len);
    if (strspn(s, "0123456789") < len) {
        snprintf(msg, sizeof msg, "'%s' is not a port number: use %u..%u", q, PORT_MIN, PORT_MAX);
        return add_err(errs, nerr, path, "invalid_port", msg);
    }
    unsigned long v = 0;
    for (size_t i = 0; i < len && v <= PORT_MAX; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (v < PORT_MIN || v > PORT_MAX) {
        snprintf(msg, sizeof msg, "port %s is out of range: use %u..%u", q, PORT_MIN, PORT_MAX);
        return add_err(errs, nerr, path, "invalid_port", msg);
    }
    *out = (uint16_t)v;
    return 0;
}

/* ";transport=tcp;lr": transport is the only parameter that means something
 * for a server; ";lr" (loose routing) is harmless and common in vendors'
 * outbound proxy settings, so it is accepted and dropped. */
static void params_parse(const char *s, size_t len, bool *have, enum transport *t,
                         const char *field, struct diag_list *errs, int *nerr)
{
    char path[DIAG_FIELD_MAX], q[DIAG_QUOTE_MAX], msg[MSG_MAX];
    const char *p = s, *end = s + len;
    while (p <= end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        size_t pl = (size_t)(pe - p);
        const char *eq = memchr(p, '=', pl);
        size_t nl = eq ? (size_t)(eq - p) : pl;
        if (pl == 0) {
            add_err(errs, nerr, field, "invalid_parameter",
                    "the server has an empty parameter (';;' or a ';' at the end)");
        } else if (nl == 9 && strncasecmp(p, "transport", 9) == 0) {
            char v[16];
            size_t vl = eq ? (size_t)(pe - eq - 1) : 0;
            if (*have) {
                add_err(errs, nerr, field, "invalid_parameter", "transport is given twice");
            } else if (!eq || vl == 0 || vl >= sizeof v ||
                       (memcpy(v, eq + 1, vl), v[vl] = '\0', transport_from_name(v, t) < 0)) {
                snprintf(msg, sizeof msg, "'%s' is not a transport: use udp, tcp, tls or auto",
                         eq ? diag_quote_n(q, sizeof q, eq + 1, vl) : "");
                add_err(errs, nerr, diag_path(path, sizeof path, field, "transport"),
                        "invalid_transport", msg);
            }
            *have = true;
        } else if (!(pl == 2 && strncasecmp(p, "lr", 2) == 0)) {
            snprintf(msg, sizeof msg, "';%s' is not allowed in a server: only ';transport=udp', "
                     "'tcp' or 'tls' (and ';lr') are", diag_quote_n(q, sizeof q, p, pl));
            add_err(errs, nerr, field, "invalid_parameter", msg);
        }
        if (!semi)
            break;
        p = semi + 1;
    }
}

int server_parse(const char *text, struct server *out, const char *field, struct diag_list *errs)
{
    char hpath[DIAG_FIELD_MAX], ppath[DIAG_FIELD_MAX], tpath[DIAG_FIELD_MAX];
    char q[DIAG_QUOTE_MAX], msg[MSG_MAX];
    int nerr = 0;

    memset(out, 0, sizeof *out);
    out->transport = TRANSPORT_AUTO;
    /* Decision: "" is the same as null (not set), as an emptied form field is. */
    if (!text || !*text)
        return 0;
    out->set = true;
    diag_path(hpath, sizeof hpath, field, "host");
    diag_path(ppath, sizeof ppath, field, "port");
    diag_path(tpath, sizeof tpath, field, "transport");

    const char *p = text, *end = text + strlen(text);
    if (not_a_server(p, (size_t)(end - p), hpath, errs, &nerr))
        return -EINVAL;

    bool sips = false;
    if (strncasecmp(p, "sips:", 5) == 0) {
        sips = true;
        p += 5;
    } else if (strncasecmp(p, "sip:", 4) == 0) {
        p += 4;
    }

    const char *qm = memchr(p, '?', (size_t)(end - p));
    if (qm) {
        snprintf(msg, sizeof msg, "'%s' is not a SIP server: headers ('?...') are not allowed",
                 diag_quote_n(q, sizeof q, text, strlen(text)));
        add_err(errs, &nerr, field, "invalid_parameter", msg);
        return -EINVAL;
    }

    /* Parameters are parsed first but reported after host and port, in the
     * order they are written. */
    bool have_t = false;
    enum transport t = TRANSPORT_AUTO;
    struct diag_list perrs;
    diag_init(&perrs);
    const char *semi = memchr(p, ';', (size_t)(end - p));
    if (semi)
        params_parse(semi + 1, (size_t)(end - semi - 1), &have_t, &t, field, &perrs, &nerr);
    const char *hp_end = semi ? semi : end;

    const char *host = p, *port = NULL;
    size_t host_len = (size_t)(hp_end - p), port_len = 0;
    if (host_len > 0 && p[0] == '[') {
        const char *rb = memchr(p, ']', host_len);
        if (!rb) {
            snprintf(msg, sizeof msg, "'%s' is not a host: the '[' of an IPv6 address is not "
                     "closed", diag_quote_n(q, sizeof q, p, host_len));
            add_err(errs, &nerr, hpath, "invalid_host", msg);
            return -EINVAL;
        }
        host_len = (size_t)(rb + 1 - p);
        if (rb + 1 < hp_end) {
            if (rb[1] != ':') {
                snprintf(msg, sizeof msg, "'%s' is not a host: only ':port' may follow ']'",
                         diag_quote_n(q, sizeof q, p, (size_t)(hp_end - p)));
                add_err(errs, &nerr, hpath, "invalid_host", msg);
                return -EINVAL;
            }
            port = rb + 2;
            port_len = (size_t)(hp_end - port);
        }
    } else {
        size_t colons = 0;
        for (const char *c = p; c < hp_end; c++)
            colons += *c == ':';
        const char *colon = memchr(p, ':', host_len);
        /* A bare IPv6 address ("2001:db8::1") has 2+ colons and cannot carry
         * a port; host_parse_n accepts it only if inet_pton does. */
        if (colons == 1) {
            host_len = (size_t)(colon - p);
            port = colon + 1;
            port_len = (size_t)(hp_end - port);
        }
    }

    host_parse_n(host, host_len, out->host, hpath, errs, &nerr);
    if (port)
        port_parse(port, port_len, &out->port, ppath, errs, &nerr);
    diag_merge(errs, &perrs);

    if (sips) {
        /* sips: means TLS all the way; RFC 3261's ";transport=tcp" on a sips:
         * URI is TLS over TCP, so it stays tls; only udp contradicts it. */
        if (have_t && t == TRANSPORT_UDP)
            add_err(errs, &nerr, tpath, "invalid_transport",
                    "sips: needs TLS, so transport=udp is not possible: use sip: for udp");
        t = TRANSPORT_TLS;
    }
    out->transport = t;
    return nerr ? -EINVAL : 0;
}

int server_check(const struct server *s, const char *field, struct diag_list *errs)
{
    char path[DIAG_FIELD_MAX];
    int nerr = 0;
    if (!s->set)
        return 0;
    char out[HOST_MAX + 1];
    host_parse_n(s->host, strnlen(s->host, sizeof s->host), out,
                 diag_path(path, sizeof path, field, "host"), errs, &nerr);
    if ((unsigned)s->transport > TRANSPORT_TLS)
        add_err(errs, &nerr, diag_path(path, sizeof path, field, "transport"),
                "invalid_transport", "the transport is not one of auto, udp, tcp, tls");
    return nerr ? -EINVAL : 0;
}

int server_format(const struct server *s, char *buf, size_t n)
{
    int w;
    if (!s->set)
        w = snprintf(buf, n, "%s", "");
    else {
        bool v6 = strchr(s->host, ':') != NULL;
        char port[8] = "";
        if (s->port)
            snprintf(port, sizeof port, ":%u", (unsigned)s->port);
        /* A host named "sip" or "sips" with a port would read as a URI
         * scheme ("sip:5060"), so it gets an explicit one. */
        bool scheme = s->port && (strcmp(s->host, "sip") == 0 || strcmp(s->host, "sips") == 0);
        w = snprintf(buf, n, "%s%s%s%s%s%s%s", scheme ? "sip:" : "", v6 ? "[" : "", s->host,
                     v6 ? "]" : "", port,
                     s->transport != TRANSPORT_AUTO ? ";transport=" : "",
                     s->transport != TRANSPORT_AUTO ? transport_name(s->transport) : "");
    }
    return (w < 0 || (size_t)w >= n) ? -ENOSPC : 0;
}

bool server_equal(const struct server *a, const struct server *b)
{
    if (!a->set || !b->set)
        return a->set == b->set;
    return strcmp(a->host, b->host) == 0 && a->port == b->port && a->transport == b->transport;
}

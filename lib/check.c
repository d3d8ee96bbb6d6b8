/* check: see check.h. Every rule reads the field table of line.c, so JSON
 * input, flash images and the API's final check apply the same rules. */
#include "check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dns_target.h"
#include "hostport.h"
#include "text.h"

#define MSG_MAX 1024

/* One strict UTF-8 sequence (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF. Returns its length, or 0 with `why` set. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp, const char **why)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4;
    else {
        *why = (c == 0xc0 || c == 0xc1) ? "an overlong sequence"
               : c < 0xc0               ? "a stray continuation byte"
                                        : "a byte that never occurs in UTF-8";
        return 0;
    }
    if (c == 0xe0)
        lo = 0xa0;          /* below: overlong */
    else if (c == 0xed)
        hi = 0x9f;          /* above: UTF-16 surrogates */
    else if (c == 0xf0)
        lo = 0x90;          /* below: overlong */
    else if (c == 0xf4)
        hi = 0x8f;          /* above: beyond U+10FFFF */
    if (len < n) {
        *why = "a sequence cut short";
        return 0;
    }
    uint32_t v = c & (0xff >> (n + 1));
    for (size_t i = 1; i < n; i++) {
        unsigned char b = s[i];
        unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xbf;
        if (b < l || b > h) {
            if (b < 0x80 || b > 0xbf)
                *why = "a sequence cut short";
            else if (c == 0xed)
                *why = "an encoded UTF-16 surrogate";
            else if (c == 0xf4)
                *why = "a code point above U+10FFFF";
            else
                *why = "an overlong sequence";
            return 0;
        }
        v = (v << 6) | (b & 0x3f);
    }
    *cp = v;
    return n;
}

/* Bidi embeddings, overrides and isolates, marks, zero-width characters,
 * the word joiner and invisible operators, the BOM, the soft hyphen. */
static bool invisible(uint32_t cp)
{
    return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c ||
           cp == 0x180e || cp == 0xfeff || cp == 0x00ad;
}

/* `secret`: a password, never quoted in a message (messages reach responses
 * and logs). */
static int text_rules(const char *s, size_t len, size_t max, const char *field,
                      struct diag_list *errs, bool secret)
{
    char q[DIAG_QUOTE_MAX];
    if (secret)
        snprintf(q, sizeof q, "the password");
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        const char *why = NULL;
        size_t k = utf8_next(u + i, len - i, &cp, &why);
        if (!secret)
            diag_quote_n(q, sizeof q, s, len);
        if (k == 0) {
            diag_add(errs, field, "invalid_utf8", "%s%s%s is not valid UTF-8: %s at byte %zu",
                     secret ? "" : "'", q, secret ? "" : "'", why, i);
            return -EINVAL;
        }
        /* C0, DEL and C1: nothing a person types, and CR/LF would let a value
         * pose as a new record in anything line-based downstream. */
        /* U+2028/U+2029, the line and paragraph separators, are line breaks
         * too, in a label as much as CR LF (not in a password: its bytes are
         * never shown). */
        bool separator = !secret && (cp == 0x2028 || cp == 0x2029);
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || separator) {
            diag_add(errs, field, "control_character",
                     "%s%s%s contains a control character (U+%04X) at byte %zu: line breaks, "
                     "tabs and other control characters are not allowed",
                     secret ? "" : "'", q, secret ? "" : "'", (unsigned)cp, i);
            return -EINVAL;
        }
        /* Characters that change how text around them is shown without
         * showing themselves (bidi overrides, zero-width): a label reading
         * "Office" could be something else. Passwords may hold anything. */
        if (!secret && invisible(cp)) {
            diag_add(errs, field, "invisible_character",
                     "'%s' contains an invisible or direction-changing character (U+%04X) at "
                     "byte %zu: it could make the text look like something else",
                     q, (unsigned)cp, i);
            return -EINVAL;
        }
        i += k;
    }
    if (len > max) {
        if (!secret)
            diag_quote_n(q, sizeof q, s, len);
        diag_add(errs, field, "too_long", "%s%s%s is %zu bytes long, at most %zu are allowed",
                 secret ? "" : "'", q, secret ? "" : "'", len, max);
        return -EINVAL;
    }
    return 0;
}

int check_text(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs)
{
    return text_rules(s, len, max, field, errs, false);
}

int check_secret(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs)
{
    return text_rules(s, len, max, field, errs, true);
}

/* RFC 3261 25.1: user = 1*( unreserved / escaped / user-unreserved ).
 * Decision: of user-unreserved, ';', '?' and '$' are refused although the RFC
 * allows them: ';' and '?' start URI parameters and headers in the many SIP
 * stacks that split URIs naively, and '$' is a shell metacharacter; a user
 * that really contains one can write it escaped (%3B, %3F, %24). An escape
 * that encodes a control character (%0a) is refused too. */
int check_user(const char *s, size_t len, size_t max, const char *field, struct diag_list *errs)
{
    static const char mark[] = "-_.!~*'()";
    static const char user_unreserved[] = "&=+,/";
    char q[DIAG_QUOTE_MAX];
    if (check_text(s, len, max, field, errs) < 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c && strchr(mark, c)) || (c && strchr(user_unreserved, c)))
            continue;
        diag_quote_n(q, sizeof q, s, len);
        if (c == '%') {
            int h1 = i + 1 < len ? text_hexval(s[i + 1]) : -1;
            int h2 = i + 2 < len ? text_hexval(s[i + 2]) : -1;
            if (h1 < 0 || h2 < 0) {
                diag_add(errs, field, "invalid_user",
                         "'%s' is not a valid user: '%%' must be followed by two hex digits", q);
                return -EINVAL;
            }
            int v = h1 * 16 + h2;
            if (v < 0x20 || v == 0x7f) {
                diag_add(errs, field, "invalid_user",
                         "'%s' is not a valid user: %%%c%c encodes a control character", q,
                         s[i + 1], s[i + 2]);
                return -EINVAL;
            }
            i += 2;
            continue;
        }
        if (c == ' ')
            diag_add(errs, field, "invalid_user", "'%s' is not a valid user: it contains a space",
                     q);
        else if (c == '@')
            diag_add(errs, field, "invalid_user",
                     "'%s' is not a valid user: '@' is not allowed (the domain goes in 'domain')",
                     q);
        else if (c == ';' || c == '?' || c == '$')
            diag_add(errs, field, "invalid_user",
                     "'%s' is not a valid user: '%c' is not allowed (write it as %%%02X)", q, c,
                     c);
        else if (c >= 0x80)
            diag_add(errs, field, "invalid_user",
                     "'%s' is not a valid user: it contains a non-ASCII character (write it as "
                     "%%HH escapes)", q);
        else
            diag_add(errs, field, "invalid_user",
                     "'%s' is not a valid user: '%c' is not allowed: use letters, digits, "
                     "- _ . ! ~ * ' ( ) & = + , / or %%HH escapes", q, c);
        return -EINVAL;
    }
    return 0;
}

int check_field_text(const struct field_desc *f, const char *s, size_t len, const char *path,
                     struct diag_list *errs)
{
    switch (f->type) {
    case FT_USER:
        return check_user(s, len, f->max_len, path, errs);
    case FT_DOMAIN: {
        /* "" = the proxy's host; otherwise a host name or an IP literal. */
        char out[HOST_MAX + 1];
        return len == 0 ? 0 : host_parse(s, len, out, path, errs);
    }
    case FT_PASSWORD:
        return check_secret(s, len, f->max_len, path, errs);
    case FT_TEXT:
        return check_text(s, len, f->max_len, path, errs);
    default:
        return -EINVAL;
    }
}

int check_uint(const struct field_desc *f, long long v, const char *path, struct diag_list *errs)
{
    if (v < (long long)f->min || v > (long long)f->max) {
        /* LLONG_MAX/MIN: a number beyond 64 bits, clamped by json_parse_body */
        if (v == LLONG_MAX || v == LLONG_MIN)
            diag_add(errs, path, "out_of_range", "%s is far too %s: use %u..%u", f->json,
                     v > 0 ? "large" : "small", (unsigned)f->min, (unsigned)f->max);
        else
            diag_add(errs, path, "out_of_range", "%s %lld is out of range: use %u..%u", f->json,
                     v, (unsigned)f->min, (unsigned)f->max);
        return -EINVAL;
    }
    return 0;
}

int check_resolved(const char *s, const char *path, struct diag_list *errs)
{
    size_t len = strnlen(s, RESOLVED_MAX + 1);
    char q[DIAG_QUOTE_MAX];
    if (len > RESOLVED_MAX) {
        diag_add(errs, path, "too_long", "the stored resolution is over %d bytes long",
                 RESOLVED_MAX);
        return -EINVAL;
    }
    for (const char *e = s, *end = s + len; len && e <= end;) {
        const char *semi = memchr(e, ';', (size_t)(end - e));
        size_t el = (size_t)((semi ? semi : end) - e);
        struct dns_target t;
        if (dns_target_parse(e, el, &t) < 0) {
            diag_add(errs, path, "invalid_resolved",
                     "'%s' is not a stored resolution ('prio weight port transport host "
                     "addr[,addr]' entries separated by ';')", diag_quote_n(q, sizeof q, e, el));
            return -EINVAL;
        }
        if (!semi)
            break;
        e = semi + 1;
    }
    return 0;
}

/* What is wrong with an IP literal as a server, or NULL (names and unicast). */
static const char *odd_address(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        uint32_t a = ntohl(a4.s_addr);
        if (a == 0xffffffffu) return "the broadcast address";
        if ((a >> 28) == 0xe) return "a multicast address";
        if (a == 0) return "the unspecified address 0.0.0.0";
        return NULL;
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (a6.s6_addr[0] == 0xff) return "a multicast address";
        if (IN6_IS_ADDR_UNSPECIFIED(&a6)) return "the unspecified address ::";
    }
    return NULL;
}

static void warn_same(struct diag_list *warns, const char *prefix, const struct line *l,
                      enum server_field a, enum server_field b, const char *code,
                      const char *why)
{
    char path[DIAG_FIELD_MAX];
    if (l->srv[a].set && l->srv[b].set && server_equal(&l->srv[a], &l->srv[b]))
        diag_add(warns, diag_path(path, sizeof path, prefix, server_field_name(a)), code,
                 "%s is the same server as %s: %s", server_field_name(a), server_field_name(b),
                 why);
}

static void line_warnings(const struct line *l, const char *prefix, struct diag_list *warns)
{
    char path[DIAG_FIELD_MAX], fpath[DIAG_FIELD_MAX];

    /* A backup stands behind its primary (the table's backup_of), and a primary
     * left unset hands its job on (the registrar's to the proxy). */
    for (int f = 0; f < SF_COUNT; f++) {
        int primary = line_server_primary(l, (enum server_field)f);
        if (primary >= 0)
            warn_same(warns, prefix, l, (enum server_field)f, (enum server_field)primary,
                      "backup_same_as_primary", "there is nothing else to try when it fails");
    }
    warn_same(warns, prefix, l, SF_REGISTRAR, SF_PROXY, "registrar_same_as_proxy",
              "leave registrar empty (null) and the proxy registers the line");
    warn_same(warns, prefix, l, SF_OUTBOUND_PROXY, SF_PROXY, "outbound_proxy_same_as_proxy",
              "usually a mistake: leave it empty unless every request, whatever its "
              "destination, must go through the proxy");

    for (int f = 0; f < SF_COUNT; f++) {
        const struct field_desc *d = line_server_row((enum server_field)f);
        int primary = line_server_primary(l, (enum server_field)f);
        if (primary < 0 || !l->srv[f].set || l->srv[primary].set)
            continue;
        const struct field_desc *p = line_server_row((enum server_field)d->backup_of);
        char why[DIAG_MESSAGE_MAX];
        if (p->fallback >= 0)
            snprintf(why, sizeof why, "neither %s nor %s is", p->json,
                     server_field_name((enum server_field)p->fallback));
        else
            snprintf(why, sizeof why, "%s is not", p->json);
        diag_add(warns, diag_path(path, sizeof path, prefix, d->json), "backup_without_primary",
                 "%s is set but %s: a backup is only tried when the primary fails", d->json, why);
    }

    for (int f = 0; f < SF_COUNT; f++) {
        const struct server *s = &l->srv[f];
        if (!s->set)
            continue;
        diag_path(fpath, sizeof fpath, prefix, server_field_name((enum server_field)f));
        const char *odd = odd_address(s->host);
        if (odd) {
            diag_path(path, sizeof path, fpath, "host");
            diag_add(warns, path, "not_unicast",
                     "%s is %s, not the address of one server: requests sent there do not "
                     "reach a registrar", server_field_name((enum server_field)f), odd);
        }
        diag_path(path, sizeof path, fpath, "port");
        if (s->transport == TRANSPORT_TLS && s->port == 5060)
            diag_add(warns, path, "tls_on_5060",
                     "%s uses tls on port 5060, the port for udp and tcp: TLS is normally on "
                     "5061", server_field_name((enum server_field)f));
        else if ((s->transport == TRANSPORT_UDP || s->transport == TRANSPORT_TCP) &&
                 s->port == 5061)
            diag_add(warns, path, "plain_on_5061",
                     "%s uses %s on port 5061, the port for TLS: use transport tls, or port 5060",
                     server_field_name((enum server_field)f), transport_name(s->transport));
    }

    if (l->enabled && !l->srv[SF_PROXY].set)
        diag_add(warns, diag_path(path, sizeof path, prefix, server_field_name(SF_PROXY)),
                 "no_proxy",
                 "the line is enabled but has no proxy, so it can neither register nor call");
    const struct field_desc *user = line_field_at(offsetof(struct line, user));
    if (l->enabled && !l->user[0])
        diag_add(warns, diag_path(path, sizeof path, prefix, user->json), "no_user",
                 "the line is enabled but has no user, so it has no address to register");
}

int check_line(const struct line *l, const char *prefix, struct diag_list *errs,
               struct diag_list *warns)
{
    struct diag_list scratch;
    char path[DIAG_FIELD_MAX], rpath[DIAG_FIELD_MAX];
    if (!errs) {
        diag_init(&scratch);
        errs = &scratch;
    }
    size_t before = diag_count(errs);

    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        const char *p = (const char *)l + d->offset;
        diag_path(path, sizeof path, prefix, d->json);
        switch (d->type) {
        case FT_BOOL:
            break;
        case FT_UINT:
            check_uint(d, *(const uint32_t *)p, path, errs);
            break;
        case FT_SERVER:
            server_check((const struct server *)p, path, errs);
            if (l->resolved[d->server][0])
                check_resolved(l->resolved[d->server], diag_path(rpath, sizeof rpath, path,
                                                                 "resolved"), errs);
            break;
        default:
            /* The buffer is max_len + 1: an unterminated one reads as too long. */
            check_field_text(d, p, strnlen(p, d->max_len + 1), path, errs);
        }
    }
    if (warns)
        line_warnings(l, prefix, warns);
    return diag_count(errs) > before ? -EINVAL : 0;
}

int check_config(const struct config *c, struct diag_list *errs, struct diag_list *warns)
{
    size_t before = diag_count(errs);
    char prefix[32];
    if (c->nlines < 1 || c->nlines > LINE_MAX_LINES) {
        diag_add(errs, "lines", "out_of_range", "a phone has 1..%d lines, not %u",
                 LINE_MAX_LINES, c->nlines);
        return -EINVAL;
    }
    for (unsigned i = 0; i < c->nlines; i++) {
        snprintf(prefix, sizeof prefix, "lines[%u]", i);
        check_line(&c->line[i], prefix, errs, warns);
    }
    size_t hl = strnlen(c->admin_ha1, sizeof c->admin_ha1);
    if (hl != 0 && (hl != ADMIN_HA1_HEX || strspn(c->admin_ha1, "0123456789abcdef") != hl))
        diag_add(errs, "admin.ha1", "invalid_type",
                 "the admin password hash is not %d lower-case hex digits", ADMIN_HA1_HEX);
    return diag_count(errs) > before ? -EINVAL : 0;
}

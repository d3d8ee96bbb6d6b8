/* line: see line.h. The field table below is the only place that lists the
 * fields of a line: JSON names, flash keys, checks, messages, hints for
 * near-miss keys and the page's labels are all derived from it. */
#include "line.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "hostport.h"
#include "sipcfg.h"

/* Where the row's value lives in the daemon's struct line and in the SIP
 * core's struct sipcfg_line (same member name in both for plain fields). */
#define AT(member)                                                                      \
    .offset = offsetof(struct line, member),                                             \
    .reader_offset = offsetof(struct sipcfg_line, member),                               \
    .reader_size = sizeof(((struct sipcfg_line *)0)->member)
/* A text row: JSON name and flash key are the member's name, the limit its size. */
#define TEXT(member, type_, label_, help_, vendors_)                                    \
    { .json = #member, .key = #member, .type = (type_), AT(member),                     \
      .max_len = sizeof(((struct line *)0)->member) - 1,                                \
      .server = -1, .backup_of = -1, .fallback = -1, .label = (label_), .help = (help_), \
      .vendors = (vendors_) }
#define BOOL(js, member, def_, label_, help_, vendors_)                                 \
    { .json = (js), .key = (js), .type = FT_BOOL, AT(member), .def = (def_),             \
      .server = -1, .backup_of = -1, .fallback = -1, .label = (label_), .help = (help_), \
      .vendors = (vendors_) }
#define SERVER(js, sf, rmember, backup_of_, fallback_, label_, help_, vendors_)         \
    { .json = (js), .key = (js), .type = FT_SERVER,                                     \
      .offset = offsetof(struct line, srv[sf]),                                          \
      .reader_offset = offsetof(struct sipcfg_line, rmember),                            \
      .reader_size = sizeof(((struct sipcfg_line *)0)->rmember), .max_len = HOST_MAX,    \
      .server = (sf),                                                                    \
      .backup_of = (backup_of_), .fallback = (fallback_), .label = (label_),             \
      .help = (help_), .vendors = (vendors_) }

/* Order = the order of the JSON object and of the page's form. `vendors` is
 * "Vendor: Name; Vendor: Name": json.c turns those names into hints for a key
 * an automation script copied from a vendor's manual. */
const struct field_desc line_fields[] = {
    /* Decision: a line is disabled by default, so a freshly provisioned or
     * reset line never registers with half-filled settings. */
    BOOL("enabled", enabled, 0, "Enabled",
         "Whether the phone uses this line at all.",
         "Snom: Identity active; Yealink: Line Active; Grandstream: Account Active; "
         "Linksys: Line Enable"),
    TEXT(label, FT_TEXT, "Label",
         "The name the phone shows on its screen for this line.",
         "Yealink: Label; Grandstream: Account Name; Polycom: reg.x.label; Aastra: Screen Name"),
    TEXT(display_name, FT_TEXT, "Display name",
         "The name callees see for your calls (the From header's display name).",
         "Snom: Display Name; Yealink: Display Name; Grandstream: Name; Linksys: Display Name; "
         "Polycom: reg.x.displayName; Aastra: Display Name"),
    TEXT(user, FT_USER, "User",
         "The user part of the account's address (user@domain), often the extension number.",
         "Snom: Account; Yealink: User Name; Grandstream: SIP User ID; Linksys: User ID; "
         "Polycom: reg.x.address; Aastra: User Name"),
    TEXT(auth_user, FT_USER, "Authentication user",
         "The user name for digest authentication, when it differs from the user.",
         "Snom: Authentication Username; Yealink: Register Name; Grandstream: Authenticate ID; "
         "Linksys: Auth ID; Polycom: reg.x.auth.userId; Aastra: Authentication Name"),
    TEXT(password, FT_PASSWORD, "Password",
         "The password for digest authentication; it can be set but never read back.",
         "Snom: Password; Yealink: Password; Grandstream: Authenticate Password; "
         "Linksys: Password; Polycom: reg.x.auth.password; Aastra: Password"),
    TEXT(domain, FT_DOMAIN, "Domain",
         "The SIP domain of the account; empty means the proxy's host.",
         ""),
    BOOL("dns_srv", dns_srv, 1, "Use DNS SRV",
         "Look up NAPTR and SRV records (RFC 3263) for this line's servers; off means A/AAAA only.",
         "Linksys: Use DNS SRV; Grandstream: DNS Mode"),
    BOOL("register", reg, 1, "Register",
         "Whether the phone registers this line with the registrar.",
         "Linksys: Register; Grandstream: SIP Registration; Polycom: reg.x.server.1.register"),
    { .json = "register_expires", .key = "register_expires", .type = FT_UINT,
      AT(register_expires), .min = EXPIRES_MIN, .max = EXPIRES_MAX, .def = EXPIRES_DEFAULT,
      .server = -1, .backup_of = -1, .fallback = -1, .label = "Registration expiry",
      .help = "How long a registration lasts, in seconds, before the phone renews it.",
      .vendors = "Linksys: Register Expires; Yealink: Server Expires; "
                 "Grandstream: Register Expiration; Polycom: reg.x.server.1.expires; "
                 "Aastra: Registration Period; Snom: Registration Expiry" },
    SERVER("proxy", SF_PROXY, proxy, -1, -1, "Proxy",
           "The SIP server of the account: calls go there, and it registers the line unless a registrar is set.",
           "Snom: Registrar; Aastra: Proxy Server; Grandstream: SIP Server; Linksys: Proxy; "
           "Yealink: SIP Server 1; Polycom: reg.x.server.1"),
    SERVER("registrar", SF_REGISTRAR, registrar, -1, SF_PROXY, "Registrar",
           "A separate server for REGISTER only; empty means the proxy registers.",
           "Aastra: Registrar Server"),
    SERVER("outbound_proxy", SF_OUTBOUND_PROXY, outbound_proxy, -1, -1, "Outbound proxy",
           "When set, every request goes there first, whatever its destination.",
           "Snom: Outbound Proxy; Grandstream: Outbound Proxy; Yealink: Outbound Proxy Server; "
           "Linksys: Outbound Proxy; Polycom: reg.x.outboundProxy; Aastra: Outbound Proxy Server"),
    SERVER("backup_proxy", SF_BACKUP_PROXY, backup_proxy, SF_PROXY, -1, "Backup proxy",
           "Tried for calls when the proxy does not answer.",
           "Yealink: SIP Server 2; Polycom: reg.x.server.2; Aastra: Backup Proxy Server; "
           "Grandstream: Secondary SIP Server"),
    SERVER("backup_registrar", SF_BACKUP_REGISTRAR, backup_registrar, SF_REGISTRAR,
           SF_BACKUP_PROXY, "Backup registrar",
           "Tried for REGISTER when the registrar (or the proxy) does not answer.",
           "Aastra: Backup Registrar Server"),
};
const size_t line_nfields = sizeof line_fields / sizeof line_fields[0];

const char *line_field_member(const struct field_desc *d)
{
    return d->type == FT_PASSWORD ? "password_set" : d->json;
}

const struct field_desc *line_field_by_member(const char *name)
{
    for (size_t i = 0; name && i < line_nfields; i++)
        if (strcmp(line_field_member(&line_fields[i]), name) == 0)
            return &line_fields[i];
    return line_field(name);
}

const struct field_desc *line_field(const char *json_name)
{
    if (!json_name)
        return NULL;
    for (size_t i = 0; i < line_nfields; i++)
        if (strcmp(line_fields[i].json, json_name) == 0)
            return &line_fields[i];
    return NULL;
}

const struct field_desc *line_field_at(size_t offset)
{
    for (size_t i = 0; i < line_nfields; i++)
        if (line_fields[i].offset == offset)
            return &line_fields[i];
    return NULL;
}

const struct field_desc *line_server_row(enum server_field f)
{
    for (size_t i = 0; i < line_nfields; i++)
        if (line_fields[i].type == FT_SERVER && line_fields[i].server == (int)f)
            return &line_fields[i];
    return NULL;
}

const char *server_field_name(enum server_field f)
{
    const struct field_desc *d = (unsigned)f < SF_COUNT ? line_server_row(f) : NULL;
    return d ? d->json : "?";
}

enum server_field line_server_effective(const struct line *l, enum server_field f)
{
    for (enum server_field g = f; (unsigned)g < SF_COUNT;) {
        if (l->srv[g].set)
            return g;
        const struct field_desc *d = line_server_row(g);
        if (!d || d->fallback < 0)
            break;
        g = (enum server_field)d->fallback;
    }
    return f;
}

int line_server_primary(const struct line *l, enum server_field backup)
{
    const struct field_desc *d = (unsigned)backup < SF_COUNT ? line_server_row(backup) : NULL;
    if (!d || d->backup_of < 0)
        return -1;
    return (int)line_server_effective(l, (enum server_field)d->backup_of);
}

bool line_vendor_next(const char **pp, char *vendor, size_t vn, char *name, size_t nn)
{
    const char *p = *pp;
    while (p && *p) {
        const char *semi = strchr(p, ';');
        size_t el = semi ? (size_t)(semi - p) : strlen(p);
        const char *colon = memchr(p, ':', el);
        const char *next = semi ? semi + 1 : p + el;
        while (*next == ' ')
            next++;
        if (colon) {
            size_t vl = (size_t)(colon - p), nl = el - vl - 1;
            const char *np = colon + 1;
            while (nl && *np == ' ') {
                np++;
                nl--;
            }
            if (vl < vn && nl < nn) {
                memcpy(vendor, p, vl);
                vendor[vl] = '\0';
                memcpy(name, np, nl);
                name[nl] = '\0';
                *pp = next;
                return true;
            }
        }
        p = next;
    }
    *pp = p;
    return false;
}

void line_defaults(struct line *l)
{
    memset(l, 0, sizeof *l);          /* texts "", servers unset */
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        char *p = (char *)l + d->offset;
        if (d->type == FT_BOOL)
            *(bool *)p = d->def != 0;
        else if (d->type == FT_UINT)
            *(uint32_t *)p = d->def;
        else if (d->type == FT_SERVER)
            ((struct server *)p)->transport = TRANSPORT_AUTO;
    }
}

_Static_assert(sizeof(((struct line *)0)->user) == LINE_TEXT_MAX + 1 &&
               sizeof(((struct line *)0)->password) == LINE_PASSWORD_MAX + 1 &&
               sizeof(((struct line *)0)->domain) == HOST_MAX + 1,
               "SIPCFG_LINE_TEXTS (include/sipcfg.h) and the limits of line.h agree");
_Static_assert(sizeof line_fields / sizeof line_fields[0] <= LINE_FIELDS_MAX,
               "struct line's provenance and lock bits hold LINE_FIELDS_MAX fields");

bool line_field_equal(const struct field_desc *d, const struct line *a, const struct line *b)
{
    const char *pa = (const char *)a + d->offset, *pb = (const char *)b + d->offset;
    switch (d->type) {
    case FT_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    case FT_UINT:
        return *(const uint32_t *)pa == *(const uint32_t *)pb;
    case FT_SERVER:
        return server_equal((const struct server *)pa, (const struct server *)pb);
    default:
        return strcmp(pa, pb) == 0;
    }
}

bool line_equal(const struct line *a, const struct line *b, bool with_resolved)
{
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        if (!line_field_equal(d, a, b))
            return false;
        if (d->type == FT_SERVER && with_resolved &&
            strcmp(a->resolved[d->server], b->resolved[d->server]) != 0)
            return false;
    }
    return true;
}

/* line: the model of one SIP line (API.md section 2), its defaults, and the one
 * field table that names every field's JSON name, flash key, limits, help text
 * and vendor names. JSON, flash keys, checks, messages and the page read it. */
#ifndef SIPCFG_LINE_H
#define SIPCFG_LINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sipcfg.h"

#define LINE_MAX_LINES 16
#define LINE_DEFAULT_LINES 6
#define LINE_TEXT_MAX 64          /* label, display_name, user, auth_user (bytes) */
#define LINE_PASSWORD_MAX 128
#define HOST_MAX 253              /* a DNS name, or an IP literal without brackets */
#define RESOLVED_MAX 1023         /* a lineN.F.resolved value (API.md section 8) */
#define EXPIRES_MIN 30
#define EXPIRES_MAX 86400
#define EXPIRES_DEFAULT 3600
#define PORT_MIN 1                /* a server's port, wherever one is read */
#define PORT_MAX 65535

enum transport { TRANSPORT_AUTO = 0, TRANSPORT_UDP, TRANSPORT_TCP, TRANSPORT_TLS };

struct server {
    bool set;                     /* false = null: no keys in flash */
    char host[HOST_MAX + 1];      /* lower-case name, IPv4, or IPv6 without brackets */
    uint16_t port;                /* 0 = not given (SRV decides, else 5060/5061) */
    enum transport transport;
};

enum server_field {
    SF_PROXY = 0, SF_REGISTRAR, SF_OUTBOUND_PROXY, SF_BACKUP_PROXY, SF_BACKUP_REGISTRAR,
    SF_COUNT
};

#define LINE_FIELDS_MAX 32        /* rows of line_fields at most: lock bits in a uint32_t */

/* Where a field's value came from (API.md section 2; lib/provenance.h). */
enum prov_source { PROV_DEFAULT = 0, PROV_IMAGE, PROV_PROVISIONING, PROV_API, PROV_PAGE };

struct prov {
    uint8_t source;               /* enum prov_source */
    int64_t at;                   /* Unix seconds (UTC); 0 = unknown */
};

struct line {
    bool enabled;
    /* label, display_name, user, auth_user, password (write-only), domain:
     * the reader's list of text settings (include/sipcfg.h), so that both
     * structs have every text field of the table, at the same size */
#define LINE_TEXT_MEMBER(member, bytes) char member[(bytes) + 1];
    SIPCFG_LINE_TEXTS(LINE_TEXT_MEMBER)
#undef LINE_TEXT_MEMBER
    bool dns_srv;
    bool reg;                               /* JSON "register" */
    uint32_t register_expires;
    struct server srv[SF_COUNT];
    char resolved[SF_COUNT][RESOLVED_MAX + 1]; /* last ok resolution, flash format; "" = none */
    /* Indexed like line_fields (not settings: line_equal ignores them):
     * who set each field's value and when; the locked fields (bit i =
     * line_fields[i]: only provisioning may change them) and who locked each. */
    struct prov prov[LINE_FIELDS_MAX];
    uint32_t locked;
    struct prov lock[LINE_FIELDS_MAX];
};

enum field_type { FT_BOOL, FT_TEXT, FT_USER, FT_PASSWORD, FT_DOMAIN, FT_UINT, FT_SERVER };

struct field_desc {
    const char *json;        /* "display_name" */
    const char *key;         /* flash key suffix after "lineN.": "display_name" */
    enum field_type type;
    size_t offset;           /* offsetof(struct line, ...) */
    size_t reader_offset;    /* offsetof(struct sipcfg_line, ...): the SIP core's copy */
    size_t reader_size;      /* sizeof that member of include/sipcfg.h */
    size_t max_len;          /* text: bytes */
    uint32_t min, max;       /* FT_UINT */
    uint32_t def;            /* FT_BOOL (0/1) and FT_UINT default; texts default to "",
                                servers to unset (transport auto) */
    int server;              /* FT_SERVER: enum server_field, else -1 */
    int backup_of;           /* FT_SERVER: the server this one is the backup of, else -1 */
    int fallback;            /* FT_SERVER: the server that does this one's job while it is
                                unset (the registrar's is the proxy), else -1 */
    const char *label;       /* "Outbound proxy" */
    const char *help;        /* one sentence for the page */
    const char *vendors;     /* "Snom: Registrar; Aastra: Proxy Server; ..." */
};

extern const struct field_desc line_fields[];
extern const size_t line_nfields;

/* The row for a JSON name, or NULL. */
const struct field_desc *line_field(const char *json_name);
/* A field's name in what the API returns (a line's "provenance" and "locked",
 * a "locked" error): its member in the line object, so the write-only
 * password is "password_set" there and no answer has a "password" member. */
const char *line_field_member(const struct field_desc *d);
/* The row for such a name (or for the JSON name itself), or NULL. */
const struct field_desc *line_field_by_member(const char *name);
/* The row of the struct line member at `offset` (offsetof(struct line, user)), or NULL. */
const struct field_desc *line_field_at(size_t offset);
/* JSON / flash name of a server field ("outbound_proxy"). */
const char *server_field_name(enum server_field f);
/* The row of a server field. */
const struct field_desc *line_server_row(enum server_field f);
/* The server that does f's job in this line: f when set, else its fallback's
 * (registrar -> proxy); f itself when neither is set. */
enum server_field line_server_effective(const struct line *l, enum server_field f);
/* The primary a backup field stands behind in this line (backup_registrar:
 * the registrar, or the proxy while no registrar is set); -1 for a non-backup. */
int line_server_primary(const struct line *l, enum server_field backup);

/* The next "Vendor: Name" of a row's `vendors` ("Snom: Registrar; Aastra:
 * Proxy Server"), from *p on (start with *p = row->vendors): true with both
 * filled and *p past it; an entry that does not fit vendor[vn] / name[nn] is
 * skipped. False at the end. */
bool line_vendor_next(const char **p, char *vendor, size_t vn, char *name, size_t nn);

/* Factory defaults, from the table: disabled, empty texts, dns_srv and register
 * on, 3600 s, no servers. */
void line_defaults(struct line *l);
/* The same value of one field (a row of line_fields) in two lines. */
bool line_field_equal(const struct field_desc *d, const struct line *a, const struct line *b);
/* Same settings (resolved values ignored when `with_resolved` is false). */
bool line_equal(const struct line *a, const struct line *b, bool with_resolved);

#endif

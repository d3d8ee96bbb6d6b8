/*
 * sipcfg.h - what a phone's SIP core links against to read its SIP lines.
 *
 * The configuration lives in an emulated NOR flash image with two CRC'd banks
 * (docs/STORE.md). sipcfg_open() loads the newest valid bank; the web admin
 * (sipcfgd) or the CLI may commit a newer one at any time, and a power cut
 * never leaves a mix of old and new. A SIP core typically:
 *
 *     sipcfg *c;
 *     if (sipcfg_open("/var/lib/sipcfg/flash.img", &c) == 0) {
 *         struct sipcfg_line l;
 *         if (sipcfg_get_line(c, 1, &l) == 0 && l.enabled && l.proxy.set)
 *             register_to(l.proxy.host, l.proxy.port, ...);
 *         ...
 *         if (sipcfg_changed(c) > 0)      // poll now and then, cheap
 *             sipcfg_reload(c);
 *         sipcfg_close(c);
 *     }
 *
 * Every function returns 0 (or a count) on success and a negative errno on
 * failure; sipcfg_strerror() turns one into words. Not thread-safe: use one
 * handle per thread, or lock around calls.
 */
#ifndef SIPCFG_PUBLIC_H
#define SIPCFG_PUBLIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sipcfg sipcfg;

#define SIPCFG_MAX_LINES 16
#define SIPCFG_MAX_TARGETS 16
#define SIPCFG_MAX_ADDRS 8

/* One place the last good DNS check found for a server (lineN.F.resolved):
 * what to try when DNS is down at boot, in the order to try it. */
struct sipcfg_target {
    unsigned priority, weight, port;
    char transport[4];               /* "udp", "tcp", "tls" */
    char host[254];
    unsigned naddrs;
    char addrs[SIPCFG_MAX_ADDRS][46];
};

struct sipcfg_server {
    int set;                         /* 0: not configured (the rest is empty) */
    char host[254];                  /* name, IPv4, or IPv6 without brackets */
    unsigned port;                   /* 0: not given (SRV decides, else 5060/5061) */
    char transport[5];               /* "auto", "udp", "tcp", "tls" */
    unsigned ntargets;               /* from the last good check; 0 if none stored */
    struct sipcfg_target targets[SIPCFG_MAX_TARGETS];
};

/*
 * The text settings of a line, in their order in struct sipcfg_line: X(member,
 * longest value in bytes). Each is a NUL-terminated string, "" when not set.
 * libsipcfg's own model of a line is expanded from this list as well, so a new
 * text setting is one row here and one row of the library's field table.
 */
#define SIPCFG_LINE_TEXTS(X)                                                    \
    X(label, 64)                     /* the line's name on the phone's screen */ \
    X(display_name, 64)              /* the From header's display name */        \
    X(user, 64)                                                                 \
    X(auth_user, 64)                 /* "" = use user */                         \
    X(password, 128)                                                            \
    X(domain, 253)                   /* "" = the proxy's host */

struct sipcfg_line {
    unsigned number;                 /* 1..16 */
    int enabled;
#define SIPCFG_TEXT_MEMBER(member, bytes) char member[(bytes) + 1];
    SIPCFG_LINE_TEXTS(SIPCFG_TEXT_MEMBER)
#undef SIPCFG_TEXT_MEMBER
    int dns_srv;                     /* 1: resolve with NAPTR/SRV (RFC 3263) */
    int reg;                         /* 1: send REGISTER */
    unsigned register_expires;       /* seconds */
    struct sipcfg_server proxy, registrar, outbound_proxy, backup_proxy, backup_registrar;
};

/*
 * sipcfg_open - open a flash image and load its newest valid configuration.
 * @path: the image file.
 * @out:  the handle, to be closed with sipcfg_close().
 * Returns 0; -ENOENT (no image), -EMEDIUMTYPE (not an image), -EBADMSG
 * (neither bank is valid), -EIO, -ENOMEM. A blank image (never written) opens
 * fine and holds no keys; so does a damaged image file whose banks can still
 * be read (docs/STORE.md section 1: cut short, or a damaged trailer).
 */
int sipcfg_open(const char *path, sipcfg **out);

/* sipcfg_close - release the handle (NULL is fine). */
void sipcfg_close(sipcfg *c);

/*
 * sipcfg_reload - load the newest valid configuration again.
 * On failure the handle keeps what it had. Returns 0 or a negative errno.
 */
int sipcfg_reload(sipcfg *c);

/* sipcfg_generation - the sequence number of the loaded configuration
 * (0 for a blank image); it grows by one with every commit. */
uint32_t sipcfg_generation(const sipcfg *c);

/*
 * sipcfg_changed - whether the image now holds a newer generation than the
 * one loaded: 1 yes, 0 no, negative errno on error. While the image file is
 * unchanged (and has been quiet for two seconds) it costs one fstat and reads
 * no flash, so it is cheap enough to poll often.
 */
int sipcfg_changed(sipcfg *c);

/*
 * sipcfg_get - one flash value by key ("line1.proxy.host"), or NULL if absent.
 * The string belongs to the handle and stays valid until the next reload or close.
 */
const char *sipcfg_get(const sipcfg *c, const char *key);

/* sipcfg_count, sipcfg_key_at, sipcfg_value_at - every key, sorted, for iteration. */
size_t sipcfg_count(const sipcfg *c);
const char *sipcfg_key_at(const sipcfg *c, size_t i);
const char *sipcfg_value_at(const sipcfg *c, size_t i);

/* sipcfg_lines - how many lines the image holds (at least 6, at most 16). */
unsigned sipcfg_lines(const sipcfg *c);

/*
 * sipcfg_get_line - line n (1..sipcfg_lines()) with its servers and their last
 * good resolutions. Values that fail the checks the web admin applies are
 * replaced by the field's default (a hand-edited image cannot inject anything).
 * Returns 0, -ERANGE for a bad n.
 */
int sipcfg_get_line(const sipcfg *c, unsigned n, struct sipcfg_line *out);

/* Where a field's value came from and whether it is locked (API.md section 2). */
struct sipcfg_provenance {
    char source[16];                 /* "default", "image", "provisioning", "api", "page" */
    char at[21];                     /* when, RFC 3339 UTC ("2026-11-28T23:10:00Z"); "" = unknown */
    int locked;                      /* 1: only provisioning may change the field */
    char locked_by[16];              /* who locked it (a source name); "" when not locked */
    char locked_at[21];              /* since when; "" when not locked or unknown */
};

/*
 * sipcfg_get_provenance - the provenance of one field of line n
 * @c:      an open handle
 * @n:      the line, 1..sipcfg_lines(c)
 * @field:  the field's JSON name ("proxy", "password", "register_expires", ...;
 *          "password_set" names the password too)
 * @out:    filled on success
 *
 * Returns 0, -ERANGE for a line outside 1..sipcfg_lines(c), -ENOENT for a
 * name that is not a field of a line.
 */
int sipcfg_get_provenance(const sipcfg *c, unsigned n, const char *field,
                          struct sipcfg_provenance *out);

/* sipcfg_strerror - a negative errno from this API in words. */
const char *sipcfg_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif

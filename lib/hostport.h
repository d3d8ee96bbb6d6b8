/* hostport: SIP host:port parsing: parse and normalise "host:port;transport"
 * and sip:/sips: URIs into a struct server, check a server given as an object,
 * format one for people. */
#ifndef SIPCFG_HOSTPORT_H
#define SIPCFG_HOSTPORT_H
#include <stdbool.h>
#include <stddef.h>
#include "diag.h"
#include "line.h"

/* Every string form of API.md section 1: "pbx.example.com", "pbx.example.com:5062",
 * "[2001:db8::1]:5060", "192.0.2.7", "sip:pbx.example.com;transport=tcp",
 * "sips:pbx.example.com" (= tls). Host names are lower-cased. On error adds to
 * `errs` under `field` (e.g. "proxy" -> "proxy.host", "proxy.port", "proxy.transport";
 * a bad URI parameter or '?' headers -> "proxy" itself, code invalid_parameter)
 * and returns -EINVAL; `out` is then unspecified.
 * Decisions: "" (or NULL) is the same as null: out->set = false, 0 returned.
 * ";lr" is accepted and dropped; any other parameter but transport is an error.
 * "sips:" means tls; "sips:...;transport=tcp" is TLS over TCP, so tls too;
 * "sips:...;transport=udp" is invalid_transport. A bare IPv6 address without
 * brackets is accepted (it cannot carry a port). */
int server_parse(const char *text, struct server *out, const char *field, struct diag_list *errs);

/* Checks a server built from the object form (host, port, transport already typed);
 * errors at field.host / field.transport. An unset server is fine. */
int server_check(const struct server *s, const char *field, struct diag_list *errs);

/* RFC 1123 host name (labels 1..63, 253 in all, LDH, no leading/trailing hyphen)
 * or an IPv4/IPv6 literal. Messages name the exact reason. Errors go to `field`
 * itself (pass "proxy.host"), code invalid_host. Upper case is accepted. */
int host_check(const char *host, const char *field, struct diag_list *errs);
/* host_check of in[0..len) plus normalisation into out: names in lower case
 * without a trailing dot, IPv4 as is, IPv6 (bare or in brackets) in its
 * canonical inet_ntop form without brackets. 0, or -EINVAL with errors at `path`. */
int host_parse(const char *in, size_t len, char out[HOST_MAX + 1], const char *path,
               struct diag_list *errs);
/* The rule of host_check for a name, as a yes/no (the resolver checks every
 * name an answer brings with it): LDH labels 1..63, at most 253 bytes, no
 * leading or trailing hyphen, one trailing dot allowed. `srv_owner` also
 * allows leading "_label"s (_sip._udp.example.com). */
bool host_name_valid(const char *name, bool srv_owner);
/* AF_INET / AF_INET6 for an IP literal (IPv6 without brackets), 0 for a name. */
int host_ip_family(const char *host);
/* The same, and `norm` (when not NULL) gets the literal's canonical inet_ntop text. */
int host_ip_literal(const char *host, char *norm, size_t n);

const char *transport_name(enum transport t);           /* "auto", "udp", "tcp", "tls" */
int transport_from_name(const char *name, enum transport *out);  /* case-insensitive; -EINVAL */

/* "pbx.example.com", "[2001:db8::1]:5060;transport=tcp": for people and logs. */
int server_format(const struct server *s, char *buf, size_t n);
bool server_equal(const struct server *a, const struct server *b);

#endif

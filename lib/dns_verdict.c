/* dns_verdict: see dns_verdict.h. */
#include "dns_verdict.h"

#include <stdio.h>

void dns_result_message(const struct dns_result *r, char *buf, size_t n)
{
    char q[64];
    diag_quote(q, sizeof q, r->server.host);
    switch (r->status) {
    case DNS_OK:
        snprintf(buf, n, "'%s' resolves", q);
        break;
    case DNS_NXDOMAIN:
        snprintf(buf, n, "'%s' does not exist in DNS (NXDOMAIN)", q);
        break;
    case DNS_NO_RECORDS:
        snprintf(buf, n, "'%s' has no SIP service (SRV) records and no address", q);
        break;
    case DNS_UNAVAILABLE:
        snprintf(buf, n, "'%s' says in DNS that it offers no SIP service (SRV target '.')", q);
        break;
    case DNS_SERVFAIL:
        snprintf(buf, n, "the DNS server failed to resolve '%s' (SERVFAIL)", q);
        break;
    case DNS_REFUSED:
        if (r->tcp_refused)
            snprintf(buf, n, "the DNS server's answer for '%s' was truncated over UDP and its TCP "
                             "port refused the connection (refused)", q);
        else
            snprintf(buf, n, "the DNS server refused to resolve '%s' (REFUSED)", q);
        break;
    case DNS_TIMEOUT:
        snprintf(buf, n, "no answer from DNS for '%s' in time (timeout)", q);
        break;
    case DNS_SKIPPED:
    default:
        snprintf(buf, n, "'%s' was not checked", q);
        break;
    }
}

void dns_result_diag(const struct dns_result *r, const char *field, bool required,
                     struct diag_list *errs, struct diag_list *warns)
{
    const struct diag_list *w = r->warnings;
    for (size_t i = 0; w && i < w->n; i++) {
        /* the result's fields are relative to the server ("host", "port") */
        char path[DIAG_FIELD_MAX];
        const char *f = w->item[i].field[0]
                            ? diag_path(path, sizeof path, field, w->item[i].field)
                            : field;
        diag_add(warns, f, w->item[i].code, "%s", w->item[i].message);
    }
    if (r->status == DNS_OK || r->status == DNS_SKIPPED)
        return;
    char code[DIAG_CODE_MAX], msg[DIAG_MESSAGE_MAX];
    snprintf(code, sizeof code, "dns_%s", dns_status_name(r->status));
    dns_result_message(r, msg, sizeof msg);
    diag_add(required ? errs : warns, field, code, "%s", msg);
}

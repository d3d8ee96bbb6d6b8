/* dns_verdict: see dns_verdict.h. */
#include "dns_verdict.h"

#include <stdio.h>

void dns_result_message(const struct dns_result *r, char *buf, size_t n)
{
    char q[64];
    diag_quote(q, sizeof q, r->server.host);
    const char *before, *after;
    dns_status_words(r->status, &before, &after);
    if (r->status == DNS_REFUSED && r->tcp_refused) {   /* not a REFUSED answer: say which */
        before = "the DNS server's answer for '";
        after = "' was truncated over UDP and its TCP port refused the connection (refused)";
    }
    snprintf(buf, n, "%s%s%s", before, q, after);
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

/* dns_result: see dns_result.h */
#include "dns_result.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hostport.h"

struct dns_result *dns_result_dup(const struct dns_result *r)
{
    struct dns_result *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *r;
    c->warnings = NULL;
    if (r->warnings) {
        c->warnings = malloc(sizeof *c->warnings);
        if (!c->warnings) {
            free(c);
            return NULL;
        }
        *c->warnings = *r->warnings;
    }
    return c;
}

void dns_result_free(struct dns_result *r)
{
    if (!r)
        return;
    free(r->warnings);
    free(r);
}

/* Each status: its name (API.md section 4) and its words for a person,
 * around the quoted host name (dns_result_message). */
static const struct {
    const char *name, *before, *after;
} statuses[] = {
    [DNS_OK] = {"ok", "'", "' resolves"},
    [DNS_NXDOMAIN] = {"nxdomain", "'", "' does not exist in DNS (NXDOMAIN)"},
    [DNS_NO_RECORDS] = {"no_records", "'", "' has no SIP service (SRV) records and no address"},
    [DNS_UNAVAILABLE] = {"unavailable", "'",
                         "' says in DNS that it offers no SIP service (SRV target '.')"},
    [DNS_SERVFAIL] = {"servfail", "the DNS server failed to resolve '", "' (SERVFAIL)"},
    [DNS_REFUSED] = {"refused", "the DNS server refused to resolve '", "' (REFUSED)"},
    [DNS_TIMEOUT] = {"timeout", "no answer from DNS for '", "' in time (timeout)"},
    [DNS_SKIPPED] = {"skipped", "'", "' was not checked"},
};

const char *dns_status_name(enum dns_status s)
{
    return (unsigned)s < sizeof statuses / sizeof statuses[0] ? statuses[s].name : "unknown";
}

void dns_status_words(enum dns_status s, const char **before, const char **after)
{
    if ((unsigned)s >= sizeof statuses / sizeof statuses[0])
        s = DNS_SKIPPED;
    *before = statuses[s].before;
    *after = statuses[s].after;
}

const char *dns_method_name(enum dns_method m)
{
    static const char *const names[] = { "literal", "naptr", "srv", "a" };
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "unknown";
}

json_t *dns_target_json(const struct dns_target *t)
{
    json_t *addrs = json_array();
    for (unsigned k = 0; addrs && k < t->naddrs && k < DNS_MAX_ADDRS; k++)
        json_array_append_new(addrs, json_string(t->addrs[k]));
    return json_pack("{s:i,s:i,s:i,s:s,s:s,s:o}", "priority", (json_int_t)t->priority,
                     "weight", (json_int_t)t->weight, "port", (json_int_t)t->port,
                     "transport", transport_name(t->transport), "host", t->host,
                     "addresses", addrs ? addrs : json_array());
}

json_t *dns_result_to_json(const struct dns_result *r, const char *field)
{
    json_t *o = json_object();
    json_t *srv = json_object();
    json_t *targets = json_array();
    json_t *warns = json_array();
    json_t *lookups = json_array();
    if (!o || !srv || !targets || !warns || !lookups)
        goto fail;
    if (field)
        json_object_set_new(o, "field", json_string(field));
    json_object_set_new(srv, "host", json_string(r->server.host));
    json_object_set_new(srv, "port", r->server.port ? json_integer(r->server.port) : json_null());
    json_object_set_new(srv, "transport", json_string(transport_name(r->server.transport)));
    json_object_set_new(o, "server", srv);
    srv = NULL;
    json_object_set_new(o, "status", json_string(dns_status_name(r->status)));
    json_object_set_new(o, "method", json_string(dns_method_name(r->method)));
    for (unsigned i = 0; i < r->ntargets && i < DNS_MAX_TARGETS; i++) {
        json_t *jt = dns_target_json(&r->targets[i]);
        if (jt)
            json_array_append_new(targets, jt);
    }
    json_object_set_new(o, "targets", targets);
    targets = NULL;
    json_object_set_new(o, "ttl", json_integer(r->ttl));
    json_object_set_new(o, "elapsed_ms", json_integer(r->elapsed_ms));
    for (size_t i = 0; r->warnings && i < r->warnings->n; i++) {
        const struct diag *dg = &r->warnings->item[i];
        char path[DIAG_FIELD_MAX];
        diag_path(path, sizeof path, field ? field : "", dg->field);
        json_t *jw = json_pack("{s:s,s:s,s:s}", "field", path, "code", dg->code,
                               "message", dg->message);
        if (jw)
            json_array_append_new(warns, jw);
    }
    json_object_set_new(o, "warnings", warns);
    warns = NULL;
    for (unsigned i = 0; i < r->nlookups && i < DNS_MAX_LOOKUPS; i++) {
        const struct dns_lookup *l = &r->lookups[i];
        json_t *jl = json_pack("{s:s,s:s,s:s}", "name", l->name, "type", l->type,
                               "outcome", l->outcome);
        if (jl)
            json_array_append_new(lookups, jl);
    }
    json_object_set_new(o, "lookups", lookups);
    return o;
fail:
    json_decref(o);
    json_decref(srv);
    json_decref(targets);
    json_decref(warns);
    json_decref(lookups);
    return NULL;
}

static bool has_addr(const struct dns_result *r, const char *addr)
{
    for (unsigned i = 0; i < r->ntargets; i++)
        for (unsigned k = 0; k < r->targets[i].naddrs; k++)
            if (strcmp(r->targets[i].addrs[k], addr) == 0)
                return true;
    return false;
}

void dns_compare_backup(const struct dns_result *primary, const struct dns_result *backup,
                        const char *field, struct diag_list *warns)
{
    if (!primary || !backup || !warns || primary->status != DNS_OK || backup->status != DNS_OK)
        return;
    /* Same = every address of the backup is one of the primary's: when the
     * primary's hosts are down, the backup is down with them. */
    unsigned n = 0;
    const char *first = NULL;
    for (unsigned i = 0; i < backup->ntargets; i++)
        for (unsigned k = 0; k < backup->targets[i].naddrs; k++) {
            if (!has_addr(primary, backup->targets[i].addrs[k]))
                return;
            if (!first)
                first = backup->targets[i].addrs[k];
            n++;
        }
    if (n == 0)
        return;
    diag_add(warns, field ? field : "", "backup_same_addresses",
             "the backup %s resolves to the same address%s as the primary %s (%s%s): it "
             "gives no protection when the primary fails", backup->server.host,
             n == 1 ? "" : "es", primary->server.host, first, n > 1 ? ", ..." : "");
}

int dns_result_to_flash(const struct dns_result *r, char *buf, size_t n)
{
    if (!buf || n == 0)
        return -EINVAL;
    buf[0] = '\0';
    if (!r || r->status != DNS_OK)
        return -EINVAL;
    return dns_targets_to_flash(r->targets, r->ntargets, buf, n);
}

/* resolutions: GET /lines/{n}/resolutions, what flash holds beside each saved
 * server of a line: its last ok resolution (lineN.F.resolved, API.md
 * sections 4 and 8), the addresses the SIP core falls back on when DNS is
 * down. No lookup is made: this is what the last saves stored, read-only.
 *
 * {"line": n, "resolutions": [{"field", "server", "resolved": bool,
 *  "targets": [target...]}]}: one item per set server field (proxy,
 * registrar, outbound_proxy, backup_proxy, backup_registrar); "resolved": false (and no targets) when the server was stored
 * without an ok resolution (saved with ?dns=warn or skip while it did not
 * resolve, or imported so). docs/API-NOTES.md says why it is a route of its own. */
#include "api.h"

#include <stdlib.h>
#include <string.h>

#include "dns_result.h"
#include "dns_target.h"
#include "json.h"
#include "hostport.h"

/* One item; `targets` is scratch room for DNS_MAX_TARGETS. */
static json_t *stored_resolution(const struct line *l, enum server_field f,
                                 struct dns_target *targets)
{
    const struct server *s = &l->srv[f];
    unsigned n = 0;
    /* config_load checked every stored value; one that still does not parse counts as none */
    if (!l->resolved[f][0] ||
        dns_targets_from_flash(l->resolved[f], targets, DNS_MAX_TARGETS, &n) != 0)
        n = 0;
    json_t *arr = json_array();
    for (unsigned i = 0; arr && i < n; i++)
        json_array_append_new(arr, dns_target_json(&targets[i]));
    return json_pack("{s:s,s:o,s:b,s:o}", "field", server_field_name(f),
                     "server", server_to_json(s),
                     "resolved", n > 0, "targets", arr ? arr : json_array());
}

void resolutions_get(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    unsigned n = api_line_or_404(rq, rs);
    if (!n)
        return;
    /* a copy, so that the lock is not held while JSON is built */
    struct line *l = malloc(sizeof *l);
    struct dns_target *targets = calloc(DNS_MAX_TARGETS, sizeof *targets);
    json_t *items = json_array();
    json_t *out = json_object();
    if (!l || !targets || !items || !out) {
        free(l);
        free(targets);
        json_decref(items);
        json_decref(out);
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    pthread_mutex_lock(&app->lock);
    *l = app->cfg->line[n - 1];
    pthread_mutex_unlock(&app->lock);
    for (int f = 0; f < SF_COUNT; f++)
        if (l->srv[f].set)
            json_array_append_new(items, stored_resolution(l, (enum server_field)f, targets));
    explicit_bzero(l, sizeof *l);    /* the copy holds the line's password */
    free(l);
    free(targets);
    json_object_set_new(out, "line", json_integer(n));
    json_object_set_new(out, "resolutions", items);
    resp_json(rs, 200, out);
}

/* json: see json.h. Conversions walk the field table of line.c; the checks
 * are check.c's and hostport.c's, so JSON input obeys the same rules as flash. */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "provenance.h"
#include "hostport.h"
#include "json_hint.h"

#define NAME_MAX_NORM 64

/* ---- servers --------------------------------------------------------- */

json_t *server_to_json(const struct server *s)
{
    if (!s || !s->set)
        return json_null();
    return json_pack("{s:s, s:o, s:s}", "host", s->host, "port",
                     s->port ? json_integer(s->port) : json_null(), "transport",
                     transport_name(s->transport));
}

static const char *const server_members[] = {"host", "port", "transport"};
#define N_SERVER_MEMBERS (sizeof server_members / sizeof *server_members)

int server_from_json(const json_t *v, struct server *out, const char *field, struct diag_list *errs)
{
    char path[DIAG_FIELD_MAX];
    size_t before = diag_count(errs);

    memset(out, 0, sizeof *out);
    out->transport = TRANSPORT_AUTO;
    if (!v || json_is_null(v))
        return 0;
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v)) {
            diag_add(errs, diag_path(path, sizeof path, field, "host"), "invalid_host",
                     "the server contains a NUL character");
            return -EINVAL;
        }
        return server_parse(s, out, field, errs);
    }
    if (!json_is_object(v)) {
        diag_add(errs, field, "invalid_type",
                 "a server is a string such as \"pbx.example.com:5060\", an object "
                 "{\"host\", \"port\", \"transport\"} or null, not %s", json_type_word(v));
        return -EINVAL;
    }

    out->set = true;
    bool have_host = false;
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m) {
        diag_path(path, sizeof path, field, key);
        if (strcmp(key, "host") == 0) {
            have_host = true;
            if (!json_is_string(m))
                diag_add(errs, path, "invalid_type", "host must be a string, not %s",
                         json_type_word(m));
            else
                host_parse(json_string_value(m), json_string_length(m), out->host, path, errs);
        } else if (strcmp(key, "port") == 0) {
            if (json_is_null(m))
                out->port = 0;
            else if (!json_is_integer(m))
                diag_add(errs, path, "invalid_type",
                         "port must be an integer %u..%u or null, not %s", PORT_MIN, PORT_MAX,
                         json_type_word(m));
            else if (json_integer_value(m) < PORT_MIN || json_integer_value(m) > PORT_MAX)
                diag_add(errs, path, "invalid_port", "port %s%lld is out of range: use %u..%u",
                         json_integer_value(m) == LLONG_MAX ? "beyond " : "",
                         (long long)json_integer_value(m), PORT_MIN, PORT_MAX);
            else
                out->port = (uint16_t)json_integer_value(m);
        } else if (strcmp(key, "transport") == 0) {
            char q[DIAG_QUOTE_MAX];
            if (json_is_null(m))
                out->transport = TRANSPORT_AUTO;
            else if (!json_is_string(m))
                diag_add(errs, path, "invalid_type",
                         "transport must be \"auto\", \"udp\", \"tcp\" or \"tls\", not %s",
                         json_type_word(m));
            else if (transport_from_name(json_string_value(m), &out->transport) < 0)
                diag_add(errs, path, "invalid_transport",
                         "'%s' is not a transport: use udp, tcp, tls or auto",
                         diag_quote(q, sizeof q, json_string_value(m)));
        } else {
            json_hint_unknown(errs, field, key, "a server", server_members, N_SERVER_MEMBERS, NULL,
                              0);
        }
    }
    if (!have_host)
        diag_add(errs, diag_path(path, sizeof path, field, "host"), "missing_field",
                 "a server needs a host: a host name or an IP address");
    return diag_count(errs) > before ? -EINVAL : 0;
}

/* ---- lines ----------------------------------------------------------- */

static json_t *prov_to_json(const struct prov *p)
{
    char at[PROV_TIME_LEN + 1];
    const char *src = prov_source_name((enum prov_source)p->source);
    prov_time_format(p->at, at);
    return json_pack("{s:s, s:o}", "source", src ? src : "default", "at",
                     at[0] ? json_string(at) : json_null());
}

/* "provenance": every field's record, in table order; "locked": the locked
 * fields' names, in table order. */
static int provenance_to_json(json_t *o, const struct line *l)
{
    json_t *prov = json_object(), *locked = json_array();
    int rc = prov && locked ? 0 : -1;
    for (size_t i = 0; i < line_nfields && rc == 0; i++) {
        rc = json_object_set_new(prov, line_field_member(&line_fields[i]), prov_to_json(&l->prov[i]));
        if (rc == 0 && (l->locked & (UINT32_C(1) << i)))
            rc = json_array_append_new(locked, json_string(line_field_member(&line_fields[i])));
    }
    if (rc == 0) {
        rc = json_object_set_new(o, "provenance", prov);
        prov = NULL;
        if (rc == 0)
            rc = json_object_set_new(o, "locked", locked);
        locked = NULL;
    }
    json_decref(prov);
    json_decref(locked);
    return rc;
}

json_t *line_to_json(const struct line *l, unsigned n)
{
    json_t *o = json_object();
    int rc = o ? json_object_set_new(o, "line", json_integer(n)) : -1;
    for (size_t i = 0; i < line_nfields && rc == 0; i++) {
        const struct field_desc *d = &line_fields[i];
        const char *p = (const char *)l + d->offset;
        switch (d->type) {
        case FT_BOOL:
            rc = json_object_set_new(o, d->json, json_boolean(*(const bool *)p));
            break;
        case FT_UINT:
            rc = json_object_set_new(o, d->json, json_integer(*(const uint32_t *)p));
            break;
        case FT_SERVER:
            rc = json_object_set_new(o, d->json, server_to_json((const struct server *)p));
            break;
        case FT_PASSWORD:
            /* Write-only: only whether one is stored. */
            rc = json_object_set_new(o, "password_set", json_boolean(p[0] != '\0'));
            break;
        default: {
            json_t *s = json_stringn(p, strnlen(p, d->max_len + 1));
            rc = json_object_set_new(o, d->json, s ? s : json_string(""));
        }
        }
    }
    if (rc == 0)
        rc = provenance_to_json(o, l);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *const line_extra_members[] = {"line", "password_set", "provenance", "locked"};

/* Every member name of a line object, for near-miss hints. */
static size_t line_member_names(const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < line_nfields && n < max; i++)
        names[n++] = line_fields[i].json;
    for (size_t i = 0; i < 4 && n < max; i++)
        names[n++] = line_extra_members[i];
    return n;
}

static void text_from_json(const struct field_desc *d, const json_t *m, struct line *out,
                           const char *path, struct diag_list *errs)
{
    char *dst = (char *)out + d->offset;
    if (!json_is_string(m)) {
        diag_add(errs, path, "invalid_type", "%s must be a string, not %s", d->json,
                 json_type_word(m));
        return;
    }
    const char *s = json_string_value(m);
    size_t len = json_string_length(m);
    if (d->type == FT_DOMAIN) {
        /* Normalised like a server's host: lower case, no trailing dot. */
        /* host_parse's hints name a server's members ("a port goes in
         * 'port'"), which a domain has not: a port, a scheme or a user get
         * words of their own. */
        const char *colon = memchr(s, ':', len);
        char q[DIAG_QUOTE_MAX];
        if (len == 0)
            dst[0] = '\0';
        else if (memchr(s, '@', len))
            diag_add(errs, path, "invalid_host", "'%s' is not a domain: give the domain alone "
                     "(e.g. example.com); the user goes in 'user'", diag_quote(q, sizeof q, s));
        else if (colon && (colon == memrchr(s, ':', len) || strstr(s, "]:")))
            diag_add(errs, path, "invalid_host", "'%s' is not a domain: give it without 'sip:' "
                     "and without a port (e.g. example.com); ports belong to the servers",
                     diag_quote(q, sizeof q, s));
        else
            host_parse(s, len, dst, path, errs);
        return;
    }
    if (check_field_text(d, s, len, path, errs) == 0) {
        memcpy(dst, s, len);    /* len <= max_len: checked */
        dst[len] = '\0';
    }
}

/* "locked": ["proxy", ...], the fields to lock (the writer decides whether it may). */
static void locked_from_json(const json_t *m, struct line *out, const char *path,
                             struct diag_list *errs)
{
    if (!json_is_array(m)) {
        diag_add(errs, path, "invalid_type", "locked must be an array of field names, not %s",
                 json_type_word(m));
        return;
    }
    uint32_t bits = 0;
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v) {
        char item[DIAG_FIELD_MAX + 24];
        snprintf(item, sizeof item, "%s[%zu]", path, i);
        const struct field_desc *d = json_is_string(v) ? line_field_by_member(json_string_value(v)) : NULL;
        if (!json_is_string(v)) {
            diag_add(errs, item, "invalid_type", "a locked field is named by a string, not %s",
                     json_type_word(v));
        } else if (!d) {
            char q[DIAG_QUOTE_MAX];
            diag_add(errs, item, "unknown_field", "'%s' is not a field of a line, so it cannot "
                     "be locked", diag_quote(q, sizeof q, json_string_value(v)));
        } else {
            bits |= UINT32_C(1) << (size_t)(d - line_fields);
        }
    }
    out->locked = bits;
}

/* One record {"source": NAME, "at": RFC 3339 | null} at `path`; 0 when valid. */
static int prov_record_from_json(const json_t *m, const char *path, struct prov *out,
                                 struct diag_list *errs)
{
    if (!json_is_object(m)) {
        diag_add(errs, path, "invalid_type", "a provenance record must be an object "
                 "{\"source\", \"at\"}, not %s", json_type_word(m));
        return -EINVAL;
    }
    size_t before = diag_count(errs);
    char sub[DIAG_FIELD_MAX], q[DIAG_QUOTE_MAX];
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)m, key, v) {
        if (strcmp(key, "source") != 0 && strcmp(key, "at") != 0)
            diag_add(errs, diag_path(sub, sizeof sub, path, key), "unknown_field",
                     "'%s' is not a member of a provenance record (source, at)",
                     diag_quote(q, sizeof q, key));
    }
    const json_t *src = json_object_get(m, "source"), *at = json_object_get(m, "at");
    enum prov_source s = PROV_DEFAULT;
    int64_t t = 0;
    diag_path(sub, sizeof sub, path, "source");
    if (!src)
        diag_add(errs, sub, "missing_field", "a provenance record needs its source");
    else if (!json_is_string(src))
        diag_add(errs, sub, "invalid_type", "source must be a string, not %s", json_type_word(src));
    else if (prov_source_from_name(json_string_value(src), json_string_length(src), &s) < 0)
        diag_add(errs, sub, "invalid_provenance", "'%s' is not a source: default, image, "
                 "provisioning, api or page", diag_quote(q, sizeof q, json_string_value(src)));
    diag_path(sub, sizeof sub, path, "at");
    if (at && !json_is_null(at) && !json_is_string(at))
        diag_add(errs, sub, "invalid_type", "at must be a time (RFC 3339 UTC) or null, not %s",
                 json_type_word(at));
    else if (json_is_string(at) &&
             prov_time_parse(json_string_value(at), json_string_length(at), &t) < 0)
        diag_add(errs, sub, "invalid_provenance", "'%s' is not a time in RFC 3339 UTC "
                 "(2026-11-28T23:10:00Z)", diag_quote(q, sizeof q, json_string_value(at)));
    if (diag_count(errs) != before)
        return -EINVAL;
    *out = (struct prov){.source = (uint8_t)s, .at = t};
    return 0;
}

int line_provenance_from_json(const json_t *in, struct line *out, const char *prefix,
                              struct diag_list *errs)
{
    const json_t *prov = json_object_get(in, "provenance");
    char path[DIAG_FIELD_MAX], q[DIAG_QUOTE_MAX];
    const char *key;
    json_t *m;
    int taken = 0;
    diag_path(path, sizeof path, prefix, "provenance");
    json_object_foreach((json_t *)prov, key, m) {
        char item[DIAG_FIELD_MAX];
        const struct field_desc *d = line_field_by_member(key);
        struct prov p;
        diag_path(item, sizeof item, path, key);
        if (!d) {
            diag_add(errs, item, "unknown_field", "'%s' is not a field of a line",
                     diag_quote(q, sizeof q, key));
            continue;
        }
        if (prov_record_from_json(m, item, &p, errs) < 0)
            continue;
        out->prov[d - line_fields] = p;
        taken++;
    }
    return taken;
}

int line_from_json(const json_t *in, unsigned n, const struct line *current, struct line *out,
                   const char *prefix, struct diag_list *errs)
{
    char path[DIAG_FIELD_MAX];
    const char *names[32];
    size_t nnames = line_member_names(names, 32);
    size_t before = diag_count(errs);

    line_defaults(out);
    if (current) {
        memcpy(out->password, current->password, sizeof out->password);
        /* a line without "locked" keeps its locks; records are restamped by the writer */
        out->locked = current->locked;
        memcpy(out->lock, current->lock, sizeof out->lock);
        memcpy(out->prov, current->prov, sizeof out->prov);
    }
    if (!json_is_object(in)) {
        diag_add(errs, prefix, "invalid_type", "a line must be a JSON object, not %s",
                 in ? json_type_word(in) : "nothing");
        return -EINVAL;
    }

    const char *key;
    json_t *m;
    json_object_foreach((json_t *)in, key, m) {
        diag_path(path, sizeof path, prefix, key);
        if (strcmp(key, "line") == 0) {
            if (!json_is_integer(m))
                diag_add(errs, path, "invalid_type", "line must be an integer, not %s",
                         json_type_word(m));
            else if (json_integer_value(m) != (json_int_t)n)
                diag_add(errs, path, "read_only",
                         "'line' is read-only: this is line %u, not line %lld", n,
                         (long long)json_integer_value(m));
            continue;
        }
        if (strcmp(key, "provenance") == 0) {
            /* Read-only, accepted so that a GET can be sent back as a PUT. */
            if (!json_is_object(m))
                diag_add(errs, path, "invalid_type", "provenance must be an object, not %s",
                         json_type_word(m));
            continue;
        }
        if (strcmp(key, "locked") == 0) {
            locked_from_json(m, out, path, errs);
            continue;
        }
        if (strcmp(key, "password_set") == 0) {
            /* Read-only, accepted so that a GET can be sent back as a PUT. */
            if (!json_is_boolean(m))
                diag_add(errs, path, "invalid_type", "password_set must be true or false, not %s",
                         json_type_word(m));
            continue;
        }
        const struct field_desc *d = line_field(key);
        if (!d) {
            json_hint_unknown(errs, prefix, key, "a line", names, nnames, line_fields, line_nfields);
            continue;
        }
        void *dst = (char *)out + d->offset;
        switch (d->type) {
        case FT_BOOL:
            if (json_is_boolean(m))
                *(bool *)dst = json_is_true(m);
            else
                diag_add(errs, path, "invalid_type", "%s must be true or false, not %s", d->json,
                         json_type_word(m));
            break;
        case FT_UINT:
            if (!json_is_integer(m))
                diag_add(errs, path, "invalid_type", "%s must be an integer, not %s", d->json,
                         json_type_word(m));
            else if (check_uint(d, json_integer_value(m), path, errs) == 0)
                *(uint32_t *)dst = (uint32_t)json_integer_value(m);
            break;
        case FT_SERVER:
            if (server_from_json(m, (struct server *)dst, path, errs) < 0)
                ((struct server *)dst)->set = false;
            break;
        default:
            text_from_json(d, m, out, path, errs);
        }
    }

    /* A stored resolution stays valid while the server and the lookup mode
     * are the same; otherwise it belongs to something else. */
    for (int f = 0; current && f < SF_COUNT; f++)
        if (server_equal(&current->srv[f], &out->srv[f]) && current->dns_srv == out->dns_srv)
            memcpy(out->resolved[f], current->resolved[f], sizeof out->resolved[f]);
    return diag_count(errs) > before ? -EINVAL : 0;
}

int line_patch_check(const json_t *patch, struct diag_list *errs)
{
    char path[DIAG_FIELD_MAX];
    const char *names[32];
    size_t nnames = line_member_names(names, 32), before = diag_count(errs);
    const char *key;
    json_t *m;
    if (!json_is_object(patch))
        return 0;
    json_object_foreach((json_t *)patch, key, m) {
        const struct field_desc *d = line_field(key);
        bool extra = false;
        for (size_t i = 0; i < sizeof line_extra_members / sizeof *line_extra_members; i++)
            extra |= strcmp(key, line_extra_members[i]) == 0;
        if (json_is_null(m) && !d && !extra)
            json_hint_unknown(errs, "", key, "a line", names, nnames, line_fields, line_nfields);
        if (!d || d->type != FT_SERVER || !json_is_object(m))
            continue;
        const char *sk;
        json_t *sm;
        json_object_foreach(m, sk, sm) {
            bool known = false;
            for (size_t i = 0; i < N_SERVER_MEMBERS; i++)
                known |= strcmp(sk, server_members[i]) == 0;
            if (json_is_null(sm) && !known)
                json_hint_unknown(errs, diag_path(path, sizeof path, "", key), sk, "a server",
                                  server_members, N_SERVER_MEMBERS, NULL, 0);
        }
    }
    return diag_count(errs) > before ? -EINVAL : 0;
}

/* ---- the whole configuration ---------------------------------------- */

json_t *config_to_json(const struct config *c)
{
    json_t *lines = json_array();
    for (unsigned i = 0; lines && i < c->nlines; i++)
        if (json_array_append_new(lines, line_to_json(&c->line[i], i + 1)) != 0) {
            json_decref(lines);
            return NULL;
        }
    return lines ? json_pack("{s:i, s:o}", "format", 1, "lines", lines) : NULL;
}

static const char *const config_members[] = {"format", "lines"};

int config_from_json(const json_t *in, const struct config *current, struct config *out,
                     struct diag_list *errs)
{
    size_t before = diag_count(errs);
    char prefix[32];
    unsigned nlines = current ? current->nlines : LINE_DEFAULT_LINES;

    config_defaults(out, nlines);
    if (current)
        memcpy(out->admin_ha1, current->admin_ha1, sizeof out->admin_ha1);
    if (!json_is_object(in)) {
        diag_add(errs, "", "invalid_type", "a configuration must be a JSON object, not %s",
                 in ? json_type_word(in) : "nothing");
        return -EINVAL;
    }

    const char *key;
    json_t *m, *lines = NULL;
    json_object_foreach((json_t *)in, key, m) {
        if (strcmp(key, "format") == 0) {
            if (!json_is_integer(m))
                diag_add(errs, "format", "invalid_type", "format must be the integer 1, not %s",
                         json_type_word(m));
            else if (json_integer_value(m) != 1)
                diag_add(errs, "format", "unsupported_format",
                         "format %lld is not supported: this phone reads format 1",
                         (long long)json_integer_value(m));
        } else if (strcmp(key, "lines") == 0) {
            lines = m;
        } else {
            json_hint_unknown(errs, "", key, "the configuration", config_members, 2, NULL, 0);
        }
    }
    if (!lines) {
        diag_add(errs, "lines", "missing_field", "the configuration needs a 'lines' array");
    } else if (!json_is_array(lines)) {
        diag_add(errs, "lines", "invalid_type", "lines must be an array, not %s",
                 json_type_word(lines));
    } else if (json_array_size(lines) > nlines) {
        diag_add(errs, "lines", "out_of_range",
                 "this phone has %u lines, the configuration lists %zu", nlines,
                 json_array_size(lines));
    } else {
        for (size_t i = 0; i < json_array_size(lines); i++) {
            snprintf(prefix, sizeof prefix, "lines[%zu]", i);
            line_from_json(json_array_get(lines, i), (unsigned)i + 1,
                           current ? &current->line[i] : NULL, &out->line[i], prefix, errs);
        }
    }
    return diag_count(errs) > before ? -EINVAL : 0;
}

json_t *diag_to_json(const struct diag_list *l)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < l->n; i++) {
        const struct diag *d = &l->item[i];
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "field", d->field, "code",
                                               d->code, "message", d->message)) != 0)
            goto fail;
    }
    if (a && l->dropped) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu more problems were found but are not listed", l->dropped);
        if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "field", "", "code",
                                               "too_many_errors", "message", msg)) != 0)
            goto fail;
    }
    return a;
fail:
    json_decref(a);
    return NULL;
}

/* ---- the field table, for the page and the docs --------------------- */

static const char *const type_names[] = {
    [FT_BOOL] = "boolean", [FT_TEXT] = "text", [FT_USER] = "user", [FT_PASSWORD] = "password",
    [FT_DOMAIN] = "domain", [FT_UINT] = "integer", [FT_SERVER] = "server",
};

json_t *line_fields_to_json(void)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        json_t *vendors = json_object(), *row;
        char vendor[32], name[NAME_MAX_NORM];
        for (const char *p = d->vendors;
             vendors && line_vendor_next(&p, vendor, sizeof vendor, name, sizeof name);)
            json_object_set_new(vendors, vendor, json_string(name));
        row = json_pack("{s:s, s:s, s:s, s:s, s:o}", "name", d->json, "type", type_names[d->type],
                        "label", d->label, "help", d->help, "vendors", vendors);
        if (row && (d->type == FT_TEXT || d->type == FT_USER || d->type == FT_PASSWORD ||
                    d->type == FT_DOMAIN))
            json_object_set_new(row, "max_length", json_integer((json_int_t)d->max_len));
        if (row && d->type == FT_UINT) {
            json_object_set_new(row, "min", json_integer(d->min));
            json_object_set_new(row, "max", json_integer(d->max));
            json_object_set_new(row, "default", json_integer(d->def));
        }
        if (row && d->type == FT_BOOL)
            json_object_set_new(row, "default", json_boolean(d->def));
        if (row && d->type == FT_SERVER) {
            json_object_set_new(row, "backup_of", d->backup_of < 0 ? json_null()
                : json_string(server_field_name((enum server_field)d->backup_of)));
            json_object_set_new(row, "fallback", d->fallback < 0 ? json_null()
                : json_string(server_field_name((enum server_field)d->fallback)));
        }
        if (json_array_append_new(a, row) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}


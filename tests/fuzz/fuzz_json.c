/* libFuzzer harness for the JSON -> model path (THREATS.md B1/B5): a request
 * body through json_parse_body, line_from_json and config_from_json, and the
 * same bytes as a server string through server_parse. Besides the sanitizers
 * it checks the invariants the API relies on:
 *   - what was accepted passes check_line without errors;
 *   - line -> JSON -> line and config -> kv -> config give the same model;
 *   - JSON output does not depend on a password's value (only on password_set);
 *   - an accepted server formats to a string that parses back to it.
 * Build and run: make fuzz (not part of the default build). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "json.h"
#include "kv.h"
#include "hostport.h"

#define SECRET "fuzz-secret-7Qx"

static void require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static char *dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    require(s != NULL, "json_dumps");
    return s;
}

/* The same output with another non-empty password: nothing of it leaks. */
static void same_without_secret(const json_t *out, json_t *(*to_json)(const void *), void *model,
                                char *password)
{
    char saved[LINE_PASSWORD_MAX + 1];
    if (!password[0])
        return;
    memcpy(saved, password, sizeof saved);
    snprintf(password, LINE_PASSWORD_MAX + 1, "%s", "other");
    json_t *o2 = to_json(model);
    require(o2 != NULL, "to_json");
    char *a = dump(out), *b = dump(o2);
    require(strcmp(a, b) == 0, "JSON output depends on the password");
    free(a);
    free(b);
    json_decref(o2);
    memcpy(password, saved, sizeof saved);
}

static json_t *line1_to_json(const void *l)
{
    return line_to_json(l, 1);
}

static json_t *config_json(const void *c)
{
    return config_to_json(c);
}

static void fuzz_line(const json_t *in)
{
    struct line cur, l, back;
    struct diag_list errs, warns;
    line_defaults(&cur);
    snprintf(cur.password, sizeof cur.password, "%s", SECRET);
    diag_init(&errs);
    if (line_from_json(in, 1, &cur, &l, "", &errs) != 0)
        return;
    diag_init(&errs);
    diag_init(&warns);
    require(check_line(&l, "", &errs, &warns) == 0, "accepted line fails check_line");
    json_t *out = line_to_json(&l, 1);
    require(out != NULL, "line_to_json");
    same_without_secret(out, line1_to_json, &l, l.password);
    diag_init(&errs);
    require(line_from_json(out, 1, &l, &back, "", &errs) == 0, "line JSON does not read back");
    require(line_equal(&l, &back, true), "line -> JSON -> line differs");

    /* PATCH: the body as a merge patch on the stored line */
    json_t *merged = json_merge_patch(out, in);
    if (merged) {
        diag_init(&errs);
        line_from_json(merged, 1, &l, &back, "", &errs);
        json_decref(merged);
    }
    json_decref(out);
}

static void fuzz_config(const json_t *in)
{
    struct config cur, c, back;
    struct diag_list errs;
    config_defaults(&cur, LINE_DEFAULT_LINES);
    snprintf(cur.line[0].password, sizeof cur.line[0].password, "%s", SECRET);
    diag_init(&errs);
    if (config_from_json(in, &cur, &c, &errs) != 0)
        return;
    diag_init(&errs);
    require(check_config(&c, &errs, NULL) == 0, "accepted config fails check_config");
    json_t *out = config_to_json(&c);
    require(out != NULL, "config_to_json");
    same_without_secret(out, config_json, &c, c.line[0].password);
    json_decref(out);
    struct kv *kv = kv_new();
    require(kv != NULL, "kv_new");
    require(config_to_kv(&c, kv) == 0, "config_to_kv of an accepted config");
    diag_init(&errs);
    require(config_from_kv(kv, c.nlines, &back, &errs) == 0, "kv does not read back");
    require(config_diff(&c, &back) == 0, "config -> kv -> config differs");
    kv_free(kv);
}

static void fuzz_server(const uint8_t *data, size_t size)
{
    char text[600], again[600];
    struct server s, t;
    struct diag_list errs;
    if (size >= sizeof text || memchr(data, 0, size))
        return;
    memcpy(text, data, size);
    text[size] = '\0';
    diag_init(&errs);
    if (server_parse(text, &s, "proxy", &errs) != 0 || !s.set)
        return;
    require(server_format(&s, again, sizeof again) == 0, "server_format");
    diag_init(&errs);
    require(server_parse(again, &t, "proxy", &errs) == 0, "formatted server does not parse");
    require(server_equal(&s, &t), "server -> string -> server differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct json_syntax_error e;
    json_t *in = json_parse_body((const char *)data, size, &e);
    if (in) {
        fuzz_line(in);
        fuzz_config(in);
        /* a server object or string inside {"s": ...} */
        struct server s;
        struct diag_list errs;
        diag_init(&errs);
        server_from_json(json_object_get(in, "s"), &s, "s", &errs);
        json_decref(in);
    }
    fuzz_server(data, size);
    return 0;
}

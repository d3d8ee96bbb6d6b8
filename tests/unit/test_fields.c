/* The field table (lib/line.c) is the only list of a line's fields: this test
 * walks it and checks that every layer follows each row: defaults, JSON out
 * and in, flash keys, the checks with their limits, /fields.json and the SIP
 * core's struct sipcfg_line (include/sipcfg.h). A new row that one of them
 * does not follow fails here (tests/integration/openapi_fields.sh does the
 * same for api/openapi.yaml). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "json.h"
#include "kv.h"
#include "sipcfg.h"
#include "store.h"

/* A value for row i that differs from its default and passes its checks. */
static void set_value(struct line *l, size_t i)
{
    const struct field_desc *d = &line_fields[i];
    char *p = (char *)l + d->offset;
    switch (d->type) {
    case FT_BOOL:
        *(bool *)p = !d->def;
        break;
    case FT_UINT:
        *(uint32_t *)p = d->def == d->min ? d->max : d->min;
        break;
    case FT_SERVER: {
        struct server *s = (struct server *)p;
        s->set = true;
        snprintf(s->host, sizeof s->host, "h%zu.example.test", i);
        s->port = (uint16_t)(5000 + i);
        s->transport = TRANSPORT_TCP;
        break;
    }
    case FT_DOMAIN:
        snprintf(p, d->max_len + 1, "d%zu.example.test", i);
        break;
    default:
        snprintf(p, d->max_len + 1, "v%zu", i);
    }
}

static void test_defaults_follow_table(void **state)
{
    (void)state;
    struct line l;
    line_defaults(&l);
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        const char *p = (const char *)&l + d->offset;
        switch (d->type) {
        case FT_BOOL: assert_int_equal(*(const bool *)p, d->def != 0); break;
        case FT_UINT:
            assert_int_equal(*(const uint32_t *)p, d->def);
            assert_true(d->def >= d->min && d->def <= d->max);
            break;
        case FT_SERVER:
            assert_false(((const struct server *)p)->set);
            assert_int_equal(((const struct server *)p)->transport, TRANSPORT_AUTO);
            break;
        default: assert_string_equal(p, "");
        }
        assert_ptr_equal(line_field(d->json), d);
        assert_ptr_equal(line_field_at(d->offset), d);
        if (d->type == FT_SERVER) {
            assert_ptr_equal(line_server_row((enum server_field)d->server), d);
            assert_true(d->backup_of < SF_COUNT && d->fallback < SF_COUNT);
        } else {
            assert_int_equal(d->backup_of, -1);
            assert_int_equal(d->fallback, -1);
        }
    }
}

/* Out to JSON and flash, back from both: every row carries its value. */
static void test_json_and_flash_follow_table(void **state)
{
    (void)state;
    struct config *c = calloc(1, sizeof *c), *back = calloc(1, sizeof *back);
    struct diag_list errs;
    char key[KV_KEY_MAX + 1];
    config_defaults(c, 1);
    for (size_t i = 0; i < line_nfields; i++)
        set_value(&c->line[0], i);

    json_t *j = line_to_json(&c->line[0], 1);
    assert_non_null(j);
    struct kv *kv = kv_new();
    assert_int_equal(config_to_kv(c, kv), 0);
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        if (d->type == FT_PASSWORD) {
            assert_null(json_object_get(j, d->json));      /* write-only */
            assert_true(json_is_true(json_object_get(j, "password_set")));
        } else {
            assert_non_null(json_object_get(j, d->json));
        }
        assert_int_equal(config_key(key, sizeof key, 1, d->key,
                                    d->type == FT_SERVER ? "host" : NULL), 0);
        assert_non_null(kv_get(kv, key));
        assert_int_equal(config_key_line(key), 1);
    }
    /* JSON in (the password is write-only: it comes from `current`) */
    diag_init(&errs);
    struct line in;
    assert_int_equal(line_from_json(j, 1, &c->line[0], &in, "", &errs), 0);
    assert_true(line_equal(&in, &c->line[0], false));
    /* flash in */
    diag_init(&errs);
    assert_int_equal(config_from_kv(kv, 1, back, &errs), 0);
    assert_true(line_equal(&back->line[0], &c->line[0], true));
    json_decref(j);
    kv_free(kv);
    free(c);
    free(back);
}

static bool has(const struct diag_list *l, const char *field)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->item[i].field, field) == 0)
            return true;
    return false;
}

/* Each row's limit is the one the checks apply, at the row's path. */
static void test_checks_follow_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        struct line l;
        struct diag_list errs;
        char path[64];
        line_defaults(&l);
        snprintf(path, sizeof path, "lines[0].%s", d->json);
        char *p = (char *)&l + d->offset;
        if (d->type == FT_UINT) {
            *(uint32_t *)p = d->max + 1;
        } else if (d->type == FT_SERVER) {
            struct server *s = (struct server *)p;
            s->set = true;
            strcpy(s->host, "-bad-");
            snprintf(path, sizeof path, "lines[0].%s.host", d->json);
        } else if (d->type == FT_BOOL) {
            continue;                  /* no value of a bool is out of range */
        } else {
            memset(p, 'a', d->max_len + 1);   /* the buffer is max_len + 1: unterminated */
        }
        diag_init(&errs);
        assert_int_equal(check_line(&l, "lines[0]", &errs, NULL), -EINVAL);
        if (!has(&errs, path))
            fail_msg("no error at %s", path);
        if (d->type == FT_UINT) {
            diag_init(&errs);
            *(uint32_t *)p = d->min - 1;
            assert_int_equal(check_line(&l, "lines[0]", &errs, NULL), -EINVAL);
        }
    }
}

/* /fields.json lists every row with its limits and default. */
static void test_fields_json_follows_table(void **state)
{
    (void)state;
    json_t *a = line_fields_to_json();
    assert_non_null(a);
    assert_int_equal(json_array_size(a), line_nfields);
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        json_t *row = json_array_get(a, i);
        assert_string_equal(json_string_value(json_object_get(row, "name")), d->json);
        if (d->type == FT_UINT) {
            assert_int_equal(json_integer_value(json_object_get(row, "max")), d->max);
            assert_int_equal(json_integer_value(json_object_get(row, "default")), d->def);
        } else if (d->type == FT_BOOL) {
            assert_int_equal(json_is_true(json_object_get(row, "default")), d->def != 0);
        } else if (d->type != FT_SERVER) {
            assert_int_equal(json_integer_value(json_object_get(row, "max_length")), d->max_len);
        }
    }
    json_decref(a);
}

/* The SIP core's struct: every row lands at its reader offset, whole. */
static void test_reader_follows_table(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_fields.%d.img", (int)getpid());
    unlink(path);
    struct config *c = calloc(1, sizeof *c);
    config_defaults(c, 1);
    for (size_t i = 0; i < line_nfields; i++) {
        set_value(&c->line[0], i);
        const struct field_desc *d = &line_fields[i];
        if (d->type != FT_BOOL && d->type != FT_UINT && d->type != FT_SERVER) {
            /* the longest value fits the reader's member */
            assert_true(d->reader_size >= d->max_len + 1);
        }
        assert_true(d->reader_offset + d->reader_size <= sizeof(struct sipcfg_line));
    }
    struct store *st;
    assert_int_equal(store_open(path, STORE_CREATE, &st), 0);
    struct kv *kv = kv_new();
    assert_int_equal(config_to_kv(c, kv), 0);
    assert_true(store_commit(st, kv, NULL, NULL) >= 0);
    kv_free(kv);
    store_close(st);

    sipcfg *h;
    struct sipcfg_line out;
    assert_int_equal(sipcfg_open(path, &h), 0);
    assert_int_equal(sipcfg_get_line(h, 1, &out), 0);
    for (size_t i = 0; i < line_nfields; i++) {
        const struct field_desc *d = &line_fields[i];
        const char *from = (const char *)&c->line[0] + d->offset;
        const char *to = (const char *)&out + d->reader_offset;
        switch (d->type) {
        case FT_BOOL: assert_int_equal(*(const int *)(const void *)to, *(const bool *)from); break;
        case FT_UINT:
            assert_int_equal(*(const unsigned *)(const void *)to, *(const uint32_t *)from);
            break;
        case FT_SERVER: {
            const struct sipcfg_server *s = (const struct sipcfg_server *)(const void *)to;
            const struct server *f = (const struct server *)(const void *)from;
            assert_int_equal(s->set, 1);
            assert_string_equal(s->host, f->host);
            assert_int_equal(s->port, f->port);
            break;
        }
        default: assert_string_equal(to, from);
        }
    }
    sipcfg_close(h);
    unlink(path);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_follow_table),
        cmocka_unit_test(test_json_and_flash_follow_table),
        cmocka_unit_test(test_checks_follow_table),
        cmocka_unit_test(test_fields_json_follows_table),
        cmocka_unit_test(test_reader_follows_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

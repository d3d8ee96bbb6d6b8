/* Provenance and locks: the records, how a write stamps them, their JSON and
 * their flash keys (lib/provenance.c, lib/json.c, lib/config.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "provenance.h"

static size_t idx(const char *name)
{
    const struct field_desc *d = line_field(name);
    assert_non_null(d);
    return (size_t)(d - line_fields);
}

static void test_text(void **state)
{
    (void)state;
    struct prov p = {.source = PROV_PROVISIONING, .at = 1795907400}, q;
    char buf[PROV_TEXT_MAX];
    assert_int_equal(prov_to_text(&p, buf, sizeof buf), 0);
    assert_string_equal(buf, "provisioning 2026-11-28T23:10:00Z");
    assert_int_equal(prov_from_text(buf, &q), 0);
    assert_int_equal(q.source, PROV_PROVISIONING);
    assert_int_equal(q.at, 1795907400);
    assert_int_equal(prov_from_text("page", &q), 0);          /* time unknown */
    assert_int_equal(q.at, 0);
    static const char *const bad[] = {"", "nobody 2026-11-28T23:10:00Z", "page 2026-11-28",
                                      "page 2026-13-28T23:10:00Z", "page 2026-11-28T23:10:00+01:00",
                                      "page  2026-11-28T23:10:00Z", "api 1969-12-31T23:59:59Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_not_equal(prov_from_text(bad[i], &q), 0);
}

static void test_stamp(void **state)
{
    (void)state;
    struct line old, next;
    line_defaults(&old);
    strcpy(old.user, "1001");
    old.prov[idx("user")] = (struct prov){.source = PROV_IMAGE, .at = 100};
    next = old;
    strcpy(next.label, "Desk");                   /* changed */
    strcpy(next.user, "1001");                    /* same value again */
    prov_stamp(&next, &old, PROV_API, 500, true);
    assert_int_equal(next.prov[idx("label")].source, PROV_API);
    assert_int_equal(next.prov[idx("label")].at, 500);
    assert_int_equal(next.prov[idx("user")].source, PROV_IMAGE);   /* who set it first */
    assert_int_equal(next.prov[idx("user")].at, 100);
    assert_int_equal(next.prov[idx("proxy")].source, PROV_DEFAULT);

    /* locks: provisioning sets them, others keep them */
    struct line locked = next;
    locked.locked = UINT32_C(1) << idx("proxy");
    prov_stamp(&locked, &next, PROV_PROVISIONING, 600, false);
    assert_int_equal(locked.lock[idx("proxy")].source, PROV_PROVISIONING);
    assert_int_equal(locked.lock[idx("proxy")].at, 600);
    struct line again = locked;
    prov_stamp(&again, &locked, PROV_PROVISIONING, 700, false);
    assert_int_equal(again.lock[idx("proxy")].at, 600);        /* still locked since 600 */
    struct line page = locked;
    page.locked = 0;
    prov_stamp(&page, &locked, PROV_PAGE, 800, true);
    assert_int_equal(page.locked, locked.locked);               /* keep_locks */

    /* a change to a locked field is found; other fields are free */
    struct line edit = locked;
    strcpy(edit.label, "Other");
    assert_int_equal(prov_locked_changes(&locked, &edit), 0);
    edit.srv[SF_PROXY].set = true;
    strcpy(edit.srv[SF_PROXY].host, "pbx.example.com");
    assert_int_equal(prov_locked_changes(&locked, &edit), UINT32_C(1) << idx("proxy"));
}

static void test_json(void **state)
{
    (void)state;
    struct line cur, l;
    struct diag_list errs;
    line_defaults(&cur);
    strcpy(cur.password, "secret");
    cur.prov[idx("password")] = (struct prov){.source = PROV_PAGE, .at = 1795907400};
    cur.locked = UINT32_C(1) << idx("password") | UINT32_C(1) << idx("proxy");
    json_t *j = line_to_json(&cur, 1);
    /* the password is "password_set" there too: no object has a "password" member */
    assert_null(json_object_get(json_object_get(j, "provenance"), "password"));
    json_t *pw = json_object_get(json_object_get(j, "provenance"), "password_set");
    assert_string_equal(json_string_value(json_object_get(pw, "source")), "page");
    assert_string_equal(json_string_value(json_object_get(pw, "at")), "2026-11-28T23:10:00Z");
    assert_true(json_is_null(json_object_get(json_object_get(json_object_get(j, "provenance"),
                                                             "label"), "at")));
    char *s = json_dumps(json_object_get(j, "locked"), JSON_COMPACT);
    assert_string_equal(s, "[\"password_set\",\"proxy\"]");
    free(s);

    /* sent back: locks kept; without "locked": kept; "locked": [] clears */
    diag_init(&errs);
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_int_equal(l.locked, cur.locked);
    json_object_del(j, "locked");
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_int_equal(l.locked, cur.locked);
    json_object_set_new(j, "locked", json_array());
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_int_equal(l.locked, 0);
    json_object_set_new(j, "locked", json_pack("[s, s]", "label", "password"));
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), 0);
    assert_int_equal(l.locked, UINT32_C(1) << idx("label") | UINT32_C(1) << idx("password"));

    json_object_set_new(j, "locked", json_pack("[s, i]", "nosuch", 3));
    assert_int_equal(line_from_json(j, 1, &cur, &l, "lines[0]", &errs), -EINVAL);
    assert_int_equal(errs.n, 2);
    assert_string_equal(errs.item[0].field, "lines[0].locked[0]");
    assert_string_equal(errs.item[0].code, "unknown_field");
    assert_string_equal(errs.item[1].code, "invalid_type");
    diag_init(&errs);
    json_object_set_new(j, "locked", json_string("proxy"));
    json_object_set_new(j, "provenance", json_integer(1));
    assert_int_equal(line_from_json(j, 1, &cur, &l, "", &errs), -EINVAL);
    assert_int_equal(errs.n, 2);
    json_decref(j);
}

static void test_flash_round_trip(void **state)
{
    (void)state;
    struct config *c = calloc(2, sizeof *c), *back = c + 1;
    struct diag_list errs;
    config_defaults(c, 6);
    c->line[2].prov[idx("proxy")] = (struct prov){.source = PROV_API, .at = 1795907400};
    c->line[2].prov[idx("enabled")] = (struct prov){.source = PROV_DEFAULT, .at = 1795907401};
    c->line[2].locked = UINT32_C(1) << idx("domain");
    c->line[2].lock[idx("domain")] = (struct prov){.source = PROV_IMAGE, .at = 1795907402};
    struct kv *kv = kv_new();
    assert_int_equal(config_to_kv(c, kv), 0);
    assert_string_equal(kv_get(kv, "line3.provenance.proxy"), "api 2026-11-28T23:10:00Z");
    assert_string_equal(kv_get(kv, "line3.provenance.enabled"), "default 2026-11-28T23:10:01Z");
    assert_string_equal(kv_get(kv, "line3.locked.domain"), "image 2026-11-28T23:10:02Z");
    assert_null(kv_get(kv, "line3.provenance.label"));
    diag_init(&errs);
    assert_int_equal(config_from_kv(kv, 6, back, &errs), 0);
    for (size_t i = 0; i < line_nfields; i++) {
        assert_int_equal(back->line[2].prov[i].source, c->line[2].prov[i].source);
        assert_int_equal(back->line[2].prov[i].at, c->line[2].prov[i].at);
        assert_int_equal(back->line[2].lock[i].source, c->line[2].lock[i].source);
        assert_int_equal(back->line[2].lock[i].at, c->line[2].lock[i].at);
    }
    assert_int_equal(back->line[2].locked, c->line[2].locked);
    /* locks are configuration; provenance alone is not */
    assert_int_equal(config_diff(c, back), 0);
    back->line[2].locked = 0;
    assert_int_equal(config_diff(c, back), CONFIG_DIFF_SETTINGS);
    back->line[2].locked = c->line[2].locked;
    back->line[2].prov[idx("label")].source = PROV_PAGE;
    assert_int_equal(config_diff(c, back), 0);
    /* a hand-edited record is reported and left out */
    assert_int_equal(kv_set(kv, "line3.provenance.user", "someone"), 0);
    diag_init(&errs);
    assert_int_equal(config_from_kv(kv, 6, back, &errs), -EINVAL);
    assert_string_equal(errs.item[0].field, "line3.provenance.user");
    assert_int_equal(back->line[2].prov[idx("user")].source, PROV_DEFAULT);
    kv_free(kv);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_stamp),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_flash_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

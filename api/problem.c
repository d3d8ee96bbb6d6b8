/* problem: RFC 9457 problem+json bodies (API.md section 6). */
#include "api.h"

#include <stdio.h>

void api_validation_failed_w(struct resp *rs, const struct diag_list *errs,
                             const struct diag_list *warns, json_t *checks)
{
    char detail[96];
    size_t n = errs ? errs->n + errs->dropped : 0;
    snprintf(detail, sizeof detail, "%zu field%s failed validation", n, n == 1 ? "" : "s");
    json_t *p = resp_problem_new(422, "Validation failed", detail);
    if (!p) {
        json_decref(checks);
        resp_empty(rs, 500);
        return;
    }
    json_object_set_new(p, "errors", errs ? diag_to_json(errs) : json_array());
    json_object_set_new(p, "checks", checks ? checks : json_array());
    if (warns)
        json_object_set_new(p, "warnings", diag_to_json(warns));
    resp_problem_json(rs, 422, p);
}

void api_validation_failed(struct resp *rs, const struct diag_list *errs, json_t *checks)
{
    api_validation_failed_w(rs, errs, NULL, checks);
}

void api_bad_json(struct resp *rs, const struct json_syntax_error *err)
{
    char detail[256];
    snprintf(detail, sizeof detail, "malformed JSON at line %d, column %d: %s", err->line,
             err->column, err->text);
    json_t *p = resp_problem_new(400, "Malformed JSON", detail);
    if (!p) {
        resp_empty(rs, 500);
        return;
    }
    json_object_set_new(p, "line", json_integer(err->line));
    json_object_set_new(p, "column", json_integer(err->column));
    resp_problem_json(rs, 400, p);
}

json_t *api_body_json(const struct req *rq, struct resp *rs)
{
    size_t len = 0;
    const char *body = req_body(rq, &len);
    struct json_syntax_error err;
    json_t *in = json_parse_body(body ? body : "", body ? len : 0, &err);
    if (!in)
        api_bad_json(rs, &err);
    return in;
}

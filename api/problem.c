/* problem: RFC 9457 problem+json bodies (API.md section 6). */
#include "api.h"

#include <stdio.h>

const char *api_status_title(unsigned status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Validation failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Error";
    }
}

json_t *api_problem_new(unsigned status, const char *title, const char *detail)
{
    json_t *p = json_object();
    if (!p)
        return NULL;
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(title ? title : api_status_title(status)));
    json_object_set_new(p, "status", json_integer(status));
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    return p;
}

void api_problem(struct resp *rs, unsigned status, const char *title, const char *detail)
{
    resp_problem_json(rs, status, api_problem_new(status, title, detail));
}

void api_validation_failed_w(struct resp *rs, const struct diag_list *errs,
                             const struct diag_list *warns, json_t *checks)
{
    char detail[96];
    size_t n = errs ? errs->n + errs->dropped : 0;
    snprintf(detail, sizeof detail, "%zu field%s failed validation", n, n == 1 ? "" : "s");
    json_t *p = api_problem_new(422, "Validation failed", detail);
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
    json_t *p = api_problem_new(400, "Malformed JSON", detail);
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

void api_bad_parameter(struct resp *rs, const char *name, const char *detail)
{
    json_t *p = api_problem_new(400, "Bad query parameter", detail);
    if (!p) {
        resp_empty(rs, 500);
        return;
    }
    json_object_set_new(p, "parameter", json_string(name));
    resp_problem_json(rs, 400, p);
}

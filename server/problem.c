/* problem: RFC 9457 problem+json bodies (API.md section 6), the HTTP error
 * shape every layer answers with. */
#include "http.h"

#include <stdio.h>

const char *resp_status_title(unsigned status)
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

json_t *resp_problem_new(unsigned status, const char *title, const char *detail)
{
    json_t *p = json_object();
    if (!p)
        return NULL;
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(title ? title : resp_status_title(status)));
    json_object_set_new(p, "status", json_integer(status));
    if (detail)
        json_object_set_new(p, "detail", json_string(detail));
    return p;
}

void resp_problem(struct resp *rs, unsigned status, const char *title, const char *detail)
{
    resp_problem_json(rs, status, resp_problem_new(status, title, detail));
}

void resp_bad_parameter(struct resp *rs, const char *name, const char *detail)
{
    json_t *p = resp_problem_new(400, "Bad query parameter", detail);
    if (!p) {
        resp_empty(rs, 500);
        return;
    }
    json_object_set_new(p, "parameter", json_string(name));
    resp_problem_json(rs, 400, p);
}

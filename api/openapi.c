/* openapi: GET /openapi.json, api/openapi.yaml (its Line field part written
 * from the field table, scripts/openapi_lines.py) converted to JSON at build
 * time (build/gen/openapi_json.c), so the served contract is the reviewed file. */
#include "api.h"

void openapi_get(struct req *rq, struct resp *rs)
{
    (void)rq;
    json_error_t err;
    json_t *j = json_loadb(openapi_json, (size_t)openapi_json_len, 0, &err);
    if (!j) {
        resp_problem(rs, 500, NULL, "the built-in OpenAPI document is not valid JSON");
        return;
    }
    resp_json(rs, 200, j);
}

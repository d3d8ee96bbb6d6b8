/* session: log in and out (POST/DELETE /session) and change the admin
 * password (PUT /admin/password), API.md sections 3 and 5. The session
 * table, the rate limiter and the cookie rules are in server/auth.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "api.h"
#include "auth.h"
#include "json_hint.h"

/* The body as a JSON object of string members named in `keys` (all required);
 * answers 400 (malformed JSON) or 422 (shape) and returns -EINVAL. */
static int string_members(struct req *rq, struct resp *rs, const char *what,
                          const char *const *keys, size_t nkeys, const char **out, json_t **root)
{
    json_t *in = api_body_json(rq, rs);
    if (!in)
        return -EINVAL;
    struct diag_list errs;
    diag_init(&errs);
    for (size_t i = 0; i < nkeys; i++) {
        json_t *v = json_object_get(in, keys[i]);
        out[i] = json_string_value(v);
        if (!v) diag_add(&errs, keys[i], "missing_field", "'%s' is required.", keys[i]);
        else if (!out[i]) diag_add(&errs, keys[i], "invalid_type", "'%s' must be a string.", keys[i]);
    }
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) {
        bool known = false;
        for (size_t i = 0; i < nkeys; i++) known |= !strcmp(k, keys[i]);
        if (!known)     /* "'usernme' is not a field of a login: did you mean 'username'?" */
            json_hint_unknown(&errs, "", k, what, keys, nkeys, NULL, 0);
    }
    if (errs.n) {
        api_validation_failed(rs, &errs, NULL);
        json_decref(in);
        return -EINVAL;
    }
    *root = in;
    return 0;
}

static bool password_is_admins(struct app *app, const char *password)
{
    char ha1[ADMIN_HA1_HEX + 1];
    pthread_mutex_lock(&app->lock);
    snprintf(ha1, sizeof ha1, "%s", app->cfg->admin_ha1);
    pthread_mutex_unlock(&app->lock);
    bool ok = ha1[0] && admin_password_matches(password, ha1);
    explicit_bzero(ha1, sizeof ha1);
    return ok;
}

void session_post(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    const char *ip = req_client_ip(rq);
    if (auth_answer_if_locked(app->auth, ip, rs)) return;
    static const char *const keys[] = {"username", "password"};
    const char *v[2];
    json_t *in;
    if (string_members(rq, rs, "a login", keys, 2, v, &in)) return;
    /* Both checks always run, so the answer and its timing do not tell
     * whether the user name was right. */
    bool user_ok = session_token_equal(v[0], ADMIN_USER);
    bool pass_ok = password_is_admins(app, v[1]);
    json_decref(in);
    if (!user_ok || !pass_ok) {
        auth_login_failed(app->auth, ip);
        resp_problem(rs, 401, NULL, "Wrong user name or password.");
        return;
    }
    auth_login_succeeded(app->auth, ip);
    /* Fixation: whatever session the client brought is ended; the new id is fresh. */
    auth_session_end(app->auth, auth_request_cookie(rq));
    char id[SESSION_ID_HEX + 1], csrf[SESSION_ID_HEX + 1], cookie[200];
    if (auth_session_new(app->auth, id, csrf)) {
        resp_problem(rs, 500, NULL, "No session could be made.");
        return;
    }
    auth_cookie_header(req_is_tls(rq), id, cookie, sizeof cookie);
    resp_header(rs, "Set-Cookie", cookie);
    resp_json(rs, 201, json_pack("{s:s, s:i}", "csrf_token", csrf, "expires_in", SESSION_IDLE_S));
    explicit_bzero(id, sizeof id);
    explicit_bzero(csrf, sizeof csrf);
    explicit_bzero(cookie, sizeof cookie);
}

void session_delete(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    if (req_by_session(rq)) auth_session_end(app->auth, req_session_id(rq));
    char cookie[128];
    auth_cookie_header(req_is_tls(rq), NULL, cookie, sizeof cookie);
    resp_header(rs, "Set-Cookie", cookie);
    resp_empty(rs, 204);
}

void admin_password_put(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    const char *ip = req_client_ip(rq);
    /* The current password is a login in disguise: same lock, same counting. */
    if (auth_answer_if_locked(app->auth, ip, rs)) return;
    static const char *const keys[] = {"current", "new"};
    const char *v[2];
    json_t *in;
    if (string_members(rq, rs, "a password change", keys, 2, v, &in)) return;
    if (!password_is_admins(app, v[0])) {
        json_decref(in);
        auth_login_failed(app->auth, ip);
        resp_problem(rs, 403, "Wrong current password",
                    "The current password is wrong; the password was not changed.");
        return;
    }
    struct diag_list errs;
    diag_init(&errs);
    if (admin_password_check(v[1], "new", &errs) || errs.n) {
        json_decref(in);
        api_validation_failed(rs, &errs, NULL);
        return;
    }
    char ha1[ADMIN_HA1_HEX + 1];
    admin_ha1_hex(v[1], ha1);
    json_decref(in);

    struct config *next = malloc(sizeof *next);
    if (!next) {
        explicit_bzero(ha1, sizeof ha1);
        resp_problem(rs, 500, NULL, "Out of memory.");
        return;
    }
    pthread_mutex_lock(&app->lock);
    *next = *app->cfg;
    memcpy(next->admin_ha1, ha1, sizeof ha1);
    /* api_commit answers 409/507 itself and leaves RAM and flash as they were,
     * so on failure the old password keeps working. */
    int rc = api_commit(app, rs, next, NULL);
    pthread_mutex_unlock(&app->lock);
    explicit_bzero(ha1, sizeof ha1);
    explicit_bzero(next, sizeof *next);
    free(next);
    if (rc < 0) return;
    /* Every session ends, this one included: the page logs in again. */
    auth_sessions_end_all(app->auth);
    auth_login_succeeded(app->auth, ip);
    char cookie[128];
    auth_cookie_header(req_is_tls(rq), NULL, cookie, sizeof cookie);
    resp_header(rs, "Set-Cookie", cookie);
    resp_empty(rs, 204);
}

/* provision_phone: see provision_phone.h. */
#include "provision_phone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANSWER_MAX ((size_t)1024 * 1024)  /* a 16-line GET /config is ~100 KiB */
#define CONNECT_TIMEOUT_S 10L
/* A write waits for the phone's DNS checks (2 s each by default, in parallel). */
#define REQUEST_TIMEOUT_S 120L

struct answer {
    long status;
    char *text;
    size_t len;
    bool too_big;
    char etag[96];
    json_t *json;                   /* the body when it is JSON */
    unsigned responses;             /* HTTP responses read, a digest challenge included */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb;
    if (a->len + n > ANSWER_MAX) {
        a->too_big = true;
        return 0;                   /* curl stops the transfer */
    }
    char *t = realloc(a->text, a->len + n + 1);
    if (!t)
        return 0;
    memcpy(t + a->len, ptr, n);
    a->text = t;
    a->len += n;
    t[a->len] = '\0';
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct answer *a = ud;
    size_t n = size * nmemb;
    if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
        a->etag[0] = '\0';          /* a new response (the digest challenge came first) */
        a->responses++;
    } else if (n > 5 && !strncasecmp(ptr, "etag:", 5)) {
        const char *v = ptr + 5;
        size_t vl = n - 5;
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof a->etag) {
            memcpy(a->etag, v, vl);
            a->etag[vl] = '\0';
        }
    }
    return n;
}

static void answer_clear(struct answer *a)
{
    free(a->text);
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}

/* A transport failure in words: what a person checks next. */
static void curl_words(CURLcode rc, const char *errbuf, const char *url, char *out, size_t n)
{
    const char *what;
    switch (rc) {
    case CURLE_COULDNT_CONNECT: what = "unreachable: nothing answers at"; break;
    case CURLE_COULDNT_RESOLVE_HOST: what = "unreachable: the name does not resolve:"; break;
    case CURLE_OPERATION_TIMEDOUT: what = "unreachable: no answer in time from"; break;
    case CURLE_PEER_FAILED_VERIFICATION:
        what = "the phone's TLS certificate is not trusted (--cacert FILE, or --insecure):";
        break;
    case CURLE_SSL_CONNECT_ERROR: what = "the TLS handshake failed with"; break;
    default: what = "the request failed:"; break;
    }
    snprintf(out, n, "%s %s (%s)", what, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
}

/* What stays the same for all of a phone's requests. curl_easy_reset only
 * here, between phones: within one phone the handle keeps the digest state
 * of the first 401, so the next requests carry their Authorization at once
 * instead of taking a challenge round trip each. */
static void phone_handle(CURL *h, const struct opts *o, const struct phone *p, char *errbuf)
{
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    curl_easy_setopt(h, CURLOPT_USERNAME, "admin");
    curl_easy_setopt(h, CURLOPT_PASSWORD, p->password);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    if (o->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
    if (o->insecure) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

/* One request on a handle phone_handle prepared; 0 when an HTTP answer came
 * (any status), else -1 with words in err. */
static int request(CURL *h, struct phone *p, const char *method, const char *path,
                   const char *body, const char *if_match, struct answer *a, char *errbuf,
                   char *err, size_t errn)
{
    char url[sizeof p->url + 96], im[128];
    struct curl_slist *hdr = NULL;
    answer_clear(a);
    errbuf[0] = '\0';
    snprintf(url, sizeof url, "%s/api/v1%s", p->url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    if (body) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        hdr = curl_slist_append(hdr, "Expect:");   /* no 100-continue round trip */
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (if_match) {
        snprintf(im, sizeof im, "If-Match: %s", if_match);
        hdr = curl_slist_append(hdr, im);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);   /* hdr is freed now */
    curl_slist_free_all(hdr);
    p->requests += a->responses;
    if (rc != CURLE_OK) {
        if (a->too_big)
            snprintf(err, errn, "the answer of %s is larger than %zu bytes", url, ANSWER_MAX);
        else
            curl_words(rc, errbuf, p->url, err, errn);
        return -1;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
    if (a->text)
        a->json = json_loadb(a->text, a->len, 0, NULL);
    return 0;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* A status other than 200 in words; a 422's errors go into the receipt. */
static void status_words(const struct answer *a, const char *step, json_t *receipt, char *out,
                         size_t n)
{
    const json_t *errs = json_object_get(a->json, "errors");
    const char *detail = jstr(a->json, "detail");
    json_object_set_new(receipt, "http_status", json_integer(a->status));
    if (a->status == 401) {
        snprintf(out, n, "wrong admin password (401)");
    } else if (a->status == 429) {
        snprintf(out, n, "too many failed logins from here; the phone refuses for a while (429)");
    } else if (a->status == 422 && json_array_size(errs) > 0) {
        const json_t *e = json_array_get(errs, 0);
        size_t more = json_array_size(errs) - 1;
        char tail[48] = "";
        if (more)
            snprintf(tail, sizeof tail, " (and %zu more)", more);
        snprintf(out, n, "%s refused (422): %s%s%s%s", step, jstr(e, "field"),
                 jstr(e, "field")[0] ? ": " : "", jstr(e, "message"), tail);
        json_object_set(receipt, "errors", (json_t *)errs);
    } else if (a->status == 412) {
        snprintf(out, n, "the phone's configuration changed between the check and the apply "
                         "(412); nothing was written, run again");
    } else if (a->status == 404) {
        snprintf(out, n, "no sipcfg API at this address (404)");
    } else {
        snprintf(out, n, "%s: HTTP %ld%s%s", step, a->status, detail[0] ? ": " : "", detail);
    }
    if (json_object_get(a->json, "checks"))
        json_object_set(receipt, "checks", json_object_get(a->json, "checks"));
}

/* Lines (1-based) whose object differs between two "lines" arrays. */
static json_t *changed_lines(const json_t *before, const json_t *after)
{
    json_t *out = json_array();
    size_t n = json_array_size(after);
    for (size_t i = 0; out && i < n; i++)
        if (!json_equal(json_array_get(before, i), json_array_get(after, i)))
            json_array_append_new(out, json_integer((json_int_t)i + 1));
    return out;
}

void provision_phone_run(CURL *h, const struct opts *o, struct phone *p)
{
    json_t *rc = p->receipt;
    struct answer a = {0};
    char q[64], errbuf[CURL_ERROR_SIZE] = "";
    p->requests = 0;
    phone_handle(h, o, p, errbuf);
    if (request(h, p, "GET", "/config", NULL, NULL, &a, errbuf, p->error, sizeof p->error) < 0) {
        json_object_set_new(rc, "step", json_string("read"));
        goto out;
    }
    if (a.status != 200 || !json_is_array(json_object_get(a.json, "lines"))) {
        json_object_set_new(rc, "step", json_string("read"));
        status_words(&a, "reading the configuration", rc, p->error, sizeof p->error);
        goto out;
    }
    json_t *before = json_incref(json_object_get(a.json, "lines"));
    char etag[sizeof a.etag];
    snprintf(etag, sizeof etag, "%s", a.etag);
    json_object_set_new(rc, "etag", etag[0] ? json_string(etag) : json_null());

    snprintf(q, sizeof q, "/config?dry_run=true&dns=%s", o->dns);
    if (request(h, p, "PUT", q, p->body, NULL, &a, errbuf, p->error, sizeof p->error) < 0 ||
        a.status != 200) {
        json_object_set_new(rc, "step", json_string("dry_run"));
        if (a.status)
            status_words(&a, "the dry run", rc, p->error, sizeof p->error);
        json_decref(before);
        goto out;
    }
    if (o->dry_run) {
        bool ch = json_is_true(json_object_get(a.json, "changed"));
        p->outcome = ch ? OUT_WOULD_CHANGE : OUT_UNCHANGED;
        json_object_set_new(rc, "changed", json_boolean(ch));
        json_object_set_new(rc, "changed_lines",
                            changed_lines(before, json_object_get(a.json, "lines")));
    } else {
        snprintf(q, sizeof q, "/config?dns=%s", o->dns);
        if (request(h, p, "PUT", q, p->body, etag[0] ? etag : NULL, &a, errbuf, p->error,
                    sizeof p->error) < 0 || a.status != 200) {
            json_object_set_new(rc, "step", json_string("apply"));
            if (a.status)
                status_words(&a, "the apply", rc, p->error, sizeof p->error);
            json_decref(before);
            goto out;
        }
        bool ch = json_is_true(json_object_get(a.json, "changed"));
        p->outcome = ch ? OUT_CHANGED : OUT_UNCHANGED;
        json_object_set_new(rc, "etag", a.etag[0] ? json_string(a.etag) : json_null());
        json_object_set_new(rc, "changed", json_boolean(ch));
        json_object_set_new(rc, "resolutions_updated",
                            json_boolean(json_is_true(json_object_get(a.json,
                                                                       "resolutions_updated"))));
        json_object_set_new(rc, "changed_lines",
                            changed_lines(before, json_object_get(a.json, "lines")));
    }
    json_decref(before);
    json_object_set(rc, "checks", json_object_get(a.json, "checks"));
    json_object_set(rc, "warnings", json_object_get(a.json, "warnings"));
out:
    json_object_set_new(rc, "http_requests", json_integer(p->requests));
    answer_clear(&a);
}

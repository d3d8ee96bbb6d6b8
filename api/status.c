/* status: GET /status, what a person or a monitoring script wants to know. */
#include "api.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void status_get(struct req *rq, struct resp *rs)
{
    struct app *app = req_app(rq);
    struct store_info info;
    memset(&info, 0, sizeof info);
    pthread_mutex_lock(&app->lock);
    int rc = store_info(app->store, &info);
    uint32_t generation = app->generation;
    pthread_mutex_unlock(&app->lock);
    if (rc < 0) {
        resp_problem(rs, 500, NULL, "the flash store could not be read");
        return;
    }
    time_t now = time(NULL);
    long long up = now >= app->started ? (long long)(now - app->started) : 0;
    json_t *saved = json_null();
    if (info.state == STORE_OK && info.saved_at > 0) {
        time_t t = (time_t)info.saved_at;
        struct tm tm;
        char buf[32];
        if (gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0) {
            json_decref(saved);
            saved = json_string(buf);
        }
    }
    static const char *const states[] = {"empty", "ok", "corrupt"};
    json_t *out = json_pack("{s:s, s:I, s:I, s:{s:I, s:i, s:[I, I], s:o, s:s, s:I, s:I}, "
                            "s:{s:I}}",
                            "version", app->version ? app->version : "unknown",
                            "uptime_s", (json_int_t)up,
                            "lines", (json_int_t)app->nlines,
                            "store",
                            "generation", (json_int_t)generation,
                            "active_bank", info.active_bank,
                            "erase_counts", (json_int_t)info.erase_count[0],
                            (json_int_t)info.erase_count[1],
                            "saved_at", saved,
                            "state", (unsigned)info.state < 3 ? states[info.state] : "unknown",
                            "capacity", (json_int_t)info.capacity,
                            "length", (json_int_t)(info.active_bank >= 0 && info.active_bank < 2
                                                   ? info.length[info.active_bank] : 0),
                            "dns",
                            "queries_sent", (json_int_t)(app->dns ? dns_queries_sent(app->dns) : 0));
    if (!out) {
        resp_problem(rs, 500, NULL, "out of memory");
        return;
    }
    /* A bank that held a finished commit and no longer validates (a bit
     * flip): said here, with whether the store fell back a generation. */
    json_t *st = json_object_get(out, "store");
    if (info.damaged_bank >= 0 && st) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 info.rolled_back
                     ? "bank %d held a newer configuration (generation %u) and is damaged: the "
                       "previous generation is in use; save again to store a good copy"
                     : "bank %d (generation %u, the spare) is damaged; the next save rewrites it",
                 info.damaged_bank, (unsigned)info.seq[info.damaged_bank]);
        json_object_set_new(st, "damaged_bank", json_integer(info.damaged_bank));
        json_object_set_new(st, "rolled_back", json_boolean(info.rolled_back));
        json_object_set_new(st, "warning", json_string(msg));
    }
    /* The image file itself cut short or its trailer damaged (docs/STORE.md 1). */
    char why[400];
    store_damage_text(&info, why, sizeof why);
    if (why[0] && st)
        json_object_set_new(st, "image_damage", json_string(why));
    resp_json(rs, 200, out);
}

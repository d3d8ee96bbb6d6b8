/* diag: see diag.h */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

void diag_init(struct diag_list *l)
{
    l->n = 0;
    l->dropped = 0;
}

void diag_add(struct diag_list *l, const char *field, const char *code, const char *fmt, ...)
{
    if (l->n >= DIAG_MAX) {
        l->dropped++;
        return;
    }
    struct diag *d = &l->item[l->n++];
    text_copy(d->field, sizeof d->field, field);
    text_copy(d->code, sizeof d->code, code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
    va_end(ap);
}

void diag_merge(struct diag_list *to, const struct diag_list *from)
{
    for (size_t i = 0; i < from->n; i++) {
        if (to->n >= DIAG_MAX) {
            to->dropped++;
            continue;
        }
        to->item[to->n++] = from->item[i];
    }
    to->dropped += from->dropped;
}

char *diag_path(char *buf, size_t n, const char *prefix, const char *name)
{
    if (!prefix || !*prefix)
        snprintf(buf, n, "%s", name ? name : "");
    else if (!name || !*name)
        snprintf(buf, n, "%s", prefix);
    else if (name[0] == '[')
        snprintf(buf, n, "%s%s", prefix, name);
    else
        snprintf(buf, n, "%s.%s", prefix, name);
    return buf;
}

const char *diag_quote(char *buf, size_t n, const char *s)
{
    enum { SHOWN_MAX = 40 };
    size_t o = 0, shown = 0;
    if (n == 0)
        return buf;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char piece[8];
        if (shown >= SHOWN_MAX) {
            snprintf(piece, sizeof piece, "...");
            if (o + strlen(piece) < n) {
                memcpy(buf + o, piece, strlen(piece));
                o += strlen(piece);
            }
            break;
        }
        /* A quote escaped too: the message puts the text between quotes. */
        if (*p >= 0x20 && *p < 0x7f && *p != '\'')
            snprintf(piece, sizeof piece, "%c", *p);
        else
            snprintf(piece, sizeof piece, "\\x%02x", *p);
        size_t pl = strlen(piece);
        if (o + pl >= n)
            break;
        memcpy(buf + o, piece, pl);
        o += pl;
        shown++;
    }
    buf[o] = '\0';
    return buf;
}

const char *diag_quote_n(char *buf, size_t n, const char *s, size_t len)
{
    char tmp[64];
    size_t k = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
    memcpy(tmp, s, k);
    tmp[k] = '\0';
    return diag_quote(buf, n, tmp);
}

size_t diag_count(const struct diag_list *l)
{
    return l ? l->n + l->dropped : 0;
}

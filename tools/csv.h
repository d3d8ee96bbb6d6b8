/* csv: an RFC 4180 reader for the provisioning tool's phone list: a header
 * row, then one record per phone. Quoted fields may hold commas, quotes ("")
 * and line breaks; records end with CRLF or LF; a UTF-8 byte-order mark
 * (spreadsheets write one) is skipped; empty lines are skipped. */
#ifndef SIPCFG_CSV_H
#define SIPCFG_CSV_H
#include <stddef.h>

#define CSV_MAX_COLUMNS 256
#define CSV_MAX_FIELD 4096          /* bytes of one field */
#define CSV_MAX_RECORDS 100000

struct csv_record {
    unsigned line;                  /* the file line the record starts on (1 = header) */
    size_t nfields;
    char **field;                   /* NUL-terminated values */
};

struct csv {
    size_t ncolumns;
    char **column;                  /* the header's names */
    size_t nrecords;
    struct csv_record *record;
};

/* Parses text (len bytes, not necessarily NUL-terminated). 0, or a negative
 * errno with a message for a person in err ("line 4: a quoted field is not
 * closed"). A record with a field count other than the header's is kept as
 * it is: the caller reports it for that row alone. */
int csv_parse(const char *text, size_t len, struct csv **out, char *err, size_t errn);
/* The index of a header column, or -1. */
int csv_column(const struct csv *c, const char *name);
void csv_free(struct csv *c);

#endif

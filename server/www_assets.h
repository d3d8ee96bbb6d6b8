/* The page's files, compiled into the daemon by tools/embed.c. */
#ifndef SIPCFG_WWW_ASSETS_H
#define SIPCFG_WWW_ASSETS_H
#include <stddef.h>

struct www_asset {
    const char *path;          /* "/index.html" */
    const char *content_type;  /* with charset for text */
    const unsigned char *data;
    size_t size;
};

/* Terminated by an entry whose path is NULL. */
extern const struct www_asset www_assets[];
/* The names `--www DIR` serves from DIR: www/'s own files (the page's modules
 * unbundled), data NULL. Terminated like www_assets. */
extern const struct www_asset www_dev_names[];

#endif

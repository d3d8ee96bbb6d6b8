/* dns_servers: the --dns-server option ("HOST:PORT[,HOST:PORT]", names looked
 * up once with the system's resolver) into the "IP:PORT,..." list c-ares takes. */
#ifndef SIPCFG_DNS_SERVERS_H
#define SIPCFG_DNS_SERVERS_H
#include <stddef.h>

#define DNS_SERVERS_BUF 1024

/* 0, or -EINVAL for an empty list, a bad entry or more than 8 servers. */
int dns_servers_normalise(const char *list, char *out, size_t n);

#endif

/* dns_servers: see dns_servers.h */
#include "dns_servers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_target.h"
#include "hostport.h"
#include "text.h"

#define DNS_SERVERS_MAX 8          /* entries of --dns-server, and addresses per name */

/* Appends "IP:PORT" (IPv6 in brackets) to the c-ares list `out`, unless present. */
static int servers_append(char *out, size_t n, int family, const char *ip, unsigned port,
                          unsigned *count)
{
    char entry[DNS_ADDR_MAX + 16];
    snprintf(entry, sizeof entry, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
    size_t elen = strlen(entry), len = strlen(out);
    for (const char *p = out; (p = strstr(p, entry)) != NULL; p += elen)
        if ((p == out || p[-1] == ',') && (p[elen] == ',' || p[elen] == '\0'))
            return 0;                  /* the same server twice: once is enough */
    if (*count >= DNS_SERVERS_MAX || len + elen + 2 > n)
        return -EINVAL;
    snprintf(out + len, n - len, "%s%s", len ? "," : "", entry);
    (*count)++;
    return 0;
}

/* Adds one entry of --dns-server: IPv4[:PORT], [IPv6][:PORT], a bare IPv6, or
 * NAME[:PORT] (looked up once, here, with the system's resolver: IPv4 first).
 * PORT is 1..65535, default 53. */
static int servers_add_entry(const char *e, char *out, size_t n, unsigned *count)
{
    char host[HOST_MAX + 2];
    const char *port_text = NULL;
    size_t elen = strlen(e);
    if (elen == 0 || elen > HOST_MAX + 8)
        return -EINVAL;
    if (e[0] == '[') {
        const char *close = strchr(e, ']');
        if (!close || (size_t)(close - e - 1) >= sizeof host)
            return -EINVAL;
        memcpy(host, e + 1, (size_t)(close - e - 1));
        host[close - e - 1] = '\0';
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
        if (host_ip_literal(host, NULL, 0) != AF_INET6)
            return -EINVAL;
    } else {
        const char *colon = strchr(e, ':');
        if (colon && strchr(colon + 1, ':')) {   /* a bare IPv6 address: no port */
            if (elen >= sizeof host)
                return -EINVAL;
            memcpy(host, e, elen + 1);
            if (host_ip_literal(host, NULL, 0) != AF_INET6)
                return -EINVAL;
        } else {
            size_t hlen = colon ? (size_t)(colon - e) : elen;
            if (hlen == 0 || hlen >= sizeof host)
                return -EINVAL;
            memcpy(host, e, hlen);
            host[hlen] = '\0';
            if (colon)
                port_text = colon + 1;
        }
    }
    unsigned port = 53;
    if (port_text) {
        unsigned long long v;
        if (text_uint(port_text, strlen(port_text), PORT_MAX, &v) < 0 || v < PORT_MIN)
            return -EINVAL;
        port = (unsigned)v;
    }
    char norm[DNS_ADDR_MAX];
    int family = host_ip_literal(host, norm, sizeof norm);
    if (family)
        return servers_append(out, n, family, norm, port, count);
    if (!dns_name_valid(host))
        return -EINVAL;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
        return -EINVAL;
    int rc = 0;
    unsigned added = 0;
    static const int order[] = { AF_INET, AF_INET6 };
    for (size_t k = 0; k < 2 && rc == 0; k++)
        for (const struct addrinfo *ai = res; ai && rc == 0 && added < DNS_SERVERS_MAX;
             ai = ai->ai_next) {
            if (ai->ai_family != order[k])
                continue;
            char ip[DNS_ADDR_MAX];
            const void *a = ai->ai_family == AF_INET
                                ? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
                                : (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
            if (!inet_ntop(ai->ai_family, a, ip, sizeof ip))
                continue;
            rc = servers_append(out, n, ai->ai_family, ip, port, count);
            added++;
        }
    freeaddrinfo(res);
    return rc == 0 && added == 0 ? -EINVAL : rc;
}

int dns_servers_normalise(const char *list, char *out, size_t n)
{
    out[0] = '\0';
    size_t len = strnlen(list, DNS_SERVERS_BUF);
    if (len == 0 || len >= DNS_SERVERS_BUF)
        return -EINVAL;
    char copy[DNS_SERVERS_BUF];
    memcpy(copy, list, len + 1);
    unsigned count = 0;
    for (char *p = copy;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        int rc = servers_add_entry(p, out, n, &count);   /* an empty entry is an error */
        if (rc < 0)
            return rc;
        if (!comma)
            break;
        p = comma + 1;
    }
    return count ? 0 : -EINVAL;
}

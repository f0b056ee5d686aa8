/* ipaddr.h — IPv4/IPv6 addresses, prefixes (addr/len) and endpoints (host:port). */
#ifndef PODWIRE_IPADDR_H
#define PODWIRE_IPADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ip_addr {
	int family; /* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	};
};

struct ip_prefix {
	struct ip_addr addr;
	uint8_t cidr;
};

/* Longest textual forms, with the NUL. */
#define IP_ADDR_STRLEN INET6_ADDRSTRLEN
#define IP_PREFIX_STRLEN (INET6_ADDRSTRLEN + 4)
#define ENDPOINT_STRLEN (INET6_ADDRSTRLEN + IF_NAMESIZE_ + 10)
#define IF_NAMESIZE_ 16

/* Parse a literal address; returns 0 or -EINVAL. */
int ip_addr_parse(struct ip_addr *out, const char *s);
void ip_addr_format(const struct ip_addr *a, char *buf, size_t len);
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);
static inline unsigned int ip_addr_bits(const struct ip_addr *a) { return a->family == AF_INET6 ? 128 : 32; }

/* Parse "addr/len" or a bare "addr" (full length), as wg accepts allowed IPs.
 * Host bits are kept; ip_prefix_mask() clears them as the kernel does on store. */
int ip_prefix_parse(struct ip_prefix *out, const char *s);
/* The same parser, saying why it refuses @s ("prefix length out of range", ...), NULL when
 * it accepts it. Like wg's parse_allowedips(): the family follows from a ':' in the
 * address, the length is decimal digits only. */
const char *ip_prefix_parse_reason(struct ip_prefix *out, const char *s);
void ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len);
void ip_prefix_mask(struct ip_prefix *p);
bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b);
/* Does @p contain address @a (same family, first cidr bits equal)? */
bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a);
/* Does @outer hold every address of @inner (same family, @outer no longer, @inner's first
 * bits inside it)? */
bool ip_prefix_covers(const struct ip_prefix *outer, const struct ip_prefix *inner);
/* Do the two prefixes share any address? */
bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b);

/* Split "host:port", "[v6]:port" into host and port, as wg's endpoint syntax.
 * Returns 0 or -EINVAL (no port, port out of range, unbalanced brackets, empty host). */
int endpoint_split(const char *s, char *host, size_t host_len, uint16_t *port);
/* Resolve an endpoint (literal or DNS name) to a socket address; numeric results are
 * preferred as getaddrinfo orders them (lib/endpoint_resolve.c). Returns 0 or -errno / -EAI-style as -EHOSTUNREACH
 * and fills @err (if not NULL) with a human reason. */
int endpoint_resolve(const char *s, struct sockaddr_storage *out, socklen_t *out_len,
		     char *err, size_t err_len);
/* Print a socket address as wg does: "1.2.3.4:51820" or "[fe80::1%eth0]:51820". */
void endpoint_format(const struct sockaddr *sa, char *buf, size_t len);

#endif

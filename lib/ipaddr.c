#include "lib/ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/decimal.h"

int ip_addr_parse(struct ip_addr *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void ip_addr_format(const struct ip_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->bytes, buf, len) && len)
		buf[0] = '\0';
}

bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b)
{
	return a->family == b->family && !memcmp(a->bytes, b->bytes, a->family == AF_INET6 ? 16 : 4);
}

const char *ip_prefix_parse_reason(struct ip_prefix *out, const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/'), *len;
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t cidr;
	int family;

	if (!*s)
		return "empty entry";
	if (alen == 0 || alen >= sizeof(addr))
		return "not an IPv4 or IPv6 address";
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	family = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
	memset(out, 0, sizeof(*out));
	if (inet_pton(family, addr, &out->addr.bytes) != 1)
		return family == AF_INET6 ? "not an IPv6 address" : "not an IPv4 address";
	out->addr.family = family;
	out->cidr = (uint8_t)ip_addr_bits(&out->addr);
	if (!slash)
		return NULL;
	len = slash + 1;
	if (!*len || len[strspn(len, "0123456789")])
		return "prefix length is not a number";
	if (decimal_parse(len, ip_addr_bits(&out->addr), &cidr))
		return "prefix length out of range";
	out->cidr = (uint8_t)cidr;
	return NULL;
}

int ip_prefix_parse(struct ip_prefix *out, const char *s)
{
	return ip_prefix_parse_reason(out, s) ? -EINVAL : 0;
}

void ip_prefix_format(const struct ip_prefix *p, char *buf, size_t len)
{
	char addr[IP_ADDR_STRLEN];

	ip_addr_format(&p->addr, addr, sizeof(addr));
	snprintf(buf, len, "%s/%u", addr, p->cidr);
}

void ip_prefix_mask(struct ip_prefix *p)
{
	unsigned int bits = ip_addr_bits(&p->addr);

	for (unsigned int i = p->cidr; i < bits; i++)
		p->addr.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static bool bits_equal(const uint8_t *a, const uint8_t *b, unsigned int n)
{
	unsigned int full = n / 8, rest = n % 8;

	if (memcmp(a, b, full))
		return false;
	if (!rest)
		return true;
	return !((a[full] ^ b[full]) & (uint8_t)(0xff << (8 - rest)));
}

bool ip_prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->addr.family == b->addr.family && a->cidr == b->cidr &&
	       bits_equal(a->addr.bytes, b->addr.bytes, a->cidr);
}

bool ip_prefix_contains(const struct ip_prefix *p, const struct ip_addr *a)
{
	return p->addr.family == a->family && bits_equal(p->addr.bytes, a->bytes, p->cidr);
}

bool ip_prefix_covers(const struct ip_prefix *outer, const struct ip_prefix *inner)
{
	return outer->cidr <= inner->cidr && ip_prefix_contains(outer, &inner->addr);
}

bool ip_prefix_overlaps(const struct ip_prefix *a, const struct ip_prefix *b)
{
	unsigned int n = a->cidr < b->cidr ? a->cidr : b->cidr;

	return a->addr.family == b->addr.family && bits_equal(a->addr.bytes, b->addr.bytes, n);
}

int endpoint_split(const char *s, char *host, size_t host_len, uint16_t *port)
{
	const char *colon, *hend, *hbegin = s;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		hbegin = s + 1;
		hend = strchr(s, ']');
		if (!hend || hend[1] != ':')
			return -EINVAL;
		colon = hend + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) /* a bare v6 address needs brackets */
			return -EINVAL;
		hend = colon;
	}
	if (hend == hbegin || (size_t)(hend - hbegin) >= host_len)
		return -EINVAL;
	if (colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535)
		return -EINVAL;
	memcpy(host, hbegin, (size_t)(hend - hbegin));
	host[hend - hbegin] = '\0';
	*port = (uint16_t)p;
	return 0;
}

void endpoint_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	socklen_t salen = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    getnameinfo(sa, salen, host, sizeof(host), serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, len, "(none)");
		return;
	}
	snprintf(buf, len, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* endpoint_resolve(): the one place that asks the name service (getaddrinfo, which glibc
 * answers through NSS modules it loads at run time). It lives apart from lib/ipaddr.c so that
 * the statically linked CNI plugins, which never resolve names, do not link it: a static
 * binary that calls getaddrinfo needs the shared libraries of the glibc it was built with. */
#include "lib/ipaddr.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

int endpoint_resolve(const char *s, struct sockaddr_storage *out, socklen_t *out_len,
		     char *err, size_t err_len)
{
	char host[256], portstr[8];
	uint16_t port;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM,
				  .ai_protocol = IPPROTO_UDP };
	struct addrinfo *res = NULL;
	int ret;

	if (endpoint_split(s, host, sizeof(host), &port)) {
		if (err)
			snprintf(err, err_len, "not HOST:PORT or [IPV6]:PORT");
		return -EINVAL;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	ret = getaddrinfo(host, portstr, &hints, &res);
	if (ret) {
		if (err)
			snprintf(err, err_len, "%s", ret == EAI_SYSTEM ? strerror(errno) : gai_strerror(ret));
		return ret == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH;
	}
	if (res->ai_addrlen > sizeof(*out)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

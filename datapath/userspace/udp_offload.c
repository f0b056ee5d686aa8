/* udp_offload.c — grouping datagrams for UDP_SEGMENT and splitting UDP GRO trains. */
#include "datapath/userspace/udp_offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int wg_offload_from_env(bool *on)
{
	const char *v = getenv(WG_OFFLOAD_ENV);

	if (!v || !strcmp(v, "1") || !strcmp(v, "on")) {
		*on = true;
		return 0;
	}
	if (!strcmp(v, "0") || !strcmp(v, "off")) {
		*on = false;
		return 0;
	}
	return -EINVAL;
}

static bool same_destination(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

unsigned int wg_udp_gso_run(const struct iovec *iov, const struct sockaddr_storage *dst, unsigned int n)
{
	size_t seg, bytes;
	unsigned int i;

	if (n == 0)
		return 0;
	seg = iov[0].iov_len;
	bytes = seg;
	/* An empty first datagram cannot set a segment size: it goes alone. */
	if (seg == 0)
		return 1;
	for (i = 1; i < n && i < WG_UDP_GSO_MAX_SEGS; i++) {
		if (!same_destination(&dst[0], &dst[i]) || iov[i].iov_len > seg || iov[i].iov_len == 0 ||
		    bytes + iov[i].iov_len > WG_UDP_GSO_MAX_BYTES)
			break;
		bytes += iov[i].iov_len;
		if (iov[i].iov_len < seg) /* a short segment can only be the last */
			return i + 1;
	}
	return i;
}

bool wg_udp_segment_next(size_t len, uint16_t gso_size, bool truncated, size_t *off, size_t *start,
			 size_t *seg_len)
{
	size_t step, s;

	if (*off == SIZE_MAX || (*off >= len && len != 0))
		return false;
	step = gso_size && gso_size < len ? gso_size : len;
	s = len - *off < step ? len - *off : step;
	*start = *off;
	*seg_len = s;
	*off = *off + s >= len ? SIZE_MAX : *off + s;
	if (truncated && *off == SIZE_MAX)
		*seg_len = 0;
	return true;
}

/* inet_csum.c — RFC 1071 checksums. */
#include "datapath/userspace/inet_csum.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	uint32_t w;

	/* 32-bit big-endian words: 2^16 = 1 modulo 0xffff, so a word adds as its two halves
	 * would; the 64-bit accumulator cannot overflow below 2^32 words. */
	for (; len >= 4; p += 4, len -= 4) {
		memcpy(&w, p, sizeof(w));
		acc += ntohl(w);
	}
	if (len >= 2) {
		acc += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffff) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t inet_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint32_t inet_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len)
{
	size_t alen = family == AF_INET6 ? 16 : 4;
	uint32_t sum = 0;

	sum = inet_csum_add(sum, src, alen);
	sum = inet_csum_add(sum, dst, alen);
	sum += proto;
	sum += len >> 16;
	sum += len & 0xffff;
	return sum;
}

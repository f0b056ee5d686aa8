/* inet_csum.h — the Internet checksum (RFC 1071) for IPv4 headers and TCP/UDP over IPv4
 * and IPv6, as needed when packets are cut or joined in userspace. */
#ifndef PODWIRE_US_INET_CSUM_H
#define PODWIRE_US_INET_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add @len bytes (big-endian 16-bit words, an odd last byte padded) to @sum. */
uint32_t inet_csum_add(uint32_t sum, const void *data, size_t len);
/* Fold to 16 bits (not complemented). */
uint16_t inet_csum_fold(uint32_t sum);
/* The pseudo-header sum: @family AF_INET (4-byte addresses) or AF_INET6 (16 bytes). */
uint32_t inet_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t len);

#endif

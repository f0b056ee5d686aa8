/* udp_offload.h — how datagrams are grouped for UDP segmentation offload (UDP_SEGMENT)
 * and split after UDP GRO, and the environment switch that turns offload off. Pure
 * functions: udp.c does the I/O. */
#ifndef PODWIRE_US_UDP_OFFLOAD_H
#define PODWIRE_US_UDP_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

/* Old kernels cap a UDP_SEGMENT send at 64 segments (UDP_MAX_SEGMENTS), and one send is
 * one IP datagram before segmentation: at most 65535 bytes with headers. */
#define WG_UDP_GSO_MAX_SEGS 64
#define WG_UDP_GSO_MAX_BYTES 65000

#define WG_OFFLOAD_ENV "PODWIRE_WG_OFFLOAD"

/* Read PODWIRE_WG_OFFLOAD: unset, "1" or "on": offload wanted; "0" or "off": forced off.
 * Returns 0, or -EINVAL for any other value. */
int wg_offload_from_env(bool *on);

/* How many of the @n queued datagrams (iov[0..n), dst[0..n)) go out together as one
 * UDP_SEGMENT send: the same destination, all as long as the first except the last,
 * which may be shorter, within WG_UDP_GSO_MAX_SEGS and WG_UDP_GSO_MAX_BYTES. At least 1
 * when n > 0. */
unsigned int wg_udp_gso_run(const struct iovec *iov, const struct sockaddr_storage *dst, unsigned int n);

/* Walk the segments of one received datagram of @len bytes that UDP GRO may have
 * coalesced from segments of @gso_size bytes (0: not coalesced; the last segment may be
 * shorter). Start with *off = 0; each call gives the next segment's @start and @seg_len
 * and returns false when none is left. A zero-length datagram is one empty segment.
 * When @truncated, the last segment was cut and comes back with length 0, so that the
 * receive path drops and counts it alone and keeps the whole segments before it. */
bool wg_udp_segment_next(size_t len, uint16_t gso_size, bool truncated, size_t *off, size_t *start,
			 size_t *seg_len);

#endif

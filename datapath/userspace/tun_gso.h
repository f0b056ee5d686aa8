/* tun_gso.h — cutting a TCP or UDP super-packet read from TUN (IFF_VNET_HDR with TSO/USO
 * offered through TUNSETOFFLOAD) into the IP packets that go on the wire, with their
 * lengths, IPv4 IDs, TCP sequence numbers and flags, and checksums; and finishing the
 * checksum of a packet the kernel left partial. */
#ifndef PODWIRE_US_TUN_GSO_H
#define PODWIRE_US_TUN_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/* Debian 12's headers predate UDP segmentation offload on TUN (Linux 6.2). */
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5/* For a super-packet of more segments than a batch holds: segments first, first+1, ... of
 * it, at most @max, copied to outs[0..] (@pkt is left as it was). Returns how many were
 * written (0: none left), or -EINVAL / -EMSGSIZE as wg_tun_gso_split. */
int wg_tun_gso_split_part(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len, unsigned int first,
			  uint8_t *const *outs, size_t *out_lens, unsigned int max, size_t max_seg_len);

#endif

#define WG_VNET_HDR_LEN sizeof(struct virtio_net_hdr)

/* Split the packet at @pkt (@len bytes, described by @vh as read from TUN, fields in
 * little-endian as TUN uses on this host) into segments: segment 0 stays at @pkt, segment
 * i > 0 is written to outs[i] (room for 65535 bytes each); out_lens[i] gets each length.
 * A packet without GSO is one segment (its checksum completed if the kernel asked).
 * Returns the number of segments, -ENOSPC if that would be more than @max (nothing is
 * changed), -EMSGSIZE if a segment would be longer than @max_seg_len (the interface's MTU;
 * 0: no limit), or -EINVAL for a bad packet (wrong gso_size, truncated or inconsistent
 * headers, a GSO type that does not match the protocol): nothing is sent of it. */
int wg_tun_gso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len, uint8_t *const *outs,
		     size_t *out_lens, unsigned int max, size_t max_seg_len);

#endif

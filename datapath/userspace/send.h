/* send.h — everything that leaves through the UDP socket: handshake messages, cookie
 * replies, keepalives and encrypted data (kernel send.c). */
#ifndef PODWIRE_US_SEND_H
#define PODWIRE_US_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/userspace/crypt_pool.h"
#include "datapath/userspace/udp.h"

struct wg_device;
struct wg_peer;

/* Rate-limited to one per REKEY_TIMEOUT (paper §6.1). @is_retry keeps the attempt count. */
void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry);
void wg_send_handshake_response(struct wg_peer *peer);
void wg_send_cookie_reply(struct wg_device *dev, const uint8_t *msg, size_t len,
			  uint32_t sender_index, const struct sockaddr *src, const struct wg_udp_src *local);
void wg_send_keepalive(struct wg_peer *peer);
/* Encrypt and send what is staged, or start a handshake if there is no usable session. */
void wg_send_staged_packets(struct wg_peer *peer);
/* An inner packet read from the TUN device, at buf + WG_PACKET_HEADROOM with room after it
 * (WG_PACKET_TAILROOM). It is encrypted in place and queued; @buf must stay valid until the
 * device's io.flush(). */
void wg_send_tun_packet(struct wg_device *dev, uint8_t *buf, size_t len);
/* wg_send_tun_packet in two halves around the crypto, so a batch can be sealed in
 * parallel: prepare picks the peer, assigns the nonce and pads, filling @job (returns false
 * when the packet was dropped or staged instead); finish queues the sealed message and
 * runs the timers. Finish in the order prepared. */
bool wg_send_prepare(struct wg_device *dev, uint8_t *buf, size_t len, struct crypt_job *job,
		     struct wg_peer **peer);
void wg_send_finish(struct wg_peer *peer, uint8_t *buf, size_t inner_len, const struct crypt_job *job);

#endif

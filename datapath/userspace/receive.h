/* receive.h — everything arriving on the UDP socket (kernel receive.c): handshake
 * messages, cookie replies and transport data, which is decrypted, checked against the
 * replay window and cryptokey routing, and delivered to the TUN device. */
#ifndef PODWIRE_US_RECEIVE_H
#define PODWIRE_US_RECEIVE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/userspace/crypt_pool.h"
#include "datapath/userspace/udp.h"

struct wg_device;
struct wg_keypair;

/* Handle one datagram from @src, sent to our address @local (NULL: unknown). @buf is
 * modified (decrypted in place). Malformed input is counted in dev->stats and dropped. */
void wg_receive_packet(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
		       const struct wg_udp_src *local);

/* wg_receive_packet split for batches decrypted in parallel. prepare classifies a datagram:
 * WG_RX_DATA fills @job (open in place) and @kp; WG_RX_HANDSHAKE must go to
 * wg_receive_handshake(); WG_RX_DONE was dropped and counted. Call data_finish in arrival
 * order after the jobs ran, then the handshakes: a handshake may retire keypairs the
 * batch's data still names. */
enum wg_rx_kind { WG_RX_DONE, WG_RX_DATA, WG_RX_HANDSHAKE };
enum wg_rx_kind wg_receive_prepare(struct wg_device *dev, uint8_t *buf, size_t len,
				   struct crypt_job *job, struct wg_keypair **kp);
void wg_receive_data_finish(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
			    const struct wg_udp_src *local, const struct crypt_job *job, struct wg_keypair *kp);
void wg_receive_handshake(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
			  const struct wg_udp_src *local);

#endif

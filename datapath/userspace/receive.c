/* receive.c — handling datagrams from the UDP socket (paper §5.4, kernel receive.c). */
#include "datapath/userspace/receive.h"

#include <endian.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/send.h"
#include "datapath/userspace/timers.h"

static uint64_t now(const struct wg_device *dev)
{
	return wg_clock_now(dev->clock);
}

static socklen_t sockaddr_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Paper §2.1 (roaming): the endpoint is wherever the last authenticated packet came from,
 * and we answer from the address it was sent to (@local, NULL: unknown). */
static void set_endpoint(struct wg_peer *peer, const struct sockaddr *src, const struct wg_udp_src *local)
{
	if (src->sa_family != AF_INET && src->sa_family != AF_INET6)
		return;
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	memcpy(&peer->endpoint, src, sockaddr_len(src));
	memset(&peer->endpoint_src, 0, sizeof(peer->endpoint_src));
	if (local && local->family == src->sa_family)
		peer->endpoint_src = *local;
}

static struct noise_handshake *handshake_by_key(void *ctx, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *peer = wg_device_lookup_peer(ctx, public_key);

	return peer ? &peer->handshake : NULL;
}

static struct wg_peer *peer_of_handshake(struct noise_handshake *hs)
{
	return (struct wg_peer *)((uint8_t *)hs - offsetof(struct wg_peer, handshake));
}

static void receive_cookie(struct wg_device *dev, const struct message_handshake_cookie *msg)
{
	struct wg_index_entry *e = wg_index_lookup(&dev->index, le32toh(msg->receiver_index));

	if (!e || cookie_reply_consume(msg, &e->peer->cookie, now(dev)))
		dev->stats.rx_bad_handshake++;
}

static void begin_initiator_session(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_keypair *kp = calloc(1, sizeof(*kp));

	if (!kp || noise_handshake_begin_session(&peer->handshake, &kp->noise, now(dev))) {
		free(kp);
		return;
	}
	wg_peer_add_keypair(peer, kp);
	wg_timers_session_derived(peer);
	wg_timers_handshake_complete(peer);
	/* Paper §5.4.3: the initiator confirms the session to the responder at once. */
	wg_send_keepalive(peer);
}

static void receive_handshake(struct wg_device *dev, uint8_t *buf, size_t len,
			      enum message_type type, const struct sockaddr *src,
			      const struct wg_udp_src *local)
{
	enum cookie_mac_state mac;
	struct wg_peer *peer;
	bool under_load;

	if (type == MESSAGE_HANDSHAKE_COOKIE) {
		receive_cookie(dev, (const struct message_handshake_cookie *)buf);
		return;
	}
	if (!dev->identity.has_identity) {
		dev->stats.rx_bad_handshake++;
		return;
	}
	/* Only a valid mac1 counts towards load. A wrong one costs a BLAKE2s and is dropped, so
	 * a flood of them (anyone can send it, without our public key) must not switch cookies
	 * on and make every real initiator wait for its retry; the kernel and wireguard-go
	 * measure load as handshake work waiting, which such a flood hardly builds up. */
	mac = cookie_validate(&dev->cookie_checker, buf, len, src, false, now(dev), dev->rng);
	if (mac == COOKIE_INVALID_MAC) {
		dev->stats.rx_invalid_mac++;
		return;
	}
	under_load = wg_device_under_load(dev);
	if (under_load && cookie_mac2_valid(&dev->cookie_checker, buf, len, src, now(dev), dev->rng))
		mac = COOKIE_VALID_MAC_WITH_COOKIE;
	if (under_load && mac == COOKIE_VALID_MAC_WITH_COOKIE &&
	    !ratelimiter_allow(&dev->ratelimiter, src, now(dev))) {
		/* Kernel receive.c: a proven address still gets only its share of DH work. */
		dev->stats.rx_ratelimited++;
		return;
	}
	if (under_load && mac != COOKIE_VALID_MAC_WITH_COOKIE) {
		/* Paper §5.3: under load, prove the address round trip before any DH. */
		uint32_t sender;
		uint64_t started;

		if (wg_device_overloaded(dev)) {
			dev->stats.rx_overloaded++;
			return;
		}
		started = now(dev);
		memcpy(&sender, buf + 4, sizeof(sender));
		wg_send_cookie_reply(dev, buf, len, le32toh(sender), src, local);
		dev->stats.rx_cookie_sent++;
		wg_device_handshake_work(dev, started);
		return;
	}

	if (type == MESSAGE_HANDSHAKE_INITIATION) {
		uint64_t started = now(dev);
		struct noise_handshake *hs = noise_handshake_consume_initiation(
			(const struct message_handshake_initiation *)buf, &dev->identity,
			handshake_by_key, dev, started);

		if (!hs) {
			wg_device_handshake_work(dev, started);
			dev->stats.rx_bad_handshake++;
			return;
		}
		peer = peer_of_handshake(hs);
		set_endpoint(peer, src, local);
		wg_send_handshake_response(peer);
		wg_device_handshake_work(dev, started);
	} else {
		const struct message_handshake_response *msg = (const void *)buf;
		struct wg_index_entry *e = wg_index_lookup(&dev->index, le32toh(msg->receiver_index));

		if (!e || e->keypair ||
		    noise_handshake_consume_response(msg, &e->peer->handshake, &dev->identity)) {
			dev->stats.rx_bad_handshake++;
			return;
		}
		peer = e->peer;
		set_endpoint(peer, src, local);
		begin_initiator_session(peer);
	}
	peer->rx_bytes += len;
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
}

/* Paper §6.2: an initiator whose session nears REJECT_AFTER_TIME rekeys once when it
 * receives, in case it has nothing to send. */
static void keep_key_fresh(struct wg_peer *peer)
{
	struct wg_keypair *kp = peer->kp_current;

	if (kp && kp->noise.send_valid && kp->noise.i_am_the_initiator && !peer->sent_lastminute_handshake &&
	    wg_expired(kp->noise.birthdate, REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT,
		       now(peer->dev))) {
		peer->sent_lastminute_handshake = true;
		wg_send_handshake_initiation(peer, false);
	}
}

/* Length of the IP packet at @pkt per its own header, or 0 if it is not IP or lies.
 * Sets @family and @src to its source address. */
static size_t inner_packet(const uint8_t *pkt, size_t len, int *family, const uint8_t **src)
{
	size_t ip_len;

	if (len >= 20 && pkt[0] >> 4 == 4) {
		ip_len = (size_t)pkt[2] << 8 | pkt[3];
		if (ip_len < 20)
			return 0;
		*family = AF_INET;
		*src = pkt + 12;
	} else if (len >= 40 && pkt[0] >> 4 == 6) {
		ip_len = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
		*family = AF_INET6;
		*src = pkt + 8;
	} else {
		return 0;
	}
	return ip_len <= len ? ip_len : 0;
}

enum wg_rx_kind wg_receive_prepare(struct wg_device *dev, uint8_t *buf, size_t len,
				   struct crypt_job *job, struct wg_keypair **kp_out)
{
	const struct message_data *hdr = (const struct message_data *)buf;
	enum message_type type = message_determine_type(buf, len);
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	uint64_t counter;

	if (type == MESSAGE_INVALID) {
		dev->stats.rx_malformed++;
		return WG_RX_DONE;
	}
	if (type != MESSAGE_DATA)
		return WG_RX_HANDSHAKE;
	e = wg_index_lookup(&dev->index, le32toh(hdr->key_idx));
	if (!e || !e->keypair) {
		dev->stats.rx_bad_data++;
		return WG_RX_DONE;
	}
	kp = e->keypair;
	counter = le64toh(hdr->counter);
	if (!kp->noise.recv_valid || wg_expired(kp->noise.birthdate, REJECT_AFTER_TIME, now(dev)) ||
	    counter >= REJECT_AFTER_MESSAGES) {
		dev->stats.rx_bad_data++;
		return WG_RX_DONE;
	}
	*job = (struct crypt_job){ .encrypt = false, .key = kp->noise.recv_key, .counter = counter,
				   .data = buf + MESSAGE_DATA_HEADER_LEN, .len = len - MESSAGE_DATA_HEADER_LEN };
	*kp_out = kp;
	return WG_RX_DATA;
}

void wg_receive_data_finish(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
			    const struct wg_udp_src *local, const struct crypt_job *job, struct wg_keypair *kp)
{
	const struct message_data *hdr = (const struct message_data *)buf;
	struct wg_index_entry *e = wg_index_lookup(&dev->index, le32toh(hdr->key_idx));
	uint8_t *plain = buf + MESSAGE_DATA_HEADER_LEN;
	const uint8_t *inner_src;
	struct wg_peer *peer;
	size_t ip_len;
	int family;

	if (!job->ok) {
		dev->stats.rx_bad_data++;
		return;
	}
	/* An earlier packet of the same batch may have retired this keypair. */
	if (!e || e->keypair != kp) {
		dev->stats.rx_bad_data++;
		return;
	}
	peer = e->peer;
	/* Only authenticated counters may move the window. */
	if (!replay_check_and_update(&kp->noise.replay, job->counter)) {
		dev->stats.rx_replayed++;
		return;
	}
	set_endpoint(peer, src, local);
	if (wg_peer_received_with_keypair(peer, kp)) {
		wg_timers_handshake_complete(peer);
		wg_send_staged_packets(peer);
	}
	keep_key_fresh(peer);
	wg_timers_any_authenticated_packet_received(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
	peer->rx_bytes += len;
	if (job->out_len == 0)
		return; /* keepalive */
	wg_timers_data_received(peer);

	ip_len = inner_packet(plain, job->out_len, &family, &inner_src);
	/* Cryptokey routing (paper §2): the source must be one this peer may use. */
	if (!ip_len || allowedips_lookup(&dev->allowedips, family, inner_src) != &peer->allowedips) {
		dev->stats.rx_bad_inner++;
		return;
	}
	if (dev->io.deliver(dev->io.ctx, plain, ip_len) < 0)
		dev->stats.tx_errors++;
}

void wg_receive_handshake(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
			  const struct wg_udp_src *local)
{
	receive_handshake(dev, buf, len, message_determine_type(buf, len), src, local);
}

void wg_receive_packet(struct wg_device *dev, uint8_t *buf, size_t len, const struct sockaddr *src,
			  const struct wg_udp_src *local)
{
	struct crypt_job job;
	struct wg_keypair *kp;

	switch (wg_receive_prepare(dev, buf, len, &job, &kp)) {
	case WG_RX_HANDSHAKE:
		wg_receive_handshake(dev, buf, len, src, local);
		break;
	case WG_RX_DATA:
		crypt_job_run(&job);
		wg_receive_data_finish(dev, buf, len, src, local, &job, kp);
		break;
	case WG_RX_DONE:
		break;
	}
}

/* send.c — building and sending handshake messages and transport data (paper §5.4). */
#include "datapath/userspace/send.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/device.h"
#include "datapath/userspace/timers.h"

static uint64_t now(const struct wg_device *dev)
{
	return wg_clock_now(dev->clock);
}

static int send_to_peer(struct wg_peer *peer, const void *buf, size_t len, bool batch)
{
	struct wg_device *dev = peer->dev;
	int ret;

	if (!peer->endpoint.ss_family) {
		dev->stats.tx_no_endpoint++;
		return -EDESTADDRREQ;
	}
	if (batch && dev->io.queue)
		ret = dev->io.queue(dev->io.ctx, (struct sockaddr *)&peer->endpoint, &peer->endpoint_src, buf, len);
	else
		ret = dev->io.send(dev->io.ctx, (struct sockaddr *)&peer->endpoint, &peer->endpoint_src, buf, len);
	if (ret < 0) {
		dev->stats.tx_errors++;
		return ret;
	}
	peer->tx_bytes += len;
	return 0;
}

void wg_send_handshake_initiation(struct wg_peer *peer, bool is_retry)
{
	struct wg_device *dev = peer->dev;
	struct message_handshake_initiation msg;
	uint8_t eph[NOISE_PUBLIC_KEY_LEN], ts[NOISE_TIMESTAMP_LEN];
	struct timespec real;
	uint64_t t = now(dev);

	if (!is_retry)
		peer->timer_handshake_attempts = 0;
	/* Paper §6.1: at most one initiation per REKEY_TIMEOUT. */
	if (!wg_expired(peer->last_sent_handshake, REKEY_TIMEOUT, t))
		return;
	peer->last_sent_handshake = t;

	dev->rng->fill(dev->rng->ctx, eph, sizeof(eph));
	dev->clock->real(dev->clock->ctx, &real);
	noise_tai64n(ts, &real);
	wg_index_insert(&dev->index, &peer->handshake_entry, dev->rng);
	if (noise_handshake_create_initiation(&msg, &peer->handshake, &dev->identity,
					      peer->handshake_entry.index, eph, ts)) {
		wg_index_remove(&dev->index, &peer->handshake_entry);
		goto out;
	}
	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &peer->cookie, t);
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	send_to_peer(peer, &msg, sizeof(msg), false);
	wg_timers_handshake_initiated(peer);
out:
	sodium_memzero(eph, sizeof(eph));
}

void wg_send_handshake_response(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct message_handshake_response msg;
	uint8_t eph[NOISE_PUBLIC_KEY_LEN];
	struct wg_keypair *kp;
	uint64_t t = now(dev);

	peer->last_sent_handshake = t;
	dev->rng->fill(dev->rng->ctx, eph, sizeof(eph));
	wg_index_insert(&dev->index, &peer->handshake_entry, dev->rng);
	kp = calloc(1, sizeof(*kp));
	if (!kp || noise_handshake_create_response(&msg, &peer->handshake,
						   peer->handshake_entry.index, eph))
		goto fail;
	cookie_add_macs((uint8_t *)&msg, sizeof(msg), &peer->cookie, t);
	if (noise_handshake_begin_session(&peer->handshake, &kp->noise, t))
		goto fail;
	wg_peer_add_keypair(peer, kp);
	wg_timers_session_derived(peer);
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	send_to_peer(peer, &msg, sizeof(msg), false);
	sodium_memzero(eph, sizeof(eph));
	return;
fail:
	wg_index_remove(&dev->index, &peer->handshake_entry);
	free(kp);
	sodium_memzero(eph, sizeof(eph));
}

void wg_send_cookie_reply(struct wg_device *dev, const uint8_t *msg, size_t len,
			  uint32_t sender_index, const struct sockaddr *src, const struct wg_udp_src *local)
{
	struct message_handshake_cookie reply;

	cookie_reply_create(&reply, &dev->cookie_checker, msg, len, sender_index, src,
			    now(dev), dev->rng);
	if (dev->io.send(dev->io.ctx, src, local, &reply, sizeof(reply)) < 0)
		dev->stats.tx_errors++;
}

static bool keypair_can_send(const struct wg_keypair *kp, uint64_t t)
{
	/* Paper §6.1: never send with a key older than REJECT_AFTER_TIME or past
	 * REJECT_AFTER_MESSAGES. */
	return kp && kp->noise.send_valid && !wg_expired(kp->noise.birthdate, REJECT_AFTER_TIME, t) &&
	       kp->noise.send_counter < REJECT_AFTER_MESSAGES;
}

/* Paper §6.2: the initiator rekeys after REKEY_AFTER_TIME or REKEY_AFTER_MESSAGES. */
static void keep_key_fresh(struct wg_peer *peer)
{
	struct wg_keypair *kp = peer->kp_current;
	uint64_t t = now(peer->dev);

	if (kp && kp->noise.send_valid &&
	    (kp->noise.send_counter > REKEY_AFTER_MESSAGES ||
	     (kp->noise.i_am_the_initiator && wg_expired(kp->noise.birthdate, REKEY_AFTER_TIME, t))))
		wg_send_handshake_initiation(peer, false);
}

/* Pad (paper §5.4.6: to a multiple of 16, never past the MTU) and add the data header;
 * fill @job to seal the padded packet in place. @buf holds the header room, then @len
 * bytes of packet. */
static void prepare_packet(struct wg_keypair *kp, uint8_t *buf, size_t len, unsigned int mtu,
			   uint64_t counter, struct crypt_job *job)
{
	struct message_data *hdr = (struct message_data *)buf;
	size_t last_unit = len, padded;

	if (mtu && last_unit > mtu)
		last_unit %= mtu;
	padded = (last_unit + MESSAGE_PADDING_MULTIPLE - 1) & ~(size_t)(MESSAGE_PADDING_MULTIPLE - 1);
	if (mtu && padded > mtu)
		padded = mtu;
	if (padded < last_unit)
		padded = last_unit;
	padded = len + (padded - last_unit);
	memset(buf + WG_PACKET_HEADROOM + len, 0, padded - len);

	hdr->type = htole32(MESSAGE_DATA);
	hdr->key_idx = htole32(kp->noise.remote_index);
	hdr->counter = htole64(counter);
	*job = (struct crypt_job){ .encrypt = true, .key = kp->noise.send_key, .counter = counter,
				   .data = buf + WG_PACKET_HEADROOM, .len = padded };
}

/* Seal now; returns the message size. */
static size_t encrypt_packet(struct wg_keypair *kp, uint8_t *buf, size_t len, unsigned int mtu,
			     uint64_t counter)
{
	struct crypt_job job;

	prepare_packet(kp, buf, len, mtu, counter, &job);
	crypt_job_run(&job);
	return WG_PACKET_HEADROOM + job.out_len;
}

static void data_sent(struct wg_peer *peer, size_t inner_len)
{
	wg_timers_any_authenticated_packet_traversal(peer);
	wg_timers_any_authenticated_packet_sent(peer);
	if (inner_len)
		wg_timers_data_sent(peer);
}

void wg_send_staged_packets(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_keypair *kp = peer->kp_current;
	uint64_t t = now(dev);

	if (!peer->staged_count)
		return;
	if (!keypair_can_send(kp, t)) {
		/* Kernel send.c: keep the packets and ask for a new session. */
		wg_send_handshake_initiation(peer, false);
		return;
	}
	while (peer->staged_count && keypair_can_send(kp, t)) {
		struct wg_staged_packet *p = &peer->staged[peer->staged_head];
		size_t n = encrypt_packet(kp, p->buf, p->len, dev->mtu, kp->noise.send_counter++);

		send_to_peer(peer, p->buf, n, false);
		data_sent(peer, p->len);
		free(p->buf);
		p->buf = NULL;
		peer->staged_head = (peer->staged_head + 1) % MAX_STAGED_PACKETS;
		peer->staged_count--;
	}
	keep_key_fresh(peer);
}

void wg_send_keepalive(struct wg_peer *peer)
{
	/* Paper §6.5: a keepalive is an empty data packet; anything staged does the job. */
	if (!peer->staged_count && wg_peer_stage_packet(peer, NULL, 0))
		return;
	wg_send_staged_packets(peer);
}

bool wg_send_prepare(struct wg_device *dev, uint8_t *buf, size_t len, struct crypt_job *job,
		     struct wg_peer **peer_out)
{
	const uint8_t *pkt = buf + WG_PACKET_HEADROOM;
	struct wg_peer *peer;
	struct wg_keypair *kp;

	if (len >= 20 && pkt[0] >> 4 == 4)
		peer = wg_peer_of_allowedips(allowedips_lookup(&dev->allowedips, AF_INET, pkt + 16));
	else if (len >= 40 && pkt[0] >> 4 == 6)
		peer = wg_peer_of_allowedips(allowedips_lookup(&dev->allowedips, AF_INET6, pkt + 24));
	else
		peer = NULL;
	if (!peer) {
		dev->stats.tx_no_peer++;
		return false;
	}
	if (!peer->endpoint.ss_family) {
		dev->stats.tx_no_endpoint++;
		return false;
	}
	kp = peer->kp_current;
	if (peer->staged_count || !keypair_can_send(kp, now(dev))) {
		if (wg_peer_stage_packet(peer, pkt, len) == 0)
			wg_send_staged_packets(peer);
		return false;
	}
	prepare_packet(kp, buf, len, dev->mtu, kp->noise.send_counter++, job);
	*peer_out = peer;
	return true;
}

void wg_send_finish(struct wg_peer *peer, uint8_t *buf, size_t inner_len, const struct crypt_job *job)
{
	send_to_peer(peer, buf, WG_PACKET_HEADROOM + job->out_len, true);
	data_sent(peer, inner_len);
	keep_key_fresh(peer);
}

void wg_send_tun_packet(struct wg_device *dev, uint8_t *buf, size_t len)
{
	struct crypt_job job;
	struct wg_peer *peer;

	if (!wg_send_prepare(dev, buf, len, &job, &peer))
		return;
	crypt_job_run(&job);
	wg_send_finish(peer, buf, len, &job);
}

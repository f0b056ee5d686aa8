/* timers.c — WireGuard paper §6.2–§6.5 as the kernel's timers.c implements them. */
#include "datapath/userspace/timers.h"

#include "datapath/userspace/device.h"
#include "datapath/userspace/peer.h"
#include "datapath/userspace/send.h"

static uint64_t now(const struct wg_peer *peer)
{
	return wg_clock_now(peer->dev->clock);
}

/* Up to a third of a second, so that peers do not rekey in lock-step (paper §6.1). */
static uint64_t jitter(const struct wg_peer *peer)
{
	return wg_random_u32(peer->dev->rng) % (NSEC_PER_SEC / 3);
}

static void mod_timer(uint64_t *timer, uint64_t deadline)
{
	/* 0 means "not pending", so a deadline can never be exactly 0. */
	*timer = deadline ? deadline : 1;
}

void wg_timers_data_sent(struct wg_peer *peer)
{
	/* Paper §6.2: no reply to data within KEEPALIVE + REKEY_TIMEOUT -> new handshake. */
	if (!peer->timer_new_handshake)
		mod_timer(&peer->timer_new_handshake,
			  now(peer) + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter(peer));
}

void wg_timers_data_received(struct wg_peer *peer)
{
	/* Paper §6.5: answer received data with a keepalive if we send nothing back. */
	if (!peer->timer_send_keepalive)
		mod_timer(&peer->timer_send_keepalive, now(peer) + KEEPALIVE_TIMEOUT);
	else
		peer->timer_need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer)
{
	peer->timer_send_keepalive = 0;
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer)
{
	peer->timer_new_handshake = 0;
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer)
{
	if (peer->persistent_keepalive_interval)
		mod_timer(&peer->timer_persistent_keepalive,
			  now(peer) + (uint64_t)peer->persistent_keepalive_interval * NSEC_PER_SEC);
}

void wg_timers_handshake_initiated(struct wg_peer *peer)
{
	mod_timer(&peer->timer_retransmit_handshake, now(peer) + REKEY_TIMEOUT + jitter(peer));
}

void wg_timers_handshake_complete(struct wg_peer *peer)
{
	peer->timer_retransmit_handshake = 0;
	peer->timer_handshake_attempts = 0;
	peer->sent_lastminute_handshake = false;
	peer->dev->clock->real(peer->dev->clock->ctx, &peer->last_handshake);
}

void wg_timers_session_derived(struct wg_peer *peer)
{
	/* Paper §6.3: with no new session, all keys are erased after 3 x REJECT_AFTER_TIME. */
	mod_timer(&peer->timer_zero_key_material, now(peer) + 3 * REJECT_AFTER_TIME);
}

void wg_timers_stop(struct wg_peer *peer)
{
	peer->timer_retransmit_handshake = 0;
	peer->timer_send_keepalive = 0;
	peer->timer_new_handshake = 0;
	peer->timer_zero_key_material = 0;
	peer->timer_persistent_keepalive = 0;
}

static void expired_retransmit_handshake(struct wg_peer *peer)
{
	if (peer->timer_handshake_attempts > MAX_TIMER_HANDSHAKES) {
		/* Paper §6.4: give up after REKEY_ATTEMPT_TIME; drop what waited for it. */
		peer->timer_send_keepalive = 0;
		wg_peer_purge_staged(peer);
		if (!peer->timer_zero_key_material)
			mod_timer(&peer->timer_zero_key_material, now(peer) + 3 * REJECT_AFTER_TIME);
		return;
	}
	peer->timer_handshake_attempts++;
	wg_send_handshake_initiation(peer, true);
}

static void expired_send_keepalive(struct wg_peer *peer)
{
	wg_send_keepalive(peer);
	if (peer->timer_need_another_keepalive) {
		peer->timer_need_another_keepalive = false;
		mod_timer(&peer->timer_send_keepalive, now(peer) + KEEPALIVE_TIMEOUT);
	}
}

static uint64_t nearest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

uint64_t wg_timers_run(struct wg_peer *peer, uint64_t t)
{
	uint64_t next = 0;

	if (peer->timer_retransmit_handshake && peer->timer_retransmit_handshake <= t) {
		peer->timer_retransmit_handshake = 0;
		expired_retransmit_handshake(peer);
	}
	if (peer->timer_send_keepalive && peer->timer_send_keepalive <= t) {
		peer->timer_send_keepalive = 0;
		expired_send_keepalive(peer);
	}
	if (peer->timer_new_handshake && peer->timer_new_handshake <= t) {
		peer->timer_new_handshake = 0;
		wg_send_handshake_initiation(peer, false);
	}
	if (peer->timer_zero_key_material && peer->timer_zero_key_material <= t) {
		peer->timer_zero_key_material = 0;
		wg_peer_clear_keys(peer);
	}
	if (peer->timer_persistent_keepalive && peer->timer_persistent_keepalive <= t) {
		peer->timer_persistent_keepalive = 0;
		if (peer->persistent_keepalive_interval)
			wg_send_keepalive(peer);
	}
	next = nearest(next, peer->timer_retransmit_handshake);
	next = nearest(next, peer->timer_send_keepalive);
	next = nearest(next, peer->timer_new_handshake);
	next = nearest(next, peer->timer_zero_key_material);
	next = nearest(next, peer->timer_persistent_keepalive);
	return next;
}

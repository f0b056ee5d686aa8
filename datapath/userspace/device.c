/* device.c — a device's identity and peer set, and its timer tick. */
#include "datapath/userspace/device.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "datapath/userspace/timers.h"

void wg_device_init(struct wg_device *dev, const char *name, const struct wg_clock *clock,
		    const struct wg_random *rng, const struct wg_io *io)
{
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->clock = clock;
	dev->rng = rng;
	dev->io = *io;
	dev->load_threshold = WG_DEFAULT_LOAD_THRESHOLD;
	/* Not protocol randomness (nothing on the wire depends on it), so not dev->rng: it only
	 * keeps the bucket of a public key unpredictable. */
	randombytes_buf(dev->pubkey_hash_key, sizeof(dev->pubkey_hash_key));
	allowedips_init(&dev->allowedips);
	wg_index_init(&dev->index);
	ratelimiter_init(&dev->ratelimiter);
	cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
}

void wg_device_free(struct wg_device *dev)
{
	wg_device_remove_all_peers(dev);
	allowedips_free(&dev->allowedips);
	sodium_memzero(&dev->identity, sizeof(dev->identity));
	sodium_memzero(&dev->cookie_checker, sizeof(dev->cookie_checker));
}

static size_t pubkey_bucket(const struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	uint64_t h;

	crypto_shorthash((unsigned char *)&h, public_key, NOISE_PUBLIC_KEY_LEN, dev->pubkey_hash_key);
	return h % WG_PUBKEY_BUCKETS;
}

struct wg_peer *wg_device_lookup_peer(const struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *p = dev->pubkey_buckets[pubkey_bucket(dev, public_key)];

	/* Public keys are not secret (kernel peerlookup.c compares them with memcmp too). */
	while (p && memcmp(p->handshake.remote_static, public_key, NOISE_PUBLIC_KEY_LEN))
		p = p->pubkey_next;
	return p;
}

struct wg_peer *wg_device_add_peer(struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *peer = wg_peer_create(dev, public_key), **bucket;

	if (!peer)
		return NULL;
	peer->prev_peer = dev->last_peer;
	if (dev->last_peer)
		dev->last_peer->next_peer = peer;
	else
		dev->first_peer = peer;
	dev->last_peer = peer;
	dev->peer_count++;
	bucket = &dev->pubkey_buckets[pubkey_bucket(dev, public_key)];
	peer->pubkey_next = *bucket;
	*bucket = peer;
	return peer;
}

void wg_device_remove_peer(struct wg_device *dev, struct wg_peer *peer)
{
	struct wg_peer **link = &dev->pubkey_buckets[pubkey_bucket(dev, peer->handshake.remote_static)];

	while (*link != peer)
		link = &(*link)->pubkey_next;
	*link = peer->pubkey_next;
	if (peer->prev_peer)
		peer->prev_peer->next_peer = peer->next_peer;
	else
		dev->first_peer = peer->next_peer;
	if (peer->next_peer)
		peer->next_peer->prev_peer = peer->prev_peer;
	else
		dev->last_peer = peer->prev_peer;
	dev->peer_count--;
	allowedips_remove_by_owner(&dev->allowedips, &peer->allowedips);
	wg_timers_stop(peer);
	wg_peer_destroy(peer);
}

void wg_device_remove_all_peers(struct wg_device *dev)
{
	while (dev->first_peer)
		wg_device_remove_peer(dev, dev->first_peer);
}

int wg_device_set_private_key(struct wg_device *dev, const uint8_t key[NOISE_PUBLIC_KEY_LEN])
{
	struct noise_static_identity id;
	struct wg_peer *p, *next;
	int ret;

	ret = noise_identity_set(&id, key);
	if (ret)
		return ret;
	if (id.has_identity == dev->identity.has_identity &&
	    !sodium_memcmp(id.private_key, dev->identity.private_key, sizeof(id.private_key))) {
		sodium_memzero(&id, sizeof(id));
		return 0;
	}
	dev->identity = id;
	sodium_memzero(&id, sizeof(id));
	cookie_checker_init(&dev->cookie_checker, dev->identity.public_key);
	for (p = dev->first_peer; p; p = next) {
		next = p->next_peer;
		/* A peer with our own public key would be ourselves (kernel, wireguard-go). */
		if (dev->identity.has_identity &&
		    !sodium_memcmp(p->handshake.remote_static, dev->identity.public_key, NOISE_PUBLIC_KEY_LEN)) {
			wg_device_remove_peer(dev, p);
			continue;
		}
		noise_handshake_precompute(&p->handshake, &dev->identity);
		/* Sessions made with the old identity must not be used to send any more. */
		wg_index_remove(&dev->index, &p->handshake_entry);
		noise_handshake_clear(&p->handshake);
		/* ...and the next packet starts a new handshake at once, however recent the last
		 * one (kernel wg_noise_reset_last_sent_handshake): rotation must be hitless. */
		p->last_sent_handshake = 0;
		if (p->kp_current)
			p->kp_current->noise.send_valid = false;
		if (p->kp_next)
			p->kp_next->noise.send_valid = false;
	}
	return 0;
}

uint64_t wg_device_tick(struct wg_device *dev)
{
	uint64_t t = wg_clock_now(dev->clock), next = 0, n;
	struct wg_peer *p;

	for (p = dev->first_peer; p; p = p->next_peer) {
		n = wg_timers_run(p, t);
		if (n && (!next || n < next))
			next = n;
	}
	return next;
}

/* The load window: one second of counts, then a fresh one. */
static void load_window(struct wg_device *dev, uint64_t t)
{
	if (t - dev->load_window_start >= NSEC_PER_SEC) {
		dev->load_window_start = t;
		dev->load_count = 0;
		dev->load_busy_ns = 0;
	}
}

bool wg_device_under_load(struct wg_device *dev)
{
	uint64_t t = wg_clock_now(dev->clock);
	/* The time budget scales with the threshold: 0 makes anything load, a huge one nothing. */
	uint64_t budget = (uint64_t)dev->load_threshold * WG_LOAD_BUSY_NS / WG_DEFAULT_LOAD_THRESHOLD;

	load_window(dev, t);
	dev->load_count++;
	if (dev->load_count > dev->load_threshold ||
	    (dev->load_count > dev->load_threshold / WG_LOAD_BUSY_MIN_DIV && dev->load_busy_ns > budget))
		dev->under_load_until = t + NSEC_PER_SEC;
	return dev->under_load_until > t;
}

void wg_device_handshake_work(struct wg_device *dev, uint64_t started)
{
	uint64_t t = wg_clock_now(dev->clock);

	load_window(dev, t);
	dev->load_busy_ns += t - started;
}

bool wg_device_overloaded(const struct wg_device *dev)
{
	return wg_clock_now(dev->clock) - dev->load_window_start < NSEC_PER_SEC &&
	       dev->load_busy_ns > WG_LOAD_DROP_NS;
}

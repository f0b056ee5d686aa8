/* peer.c — peer lifetime, keypair rotation and the receiver-index table. */
#include "datapath/userspace/peer.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/userspace/device.h"

void wg_index_init(struct wg_index_table *t)
{
	memset(t, 0, sizeof(*t));
}

static struct wg_index_entry **bucket(struct wg_index_table *t, uint32_t index)
{
	return &t->buckets[index % WG_INDEX_BUCKETS];
}

struct wg_index_entry *wg_index_lookup(const struct wg_index_table *t, uint32_t index)
{
	struct wg_index_entry *e;

	for (e = t->buckets[index % WG_INDEX_BUCKETS]; e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

void wg_index_insert(struct wg_index_table *t, struct wg_index_entry *entry, const struct wg_random *rng)
{
	uint32_t index;

	if (entry->hashed)
		wg_index_remove(t, entry);
	/* Paper §5.4.2: indices are random, so they say nothing about peers or counts. */
	do
		index = wg_random_u32(rng);
	while (wg_index_lookup(t, index));
	entry->index = index;
	entry->next = *bucket(t, index);
	*bucket(t, index) = entry;
	entry->hashed = true;
}

void wg_index_remove(struct wg_index_table *t, struct wg_index_entry *entry)
{
	struct wg_index_entry **link;

	if (!entry->hashed)
		return;
	for (link = bucket(t, entry->index); *link; link = &(*link)->next) {
		if (*link == entry) {
			*link = entry->next;
			break;
		}
	}
	entry->hashed = false;
	entry->next = NULL;
}

void wg_index_replace(struct wg_index_table *t, struct wg_index_entry *old, struct wg_index_entry *new)
{
	uint32_t index = old->index;

	wg_index_remove(t, old);
	if (new->hashed)
		wg_index_remove(t, new);
	new->index = index;
	new->next = *bucket(t, index);
	*bucket(t, index) = new;
	new->hashed = true;
}

struct wg_peer *wg_peer_create(struct wg_device *dev, const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct wg_peer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	peer->dev = dev;
	noise_handshake_init(&peer->handshake, &dev->identity, public_key);
	cookie_init(&peer->cookie, public_key);
	peer->handshake_entry.peer = peer;
	return peer;
}

static void keypair_free(struct wg_peer *peer, struct wg_keypair *kp)
{
	if (!kp)
		return;
	wg_index_remove(&peer->dev->index, &kp->entry);
	noise_keypair_wipe(&kp->noise);
	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

void wg_peer_clear_keys(struct wg_peer *peer)
{
	keypair_free(peer, peer->kp_previous);
	keypair_free(peer, peer->kp_current);
	keypair_free(peer, peer->kp_next);
	peer->kp_previous = peer->kp_current = peer->kp_next = NULL;
	wg_index_remove(&peer->dev->index, &peer->handshake_entry);
	noise_handshake_clear(&peer->handshake);
}

void wg_peer_purge_staged(struct wg_peer *peer)
{
	while (peer->staged_count) {
		struct wg_staged_packet *p = &peer->staged[peer->staged_head];

		free(p->buf);
		p->buf = NULL;
		peer->staged_head = (peer->staged_head + 1) % MAX_STAGED_PACKETS;
		peer->staged_count--;
	}
	peer->staged_head = 0;
}

int wg_peer_stage_packet(struct wg_peer *peer, const uint8_t *pkt, size_t len)
{
	struct wg_staged_packet *p;
	uint8_t *buf;

	buf = malloc(WG_PACKET_HEADROOM + len + WG_PACKET_TAILROOM);
	if (!buf)
		return -ENOMEM;
	if (len)
		memcpy(buf + WG_PACKET_HEADROOM, pkt, len);
	if (peer->staged_count == MAX_STAGED_PACKETS) {
		/* Kernel send.c: when the queue is full the oldest packet goes. */
		free(peer->staged[peer->staged_head].buf);
		peer->staged_head = (peer->staged_head + 1) % MAX_STAGED_PACKETS;
		peer->staged_count--;
	}
	p = &peer->staged[(peer->staged_head + peer->staged_count) % MAX_STAGED_PACKETS];
	p->buf = buf;
	p->len = len;
	peer->staged_count++;
	return 0;
}

void wg_peer_destroy(struct wg_peer *peer)
{
	if (!peer)
		return;
	wg_peer_clear_keys(peer);
	wg_peer_purge_staged(peer);
	sodium_memzero(peer, sizeof(*peer));
	free(peer);
}

void wg_peer_add_keypair(struct wg_peer *peer, struct wg_keypair *kp)
{
	kp->noise.peer = peer;
	kp->entry.peer = peer;
	kp->entry.keypair = kp;
	/* The keypair inherits the handshake's index (kernel noise.c): the peer's next
	 * data packet is addressed to it. */
	wg_index_replace(&peer->dev->index, &peer->handshake_entry, &kp->entry);
	/* Kernel noise.c add_new_keypair: the initiator may use a new keypair at once; the
	 * responder must wait for the initiator's first packet to confirm it, so it goes to
	 * "next" and replaces "previous" only then. */
	if (kp->noise.i_am_the_initiator) {
		if (peer->kp_next) {
			keypair_free(peer, peer->kp_previous);
			peer->kp_previous = peer->kp_next;
			peer->kp_next = NULL;
			keypair_free(peer, peer->kp_current);
		} else {
			keypair_free(peer, peer->kp_previous);
			peer->kp_previous = peer->kp_current;
		}
		peer->kp_current = kp;
	} else {
		keypair_free(peer, peer->kp_next);
		peer->kp_next = kp;
		keypair_free(peer, peer->kp_previous);
		peer->kp_previous = NULL;
	}
}

bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_keypair *kp)
{
	if (!peer->kp_next || peer->kp_next != kp)
		return false;
	keypair_free(peer, peer->kp_previous);
	peer->kp_previous = peer->kp_current;
	peer->kp_current = kp;
	peer->kp_next = NULL;
	return true;
}

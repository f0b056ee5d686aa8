/* rollback.c — the inverse of a set, computed from the device as it was (see rollback.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/rollback.h"

static int peer_key_cmp(const void *a, const void *b)
{
	return memcmp((*(const struct wgpeer *const *)a)->public_key, (*(const struct wgpeer *const *)b)->public_key,
		      WG_KEY_LEN);
}

/* The peers of @dev sorted by public key, for lookups. */
static int peer_index(const struct wgdevice *dev, struct wgpeer ***out, size_t *n)
{
	struct wgpeer *peer, **v;
	size_t i = 0;

	*n = 0;
	*out = NULL;
	for_each_wgpeer(dev, peer)
		(*n)++;
	if (!*n)
		return 0;
	v = calloc(*n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for_each_wgpeer(dev, peer)
		v[i++] = peer;
	qsort(v, *n, sizeof(*v), peer_key_cmp);
	*out = v;
	return 0;
}

static struct wgpeer *peer_find(struct wgpeer **index, size_t n, const uint8_t key[WG_KEY_LEN])
{
	struct wgpeer probe, *p = &probe, **found;

	if (!n)
		return NULL;
	memcpy(probe.public_key, key, WG_KEY_LEN);
	found = bsearch(&p, index, n, sizeof(*index), peer_key_cmp);
	return found ? *found : NULL;
}

/* Append to @plan a peer that puts @old back as it was. */
static int restore_peer(struct wgdevice *plan, const struct wgpeer *old)
{
	struct wgpeer *p = wgdevice_add_peer(plan);
	struct wgallowedip *a;

	if (!p)
		return -ENOMEM;
	memcpy(p->public_key, old->public_key, WG_KEY_LEN);
	memcpy(p->preshared_key, old->preshared_key, WG_KEY_LEN);
	p->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REPLACE_ALLOWEDIPS | WGPEER_HAS_PRESHARED_KEY |
		   WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
	p->persistent_keepalive_interval = old->persistent_keepalive_interval;
	p->endpoint = old->endpoint;
	for_each_wgallowedip(old, a)
		if (!wgdevice_add_allowedip(p, &a->prefix))
			return -ENOMEM;
	return 0;
}

static int remove_peer(struct wgdevice *plan, const uint8_t key[WG_KEY_LEN])
{
	struct wgpeer *p = wgdevice_add_peer(plan);

	if (!p)
		return -ENOMEM;
	memcpy(p->public_key, key, WG_KEY_LEN);
	p->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REMOVE_ME;
	return 0;
}

int rollback_plan(struct wgdevice **out, const struct wgdevice *before, const struct wgdevice *attempted)
{
	struct wgpeer **old_index = NULL, **new_index = NULL, *peer;
	size_t n_old, n_new;
	struct wgdevice *plan;
	int ret;

	*out = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	memcpy(plan->name, before->name, sizeof(plan->name));
	if (attempted->flags & WGDEVICE_HAS_PRIVATE_KEY) {
		memcpy(plan->private_key, before->private_key, WG_KEY_LEN);
		plan->flags |= WGDEVICE_HAS_PRIVATE_KEY;
	}
	if (attempted->flags & WGDEVICE_HAS_LISTEN_PORT) {
		plan->listen_port = before->listen_port;
		plan->flags |= WGDEVICE_HAS_LISTEN_PORT;
	}
	if (attempted->flags & WGDEVICE_HAS_FWMARK) {
		plan->fwmark = before->fwmark;
		plan->flags |= WGDEVICE_HAS_FWMARK;
	}
	ret = peer_index(before, &old_index, &n_old);
	if (!ret)
		ret = peer_index(attempted, &new_index, &n_new);
	if (ret)
		goto out;
	for_each_wgpeer(attempted, peer) {
		const struct wgpeer *old = peer_find(old_index, n_old, peer->public_key);

		if (old)
			ret = restore_peer(plan, old);
		else if (!(peer->flags & (WGPEER_REMOVE_ME | WGPEER_UPDATE_ONLY)))
			ret = remove_peer(plan, peer->public_key);
		if (ret)
			goto out;
	}
	/* Peers the request did not name are gone only if it replaced all peers. */
	if (attempted->flags & WGDEVICE_REPLACE_PEERS) {
		for_each_wgpeer(before, peer) {
			if (peer_find(new_index, n_new, peer->public_key))
				continue;
			ret = restore_peer(plan, peer);
			if (ret)
				goto out;
		}
	}
	*out = plan;
	plan = NULL;
out:
	free(old_index);
	free(new_index);
	wgdevice_free(plan);
	return ret;
}

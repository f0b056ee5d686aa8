/* wgdevice.c — building and freeing the device model (wgdevice.h). */
#include <stdlib.h>

#include "datapath/wgdevice.h"

void wgdevice_free_peer(struct wgpeer *peer)
{
	struct wgallowedip *a, *next;

	if (!peer)
		return;
	for (a = peer->first_allowedip; a; a = next) {
		next = a->next_allowedip;
		free(a);
	}
	key_wipe(peer->preshared_key, sizeof(peer->preshared_key));
	free(peer);
}

void wgdevice_free(struct wgdevice *dev)
{
	struct wgpeer *peer, *next;

	if (!dev)
		return;
	for (peer = dev->first_peer; peer; peer = next) {
		next = peer->next_peer;
		wgdevice_free_peer(peer);
	}
	key_wipe(dev->private_key, sizeof(dev->private_key));
	free(dev);
}

struct wgpeer *wgdevice_add_peer(struct wgdevice *dev)
{
	struct wgpeer *peer = calloc(1, sizeof(*peer));

	if (!peer)
		return NULL;
	if (dev->last_peer)
		dev->last_peer->next_peer = peer;
	else
		dev->first_peer = peer;
	dev->last_peer = peer;
	return peer;
}

struct wgallowedip *wgdevice_add_allowedip(struct wgpeer *peer, const struct ip_prefix *prefix)
{
	struct wgallowedip *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (prefix)
		a->prefix = *prefix;
	if (peer->last_allowedip)
		peer->last_allowedip->next_allowedip = a;
	else
		peer->first_allowedip = a;
	peer->last_allowedip = a;
	return a;
}

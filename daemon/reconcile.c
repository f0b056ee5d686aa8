/* reconcile.c — the incremental peer update (see reconcile.h). */
#include "daemon/reconcile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_peer_ptr(const void *a, const void *b)
{
	const struct wgpeer *pa = *(const struct wgpeer *const *)a, *pb = *(const struct wgpeer *const *)b;

	return memcmp(pa->public_key, pb->public_key, WG_KEY_LEN);
}

static int cmp_applied(const void *a, const void *b)
{
	return memcmp(((const struct reconcile_applied *)a)->public_key,
		      ((const struct reconcile_applied *)b)->public_key, WG_KEY_LEN);
}

size_t reconcile_allowed_ips(const struct node *n, struct ip_prefix *out, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; i < n->n_tunnel_ips && count < max; i++) {
		out[count].addr = n->tunnel_ips[i];
		out[count++].cidr = (uint8_t)ip_addr_bits(&n->tunnel_ips[i]);
	}
	for (size_t i = 0; i < n->n_pod_cidrs && count < max; i++)
		out[count++] = n->pod_cidrs[i];
	return count;
}

static bool endpoint_equal(const wg_endpoint *a, const wg_endpoint *b)
{
	if (a->addr.sa_family != b->addr.sa_family)
		return false;
	if (a->addr.sa_family == AF_INET)
		return a->addr4.sin_port == b->addr4.sin_port && a->addr4.sin_addr.s_addr == b->addr4.sin_addr.s_addr;
	if (a->addr.sa_family == AF_INET6)
		return a->addr6.sin6_port == b->addr6.sin6_port &&
		       !memcmp(&a->addr6.sin6_addr, &b->addr6.sin6_addr, sizeof(a->addr6.sin6_addr));
	return true;
}

/* Are the peer's allowed IPs exactly @want (as sets; the device may list them in any order)? */
static bool allowedips_match(const struct wgpeer *p, const struct ip_prefix *want, size_t n)
{
	const struct wgallowedip *a;
	size_t have = 0;

	for_each_wgallowedip(p, a) {
		bool found = false;

		for (size_t i = 0; i < n && !found; i++)
			found = ip_prefix_equal(&a->prefix, &want[i]) && a->prefix.cidr == want[i].cidr;
		if (!found)
			return false;
		have++;
	}
	return have == n;
}

static int add_allowedips(struct wgpeer *p, const struct ip_prefix *want, size_t n)
{
	p->flags |= WGPEER_REPLACE_ALLOWEDIPS;
	for (size_t i = 0; i < n; i++)
		if (!wgdevice_add_allowedip(p, &want[i]))
			return -ENOMEM;
	return 0;
}

static const struct reconcile_applied *applied_find(const struct reconcile_state *st, const uint8_t *key)
{
	struct reconcile_applied k;

	if (!st || !st->n)
		return NULL;
	memcpy(k.public_key, key, WG_KEY_LEN);
	return bsearch(&k, st->v, st->n, sizeof(k), cmp_applied);
}

static bool resolve_one(const struct reconcile_input *in, const char *text, wg_endpoint *out)
{
	memset(out, 0, sizeof(*out));
	return text && !in->resolve(text, out, in->resolve_ctx) && out->addr.sa_family;
}

/* A handshake within REJECT_AFTER_TIME: the device's endpoint is where it came from. */
static bool session_live(const struct wgpeer *cur, int64_t now)
{
	return cur && cur->last_handshake_time.tv_sec && now - cur->last_handshake_time.tv_sec < RECONCILE_LIVE_SECONDS;
}

/* The endpoint to set on a peer, or family 0 to leave it alone. */
static void choose_endpoint(const struct reconcile_input *in, size_t i, const struct wgpeer *cur,
			    const struct reconcile_state *st, wg_endpoint *out)
{
	const struct reconcile_applied *last;
	wg_endpoint want, hint;
	bool has_want, has_hint;

	memset(out, 0, sizeof(*out));
	if (!in->resolve || session_live(cur, in->now))
		return;
	/* Unresolvable now: keep whatever works (re-resolved next round). */
	has_want = resolve_one(in, in->endpoints ? in->endpoints[i] : NULL, &want);
	has_hint = resolve_one(in, in->hints ? in->hints[i] : NULL, &hint) && !(has_want && endpoint_equal(&hint, &want));
	if (!has_want && !has_hint)
		return;
	if (!has_want) {
		want = hint;
		has_hint = false;
	}
	if (!cur) {
		*out = want;
		return;
	}
	last = applied_find(st, cur->public_key);
	if (has_hint && last && (endpoint_equal(&last->endpoint, &want) || endpoint_equal(&last->endpoint, &hint))) {
		/* Advertised and observed in turn, until one of them gets a handshake through. */
		if (in->now - last->since >= RECONCILE_HINT_SECONDS)
			*out = endpoint_equal(&last->endpoint, &want) ? hint : want;
		return;
	}
	if (last) {
		if (!endpoint_equal(&last->endpoint, &want))
			*out = want;
		return;
	}
	/* Not applied by this process (a restart): fill in a missing endpoint, correct one that
	 * is not what the store says (no session is live, see above). */
	if (!cur->endpoint.addr.sa_family || !endpoint_equal(&cur->endpoint, &want))
		*out = want;
}

int reconcile_plan(const struct reconcile_input *in, const struct reconcile_state *st, struct wgdevice **update,
		   struct reconcile_counts *counts)
{
	const struct wgdevice *cur = in->current;
	struct wgpeer **sorted = NULL, *p;
	size_t n_cur = 0, k = 0;
	bool *wanted = NULL;
	struct wgdevice *dev;
	int ret = -ENOMEM;

	*update = NULL;
	memset(counts, 0, sizeof(*counts));
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	snprintf(dev->name, sizeof(dev->name), "%s", cur->name);
	for_each_wgpeer(cur, p)
		n_cur++;
	sorted = calloc(n_cur + 1, sizeof(*sorted));
	wanted = calloc(n_cur + 1, sizeof(*wanted));
	if (!sorted || !wanted)
		goto out;
	for_each_wgpeer(cur, p)
		sorted[k++] = p;
	qsort(sorted, n_cur, sizeof(*sorted), cmp_peer_ptr);

	/* First pass marks which current peers stay; removals go out first. */
	for (size_t i = 0; i < in->n_nodes; i++) {
		struct wgpeer key, *kp = &key, **hit;

		memcpy(key.public_key, in->nodes[i].public_key, WG_KEY_LEN);
		hit = bsearch(&kp, sorted, n_cur, sizeof(*sorted), cmp_peer_ptr);
		if (hit)
			wanted[hit - sorted] = true;
	}
	for (size_t j = 0; j < n_cur; j++) {
		struct wgpeer *rm;

		if (wanted[j])
			continue;
		rm = wgdevice_add_peer(dev);
		if (!rm)
			goto out;
		memcpy(rm->public_key, sorted[j]->public_key, WG_KEY_LEN);
		rm->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_REMOVE_ME;
		counts->removed++;
	}
	for (size_t i = 0; i < in->n_nodes; i++) {
		struct ip_prefix want[NODE_MAX_TUNNEL_IPS + NODE_MAX_POD_CIDRS];
		size_t n_want = reconcile_allowed_ips(&in->nodes[i], want, sizeof(want) / sizeof(want[0]));
		struct wgpeer key, *kp = &key, **hit, *c, *np;
		wg_endpoint ep;
		bool ips_ok, ka_ok;

		memcpy(key.public_key, in->nodes[i].public_key, WG_KEY_LEN);
		hit = bsearch(&kp, sorted, n_cur, sizeof(*sorted), cmp_peer_ptr);
		c = hit ? *hit : NULL;
		choose_endpoint(in, i, c, st, &ep);
		ips_ok = c && allowedips_match(c, want, n_want);
		ka_ok = c && c->persistent_keepalive_interval == in->persistent_keepalive;
		if (c && ips_ok && ka_ok && !ep.addr.sa_family) {
			counts->unchanged++;
			continue;
		}
		np = wgdevice_add_peer(dev);
		if (!np)
			goto out;
		memcpy(np->public_key, in->nodes[i].public_key, WG_KEY_LEN);
		np->flags = WGPEER_HAS_PUBLIC_KEY;
		if (c)
			np->flags |= WGPEER_UPDATE_ONLY;
		if (!ips_ok && add_allowedips(np, want, n_want))
			goto out;
		if (!ka_ok) {
			np->flags |= WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
			np->persistent_keepalive_interval = in->persistent_keepalive;
		}
		np->endpoint = ep;
		if (c)
			counts->updated++;
		else
			counts->added++;
	}
	ret = 0;
	if (dev->first_peer) {
		*update = dev;
		dev = NULL;
	}
out:
	free(sorted);
	free(wanted);
	wgdevice_free(dev);
	return ret;
}

int reconcile_commit(struct reconcile_state *st, const struct wgdevice *update, int64_t now)
{
	const struct wgpeer *p;

	for_each_wgpeer(update, p) {
		struct reconcile_applied k, *hit;

		memcpy(k.public_key, p->public_key, WG_KEY_LEN);
		hit = st->n ? bsearch(&k, st->v, st->n, sizeof(k), cmp_applied) : NULL;
		if (p->flags & WGPEER_REMOVE_ME) {
			if (hit) {
				size_t at = (size_t)(hit - st->v);

				memmove(hit, hit + 1, (st->n - at - 1) * sizeof(*hit));
				st->n--;
			}
			continue;
		}
		if (!p->endpoint.addr.sa_family)
			continue;
		if (hit) {
			hit->endpoint = p->endpoint;
			hit->since = now;
			continue;
		}
		{
			struct reconcile_applied *grown = realloc(st->v, (st->n + 1) * sizeof(*grown));

			if (!grown)
				return -ENOMEM;
			st->v = grown;
			k.endpoint = p->endpoint;
			k.since = now;
			st->v[st->n++] = k;
			/* Keep it sorted for bsearch; one insertion sort step. */
			for (size_t j = st->n - 1; j > 0 && cmp_applied(&st->v[j - 1], &st->v[j]) > 0; j--) {
				struct reconcile_applied t = st->v[j];

				st->v[j] = st->v[j - 1];
				st->v[j - 1] = t;
			}
		}
	}
	return 0;
}

void reconcile_state_free(struct reconcile_state *st)
{
	free(st->v);
	st->v = NULL;
	st->n = 0;
}

int reconcile_resolve_default(const char *endpoint, wg_endpoint *out, void *ctx)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int ret = endpoint_resolve(endpoint, &ss, &len, NULL, 0);

	if (ret)
		return ret;
	memset(out, 0, sizeof(*out));
	if (ss.ss_family == AF_INET)
		memcpy(&out->addr4, &ss, sizeof(out->addr4));
	else if (ss.ss_family == AF_INET6)
		memcpy(&out->addr6, &ss, sizeof(out->addr6));
	else
		return -EAFNOSUPPORT;
	return 0;
}

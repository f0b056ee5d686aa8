/* reresolve.c — re-resolve DNS endpoints of stale peers and update only what changed. */
#include "datapath/reresolve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int list_push(struct reresolve_list *list, const uint8_t key[WG_KEY_LEN], const char *endpoint)
{
	struct reresolve_peer *grown = realloc(list->v, (list->n + 1) * sizeof(*list->v));

	if (!grown)
		return -ENOMEM;
	list->v = grown;
	grown[list->n].endpoint = strdup(endpoint);
	if (!grown[list->n].endpoint)
		return -ENOMEM;
	memcpy(grown[list->n].public_key, key, WG_KEY_LEN);
	list->n++;
	return 0;
}

void reresolve_list_free(struct reresolve_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->v[i].endpoint);
	free(list->v);
	list->v = NULL;
	list->n = 0;
}

int reresolve_list_from_config(struct reresolve_list *list, const struct config *conf)
{
	int ret;

	memset(list, 0, sizeof(*list));
	for (size_t i = 0; i < conf->n_peers; i++) {
		if (!conf->peers[i].endpoint)
			continue;
		ret = list_push(list, conf->peers[i].public_key, conf->peers[i].endpoint);
		if (ret) {
			reresolve_list_free(list);
			return ret;
		}
	}
	return 0;
}

static int state_path(char *path, size_t len, const char *dir, const char *ifname)
{
	if ((size_t)snprintf(path, len, "%s/%s.endpoints", dir, ifname) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int reresolve_state_write(const char *dir, const char *ifname, const struct reresolve_list *list)
{
	char path[PATH_MAX], tmp[PATH_MAX + 4], key[WG_KEY_LEN_BASE64];
	FILE *f;
	int fd, ret;

	ret = state_path(path, sizeof(path), dir, ifname);
	if (ret)
		return ret;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		unlink(tmp);
		return ret;
	}
	for (size_t i = 0; i < list->n; i++) {
		key_to_base64(key, list->v[i].public_key);
		fprintf(f, "%s %s\n", key, list->v[i].endpoint);
	}
	ret = fclose(f) ? -errno : 0;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int reresolve_state_read(const char *dir, const char *ifname, struct reresolve_list *list)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int ret = 0;

	memset(list, 0, sizeof(*list));
	ret = state_path(path, sizeof(path), dir, ifname);
	if (ret)
		return ret;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		uint8_t key[WG_KEY_LEN];
		char *sp = strchr(line, ' ');

		line[strcspn(line, "\n")] = '\0';
		if (!sp || !sp[1]) {
			ret = -EINVAL;
			break;
		}
		*sp = '\0';
		if (key_from_base64(key, line)) {
			ret = -EINVAL;
			break;
		}
		ret = list_push(list, key, sp + 1);
		if (ret)
			break;
	}
	free(line);
	fclose(f);
	if (ret)
		reresolve_list_free(list);
	return ret;
}

int reresolve_state_remove(const char *dir, const char *ifname)
{
	char path[PATH_MAX];
	int ret = state_path(path, sizeof(path), dir, ifname);

	if (ret)
		return ret;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

bool reresolve_peer_is_stale(const struct wgpeer *peer, time_t now, unsigned int stale)
{
	/* A peer that never completed a handshake counts as 0 seconds since the epoch. */
	return now - peer->last_handshake_time.tv_sec > (time_t)stale;
}

static bool endpoint_equal(const wg_endpoint *a, const struct sockaddr_storage *b)
{
	if (a->addr.sa_family != b->ss_family)
		return false;
	if (b->ss_family == AF_INET) {
		const struct sockaddr_in *x = &a->addr4, *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (b->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = &a->addr6, *y = (const struct sockaddr_in6 *)b;

		return x->sin6_port == y->sin6_port && x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

static const struct wgpeer *find_peer(const struct wgdevice *dev, const uint8_t key[WG_KEY_LEN])
{
	const struct wgpeer *peer;

	for_each_wgpeer(dev, peer)
		if (key_equal(peer->public_key, key))
			return peer;
	return NULL;
}

int reresolve_plan(const struct wgdevice *dev, const struct reresolve_list *list, time_t now, unsigned int stale,
		   reresolve_resolver resolve, struct wgdevice *changes, char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
	snprintf(changes->name, sizeof(changes->name), "%s", dev->name);
	for (size_t i = 0; i < list->n; i++) {
		const struct wgpeer *peer = find_peer(dev, list->v[i].public_key);
		struct sockaddr_storage ss;
		socklen_t ss_len;
		struct wgpeer *change;
		char why[128];

		if (!peer || !reresolve_peer_is_stale(peer, now, stale))
			continue;
		if (resolve(list->v[i].endpoint, &ss, &ss_len, why, sizeof(why))) {
			if (err && err_len && !err[0])
				snprintf(err, err_len, "cannot resolve `%s': %s", list->v[i].endpoint, why);
			continue;
		}
		if (endpoint_equal(&peer->endpoint, &ss))
			continue;
		change = wgdevice_add_peer(changes);
		if (!change)
			return -ENOMEM;
		memcpy(change->public_key, peer->public_key, WG_KEY_LEN);
		change->flags = WGPEER_HAS_PUBLIC_KEY | WGPEER_UPDATE_ONLY;
		memcpy(&change->endpoint, &ss, ss.ss_family == AF_INET6 ? sizeof(change->endpoint.addr6)
									 : sizeof(change->endpoint.addr4));
	}
	return 0;
}

int reresolve_once(const char *ifname, const struct reresolve_list *list, time_t now, unsigned int stale,
		   reresolve_resolver resolve, unsigned int *updated, char *err, size_t err_len)
{
	struct wgdevice *dev = NULL, changes = { 0 };
	struct wgpeer *peer;
	unsigned int n = 0;
	int ret;

	if (updated)
		*updated = 0;
	ret = device_get(&dev, ifname);
	if (ret) {
		snprintf(err, err_len, "%s: cannot read the interface: %s", ifname, strerror(-ret));
		return ret;
	}
	ret = reresolve_plan(dev, list, now, stale, resolve, &changes, err, err_len);
	wgdevice_free(dev);
	for_each_wgpeer(&changes, peer)
		n++;
	if (!ret && n) {
		char why[256] = "";

		ret = device_set(&changes, why, sizeof(why));
		if (ret)
			snprintf(err, err_len, "%s: cannot update endpoints: %s", ifname, why[0] ? why : strerror(-ret));
	}
	/* changes lives on the stack; free only its peers. */
	while ((peer = changes.first_peer)) {
		changes.first_peer = peer->next_peer;
		wgdevice_free_peer(peer);
	}
	if (!ret && updated)
		*updated = n;
	return ret;
}

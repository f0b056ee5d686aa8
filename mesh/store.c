/* store.c — picking a store backend by name, and what all backends share. */
#include "mesh/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/node.h"

/* Every record a node writes must be one that every store lists. */
_Static_assert(NODE_RECORD_MAX <= STORE_VALUE_MAX, "a node record must fit the store's value bound");

int store_open(struct store **s, const char *backend, const char *location, int lease_ttl)
{
	*s = NULL;
	if (!strcmp(backend, "file"))
		return store_file_open(s, location);
	if (!strcmp(backend, "etcd"))
		return store_etcd_open(s, location, lease_ttl);
	if (!strcmp(backend, "kubernetes"))
		return store_kubernetes_open(s, location);
	return -EPROTONOSUPPORT;
}

void store_kvs_free(struct store_kv *kvs, size_t n)
{
	if (!kvs)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

const char *store_strerror(struct store *s, int err)
{
	const char *why = s && s->ops->error ? s->ops->error(s) : NULL;

	return why && *why ? why : strerror(err < 0 ? -err : err);
}

bool store_key_valid(const char *key)
{
	const char *slash = strchr(key, '/');
	size_t len = strlen(key);

	/* "prefix/name": exactly one slash, so every backend maps it onto one file or key. */
	if (!len || len > 255 || !slash || slash == key || !slash[1] || strchr(slash + 1, '/'))
		return false;
	if (strstr(key, "..") || slash[1] == '.')
		return false;
	for (const char *c = key; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr("._-:/", *c)))
			return false;
	return true;
}

char **store_skips_slot(struct store_skips *skips, const char *prefix)
{
	for (size_t i = 0; i < STORE_SKIPS_PREFIXES; i++)
		if (!strcmp(skips[i].prefix, prefix))
			return &skips[i].lines;
	for (size_t i = 0; i < STORE_SKIPS_PREFIXES; i++)
		if (!skips[i].prefix[0] && strlen(prefix) < sizeof(skips[i].prefix)) {
			strcpy(skips[i].prefix, prefix);
			return &skips[i].lines;
		}
	return &skips[0].lines;
}

void store_skips_free(struct store_skips *skips)
{
	for (size_t i = 0; i < STORE_SKIPS_PREFIXES; i++) {
		free(skips[i].lines);
		skips[i].lines = NULL;
	}
}

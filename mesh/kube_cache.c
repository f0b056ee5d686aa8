/* kube_cache.c — the Nodes as listed and then watched (see kube_cache.h). */
#include "mesh/kube_cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/kube_node.h"
#include "lib/log.h"

void kube_cache_init(struct kube_cache *c)
{
	memset(c, 0, sizeof(*c));
}

void kube_cache_free(struct kube_cache *c)
{
	cJSON_Delete(c->items);
	cJSON_Delete(c->pending);
	free(c->line);
	memset(c, 0, sizeof(*c));
}

static const char *resource_version(const cJSON *obj)
{
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "metadata"),
							   "resourceVersion");

	return cJSON_IsString(rv) && rv->valuestring[0] && strlen(rv->valuestring) < 64 ? rv->valuestring : NULL;
}

static void set_rv(char *dst, const cJSON *obj)
{
	const char *rv = resource_version(obj);

	if (rv)
		snprintf(dst, 64, "%s", rv);
}

void kube_cache_list_abort(struct kube_cache *c)
{
	cJSON_Delete(c->pending);
	c->pending = NULL;
	c->pending_rv[0] = '\0';
}

int kube_cache_page(struct kube_cache *c, cJSON *page, char *cont, size_t cont_len)
{
	cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(page, "metadata");
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(meta, "continue");
	cJSON *item;

	cont[0] = '\0';
	/* An empty list may come with "items": null. */
	if (!cJSON_IsObject(page) || (!cJSON_IsArray(items) && !cJSON_IsNull(items) && items) ||
	    (!c->pending && !resource_version(page)) ||
	    (cJSON_IsString(next) && next->valuestring[0] && strlen(next->valuestring) >= cont_len)) {
		kube_cache_list_abort(c);
		return -EPROTO;
	}
	if (!c->pending) {
		c->pending = cJSON_CreateArray();
		if (!c->pending)
			return -ENOMEM;
		/* Every page of a list is from its first page's snapshot. */
		set_rv(c->pending_rv, page);
	}
	while (cJSON_IsArray(items) && (item = cJSON_DetachItemFromArray(items, 0))) {
		if (cJSON_IsObject(item) && kube_node_name(item))
			cJSON_AddItemToArray(c->pending, item);
		else
			cJSON_Delete(item);
	}
	if (cJSON_IsString(next) && next->valuestring[0]) {
		snprintf(cont, cont_len, "%s", next->valuestring);
		return 1;
	}
	cJSON_Delete(c->items);
	c->items = c->pending;
	c->pending = NULL;
	memcpy(c->rv, c->pending_rv, sizeof(c->rv));
	c->pending_rv[0] = '\0';
	return 0;
}

static cJSON *find(const struct kube_cache *c, const char *name, int *index)
{
	cJSON *item;
	int i = 0;

	cJSON_ArrayForEach(item, c->items) {
		const char *n = kube_node_name(item);

		if (n && !strcmp(n, name)) {
			if (index)
				*index = i;
			return item;
		}
		i++;
	}
	return NULL;
}

const cJSON *kube_cache_node(const struct kube_cache *c, const char *name)
{
	return c->items ? find(c, name, NULL) : NULL;
}

/* ADDED, MODIFIED or DELETED @obj: true when what podwire reads changed. The cache takes
 * @obj unless it is DELETED. */
static bool apply(struct kube_cache *c, const char *type, cJSON *obj)
{
	const char *name = kube_node_name(obj);
	bool deleted = !strcmp(type, "DELETED");
	int index = -1;
	cJSON *old = name ? find(c, name, &index) : NULL;
	bool changed;

	if (!name) {
		if (!deleted)
			cJSON_Delete(obj);
		return false;
	}
	if (deleted) {
		if (old)
			cJSON_DeleteItemFromArray(c->items, index);
		return old != NULL;
	}
	changed = !old || kube_node_fingerprint(old) != kube_node_fingerprint(obj);
	if (old)
		cJSON_ReplaceItemInArray(c->items, index, obj);
	else
		cJSON_AddItemToArray(c->items, obj);
	return changed;
}

unsigned int kube_cache_event(struct kube_cache *c, const char *json)
{
	cJSON *ev = cJSON_Parse(json);
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(ev, "object");
	unsigned int flags = 0;

	if (!cJSON_IsString(type) || !cJSON_IsObject(obj)) {
		log_debug("kubernetes: watch: not an event: %.100s", json);
	} else if (!strcmp(type->valuestring, "ERROR")) {
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(obj, "code");

		flags = cJSON_IsNumber(code) && code->valueint == 410 ? KUBE_CACHE_EXPIRED : KUBE_CACHE_ERROR;
		if (flags == KUBE_CACHE_EXPIRED)
			c->rv[0] = '\0';
	} else if (!strcmp(type->valuestring, "BOOKMARK")) {
		set_rv(c->rv, obj);
	} else if (!strcmp(type->valuestring, "ADDED") || !strcmp(type->valuestring, "MODIFIED") ||
		   !strcmp(type->valuestring, "DELETED")) {
		set_rv(c->rv, obj);
		if (c->items) {
			cJSON_DetachItemViaPointer(ev, obj);
			if (apply(c, type->valuestring, obj))
				flags = KUBE_CACHE_CHANGED;
			if (!strcmp(type->valuestring, "DELETED"))
				cJSON_Delete(obj);
		}
	}
	cJSON_Delete(ev);
	return flags;
}

void kube_cache_stream_reset(struct kube_cache *c)
{
	c->line_len = 0;
}

int kube_cache_feed(struct kube_cache *c, const char *data, size_t len)
{
	size_t start = 0;
	unsigned int flags = 0;
	char *grown;

	if (c->line_len + len > KUBE_EVENT_MAX)
		return -E2BIG;
	grown = realloc(c->line, c->line_len + len + 1);
	if (!grown)
		return -ENOMEM;
	c->line = grown;
	memcpy(c->line + c->line_len, data, len);
	c->line_len += len;
	c->line[c->line_len] = '\0';
	for (char *nl; (nl = memchr(c->line + start, '\n', c->line_len - start)); start = (size_t)(nl - c->line) + 1) {
		*nl = '\0';
		if (nl > c->line + start)
			flags |= kube_cache_event(c, c->line + start);
		if (flags & (KUBE_CACHE_EXPIRED | KUBE_CACHE_ERROR)) {
			c->line_len = 0;
			return (int)flags;
		}
	}
	memmove(c->line, c->line + start, c->line_len - start);
	c->line_len -= start;
	return (int)flags;
}

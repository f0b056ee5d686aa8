/* publish.c — writing this node's record to the store (see publish.h). */
#include "daemon/publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_seconds(void)
{
	return (int64_t)time(NULL);
}

int publish_node(struct publish *p, struct store *s, struct node *self, unsigned int heartbeat_seconds, bool force)
{
	char key[STORE_KEY_MAX], *text;
	int ret;

	self->heartbeat = p->heartbeat;
	if (force || !p->text || now_seconds() - p->heartbeat >= (int64_t)heartbeat_seconds)
		self->heartbeat = now_seconds();
	ret = node_encode(self, &text);
	if (ret)
		return ret;
	if (!force && p->text && !strcmp(text, p->text)) {
		free(text);
		return 0;
	}
	snprintf(key, sizeof(key), STORE_NODES_PREFIX "%s", self->name);
	ret = store_put(s, key, text, true);
	if (ret) {
		free(text);
		return ret;
	}
	free(p->text);
	p->text = text;
	p->heartbeat = self->heartbeat;
	return 0;
}

void publish_forget(struct publish *p)
{
	free(p->text);
	p->text = NULL;
}

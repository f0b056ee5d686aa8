/* publish.h — writing this node's record to the store: only when its text changed, or
 * when the heartbeat is due, or when forced (a record missing or stale in the store). */
#ifndef PODWIRE_DAEMON_PUBLISH_H
#define PODWIRE_DAEMON_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>

#include "mesh/node.h"
#include "mesh/store.h"

struct publish {
	char *text;		/* record text last written, heartbeat included; NULL: none */
	int64_t heartbeat;	/* the Heartbeat it carried */
};

/* Write @self to @s under STORE_NODES_PREFIX, with a new Heartbeat when @force, when
 * nothing was written yet, or when @heartbeat_seconds have passed; an unchanged text is
 * not written again unless @force. Sets self->heartbeat. 0 or the store's -errno. */
int publish_node(struct publish *p, struct store *s, struct node *self, unsigned int heartbeat_seconds, bool force);
/* The next publish_node() writes the record in full (and frees what @p holds). */
void publish_forget(struct publish *p);

#endif

/* firstseen.h — when this process first saw each store entry, so that "the earliest claim
 * wins" can be decided without trusting anything a writer put into the entry.
 *
 * An entry is named by an id string (an address claim "alloc/BLOCK=OWNER", a record
 * "NAME=PUBLICKEY"). Each update is one round: ids seen for the first time get the round's
 * number, ids seen before keep theirs, ids no longer in the store are forgotten (a claim
 * given back and taken again counts as new). Everything present at a daemon's start shares
 * round 1; the store's own creation order (store_kv.created) then decides among them. */
#ifndef PODWIRE_MESH_FIRSTSEEN_H
#define PODWIRE_MESH_FIRSTSEEN_H

#include <stddef.h>
#include <stdint.h>

struct firstseen_entry {
	char *id;
	uint64_t round;
};

struct firstseen {
	struct firstseen_entry *v;	/* sorted by id */
	size_t n;
	uint64_t round;			/* the last round; 0 before the first */
};

/* One round over @ids (any order, duplicates allowed): @rounds[i] gets the round in which
 * ids[i] was first seen. 0 or -ENOMEM (then @fs is unchanged and @rounds all 0). A NULL @fs
 * (a one-shot reader such as podwirectl) gives every id round 0. */
int firstseen_update(struct firstseen *fs, const char *const *ids, size_t n, uint64_t *rounds);
void firstseen_free(struct firstseen *fs);

#endif

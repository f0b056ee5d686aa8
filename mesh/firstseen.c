/* firstseen.c — first-seen rounds of store entries (see firstseen.h). */
#include "mesh/firstseen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct firstseen_entry *)a)->id, ((const struct firstseen_entry *)b)->id);
}

static const struct firstseen_entry *find(const struct firstseen *fs, const char *id)
{
	struct firstseen_entry k = { .id = (char *)id };

	return fs->n ? bsearch(&k, fs->v, fs->n, sizeof(k), cmp_entry) : NULL;
}

int firstseen_update(struct firstseen *fs, const char *const *ids, size_t n, uint64_t *rounds)
{
	struct firstseen_entry *next;
	size_t m = 0;

	memset(rounds, 0, n * sizeof(*rounds));
	if (!fs)
		return 0;
	next = calloc(n + 1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	fs->round++;
	for (size_t i = 0; i < n; i++) {
		const struct firstseen_entry *old = find(fs, ids[i]);

		next[m].id = strdup(ids[i]);
		if (!next[m].id) {
			for (size_t j = 0; j < m; j++)
				free(next[j].id);
			free(next);
			fs->round--;
			return -ENOMEM;
		}
		next[m++].round = old ? old->round : fs->round;
	}
	qsort(next, m, sizeof(*next), cmp_entry);
	/* Duplicates: keep one. */
	if (m) {
		size_t w = 1;

		for (size_t i = 1; i < m; i++) {
			if (!strcmp(next[i].id, next[w - 1].id))
				free(next[i].id);
			else
				next[w++] = next[i];
		}
		m = w;
	}
	for (size_t i = 0; i < fs->n; i++)
		free(fs->v[i].id);
	free(fs->v);
	fs->v = next;
	fs->n = m;
	for (size_t i = 0; i < n; i++)
		rounds[i] = find(fs, ids[i])->round;
	return 0;
}

void firstseen_free(struct firstseen *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		free(fs->v[i].id);
	free(fs->v);
	fs->v = NULL;
	fs->n = 0;
}

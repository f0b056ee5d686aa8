/* libFuzzer target for store records (node.h): anyone who can write the shared store can
 * write any bytes, so node_decode must refuse or accept without crashing, leaking or
 * looping; an accepted record must encode, and decode again to the same text (round trip).
 * Seeds: tests/fuzz/corpus/node/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesh/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node n, again;
	char err[256] = "", *text = NULL, *text2 = NULL;

	if (node_decode(&n, (const char *)data, size, err, sizeof(err))) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	if (node_encode(&n, &text))
		abort();
	if (node_decode(&again, text, strlen(text), err, sizeof(err)) || node_encode(&again, &text2) ||
	    strcmp(text, text2))
		abort();
	free(text);
	free(text2);
	node_clear(&n);
	node_clear(&again);
	return 0;
}

/* bench/record.c — decoding node records the size a hostile or a large NAT-ed cluster makes:
 * each with NODE_MAX_OBSERVED "# Observed" lines, the mesh's worst case per record. Prints
 * the time per record and per observed line, for records of 60, 120, 240 and 480 lines: a
 * linear parse keeps the time per line flat as the record grows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mesh/node.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *record(size_t observed)
{
	size_t size = 4096 + observed * 128, off = 0;
	char *text = malloc(size), key[WG_KEY_LEN_BASE64];
	uint8_t raw[WG_KEY_LEN];

	if (!text)
		exit(1);
	off += snprintf(text + off, size - off, "[Peer]\n# Name = big\n# TunnelIP = 10.99.0.9\n# Heartbeat = 1\n");
	for (size_t i = 0; i < observed; i++) {
		randombytes_buf(raw, sizeof(raw));
		key_to_base64(key, raw);
		off += snprintf(text + off, size - off, "# Observed = %s 198.51.%zu.%zu:51820\n", key, i / 250,
				i % 250 + 1);
	}
	randombytes_buf(raw, sizeof(raw));
	key_to_base64(key, raw);
	snprintf(text + off, size - off, "PublicKey = %s\nAllowedIPs = 10.99.0.9/32\n", key);
	return text;
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	for (size_t observed = 60; observed <= NODE_MAX_OBSERVED; observed *= 2) {
		char *text = record(observed), err[256];
		size_t len = strlen(text), rounds = 200000 / observed;
		double t0 = now(), dt;

		for (size_t r = 0; r < rounds; r++) {
			struct node n;

			if (node_decode(&n, text, len, err, sizeof(err))) {
				fprintf(stderr, "bench/record: %s\n", err);
				return 1;
			}
			node_clear(&n);
		}
		dt = (now() - t0) / (double)rounds;
		printf("record with %3zu observed lines (%6zu bytes): %8.1f us per record, %6.1f ns per line\n",
		       observed, len, dt * 1e6, dt * 1e9 / (double)observed);
		free(text);
	}
	return 0;
}

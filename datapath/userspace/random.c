/* random.c — the system randomness behind struct wg_random. */
#include "datapath/userspace/random.h"

#include <sodium.h>

static void system_fill(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

const struct wg_random wg_random_system = { system_fill, NULL };

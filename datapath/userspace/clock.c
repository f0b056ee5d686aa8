/* clock.c — the system clock behind struct wg_clock. */
#include "datapath/userspace/clock.h"

static uint64_t system_mono_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	/* Boot time, not monotonic time: it keeps counting while the machine is suspended, so
	 * keys age and expire across a suspend as the peer (the kernel uses boottime too)
	 * expects, and zeroing after 3 x REJECT_AFTER_TIME happens on resume. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	/* Offset by one second so that 0 can always mean "never". */
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec + NSEC_PER_SEC;
}

static void system_real(void *ctx, struct timespec *ts)
{
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, ts);
}

const struct wg_clock wg_clock_system = { system_mono_ns, system_real, NULL };

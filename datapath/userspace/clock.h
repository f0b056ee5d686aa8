/* clock.h — the one source of time for the protocol. Timers, key ages, cookie secrets and
 * handshake timestamps all read it, so tests can drive hours of protocol time instantly. */
#ifndef PODWIRE_US_CLOCK_H
#define PODWIRE_US_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

struct wg_clock {
	/* Monotonic nanoseconds: ages and deadlines. */
	uint64_t (*mono_ns)(void *ctx);
	/* Wall time: TAI64N handshake timestamps and last_handshake_time. */
	void (*real)(void *ctx, struct timespec *ts);
	void *ctx;
};

/* The system clocks (CLOCK_BOOTTIME / CLOCK_REALTIME). */
extern const struct wg_clock wg_clock_system;

static inline uint64_t wg_clock_now(const struct wg_clock *c)
{
	return c->mono_ns(c->ctx);
}

/* Has @birthdate + @age passed (or is birthdate unset, 0)? */
static inline int wg_expired(uint64_t birthdate, uint64_t age, uint64_t now)
{
	return birthdate == 0 || birthdate + age <= now;
}

#endif

/* debounce.c — coalescing store watch events into reconcile passes (see debounce.h). */
#include "daemon/debounce.h"

void debounce_change(struct debounce *d, double now)
{
	double settle = now + DEBOUNCE_SETTLE_SECONDS, gap = d->last_pass + DEBOUNCE_GAP_SECONDS;

	if (!d->due)
		d->due = settle > gap ? settle : gap;
}

double debounce_wake(const struct debounce *d, double wake)
{
	return d->due && d->due < wake ? d->due : wake;
}

bool debounce_due(const struct debounce *d, double now)
{
	return d->due && now >= d->due;
}

void debounce_ran(struct debounce *d, double now)
{
	d->due = 0;
	d->last_pass = now;
}

/* debounce.h — coalescing the store's watch events into few reconcile passes.
 *
 * A reconcile follows the first change after DEBOUNCE_SETTLE_SECONDS (a node's record and
 * its claims arrive together), and no sooner than DEBOUNCE_GAP_SECONDS after the last pass,
 * so one writer changing its record in a loop costs every node at most one full reconcile a
 * second, and a change waits at most that long. Times are the caller's monotonic seconds. */
#ifndef PODWIRE_DAEMON_DEBOUNCE_H
#define PODWIRE_DAEMON_DEBOUNCE_H

#include <stdbool.h>

#define DEBOUNCE_SETTLE_SECONDS 0.2
#define DEBOUNCE_GAP_SECONDS 1.0

struct debounce {
	double due;		/* when the pending change is reconciled; 0: none pending */
	double last_pass;	/* when the last pass ran; 0: never */
};

/* A change was seen at @now; a change already pending keeps its time. */
void debounce_change(struct debounce *d, double now);
/* The earlier of @wake and the pending change's time. */
double debounce_wake(const struct debounce *d, double wake);
/* Is a pending change due at @now? */
bool debounce_due(const struct debounce *d, double now);
/* A pass ran at @now: it covered every change seen before it. */
void debounce_ran(struct debounce *d, double now);

#endif

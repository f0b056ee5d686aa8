/* rollback.h — undoing a set that failed halfway.
 *
 * Neither backend applies a set atomically: the kernel changes the fwmark before it fails
 * to bind a taken port, walks the peers one by one, and takes large sets as several
 * messages; a UAPI server applies each line as it reads it. So device_set() reads the
 * device first and, when a set fails, applies the difference back. */
#ifndef PODWIRE_DATAPATH_ROLLBACK_H
#define PODWIRE_DATAPATH_ROLLBACK_H

#include "datapath/wgdevice.h"

/* The set that turns whatever @attempted may have changed back into @before: the device
 * fields it touched get their old values, peers it touched are restored (allowed IPs
 * replaced by the old list), peers it added are removed, and peers it removed (or that
 * REPLACE_PEERS dropped) are re-added. Peers it did not touch are left alone, so their
 * sessions survive. An endpoint cannot be unset in WireGuard: a peer that had none keeps
 * the one the failed set gave it. *plan is allocated; free with wgdevice_free(). */
int rollback_plan(struct wgdevice **plan, const struct wgdevice *before, const struct wgdevice *attempted);

#endif

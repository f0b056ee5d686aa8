/* set.h — the parts of `podwirectl set` that setconf/addconf/syncconf share. */
#ifndef PODWIRE_CLI_SET_H
#define PODWIRE_CLI_SET_H

#include "datapath/device.h"

/* Parse wg-set style arguments (after the interface name) into @dev. Prints the reason
 * for bad input to stderr and returns -EINVAL; nothing is applied. */
int set_parse_args(struct wgdevice *dev, int argc, char *argv[]);
/* "10.0.0.1/32, fd00::/64" (or "" for none) into @peer, which gets REPLACE_ALLOWEDIPS. */
int set_parse_allowedips(struct wgpeer *peer, const char *value);
/* device_set() with wg's "Unable to modify interface: ..." message on failure. */
int set_apply(struct wgdevice *dev);

#endif

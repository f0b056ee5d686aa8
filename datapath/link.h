/* link.h — creating and deleting a WireGuard interface: a kernel link when the module is
 * there, else a userspace datapath (podwire-wg or $WG_QUICK_USERSPACE_IMPLEMENTATION) whose
 * UAPI socket then serves it, as wg-quick's add_if does. */
#ifndef PODWIRE_DATAPATH_LINK_H
#define PODWIRE_DATAPATH_LINK_H

#include "datapath/device.h"

/* How link_create() picks a datapath. */
enum datapath_choice {
	DATAPATH_CHOICE_AUTO,      /* kernel when the module is there, else userspace */
	DATAPATH_CHOICE_KERNEL,
	DATAPATH_CHOICE_USERSPACE,
};
/* Create interface @name: `ip link add NAME type wireguard`, or, when the kernel has no
 * WireGuard (and @choice allows it), start the userspace datapath (podwire-wg, or the
 * program named by $WG_QUICK_USERSPACE_IMPLEMENTATION) and wait for its socket.
 * *used (optional) says which datapath now runs it. Logs one line naming the datapath. */
int link_create(const char *name, enum datapath_choice choice, enum datapath_kind *used);
/* Delete interface @name, kernel or userspace (the userspace process exits with it). */
int link_delete(const char *name);

#endif

/* datapath_hold.h — `podwired --datapath-only`: create the WireGuard interface and keep it,
 * and nothing else, so that the datapath lives in a process (a container of the DaemonSet
 * pod) apart from the daemon that configures it.
 *
 * A userspace datapath (podwire-wg) is a child of whoever starts it; in a container, it dies
 * with that container. Started by podwired, it would die at every podwired restart (a
 * liveness probe, a rolling update) and take pod traffic with it. Held here instead, in its
 * own container sharing the host's network and /var/run/wireguard, it outlives podwired,
 * which runs with `--datapath external` and attaches to it over the UAPI socket (or netlink,
 * when the kernel module made it). */
#ifndef PODWIRE_DAEMON_DATAPATH_HOLD_H
#define PODWIRE_DAEMON_DATAPATH_HOLD_H

#include "datapath/link.h"

/* Create @ifname as @choice says (link_create) unless it exists, then keep it until SIGTERM
 * or SIGINT: an interface that vanishes (a crashed podwire-wg) is created again within
 * @check_ms. The interface stays when this returns. 0, or -errno when it cannot be made at
 * the start. */
int datapath_hold(const char *ifname, enum datapath_choice choice, int check_ms);

#endif

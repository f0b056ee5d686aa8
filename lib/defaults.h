/* defaults.h — what the binaries must agree on without being told: the node's WireGuard
 * interface that podwired manages, the CNI plugin gives pods the MTU of, and podwirectl
 * status shows. */
#ifndef PODWIRE_DEFAULTS_H
#define PODWIRE_DEFAULTS_H

#define PODWIRE_NODE_INTERFACE "wg-pods"

#endif

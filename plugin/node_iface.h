/* node_iface.h — the node's WireGuard interface as the plugin sees it ("interface" in the
 * network config, wg-pods by default): pods take its MTU, and CHECK and STATUS report when
 * it is missing (podwired has not created it yet). */
#ifndef PODWIRE_PLUGIN_NODE_IFACE_H
#define PODWIRE_PLUGIN_NODE_IFACE_H

/* The MTU of interface @iface, or 0 if the interface does not exist. */
unsigned int node_iface_mtu(const char *iface);

#endif

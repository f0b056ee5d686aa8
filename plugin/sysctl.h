/* sysctl.h — /proc/sys writes. /proc/sys/net follows the network namespace of the writing
 * thread, so callers enter the right namespace first (netns_enter). */
#ifndef PODWIRE_PLUGIN_SYSCTL_H
#define PODWIRE_PLUGIN_SYSCTL_H

/* Set /proc/sys/@key (e.g. "net/ipv4/ip_forward") to @value unless it already is. */
int sysctl_ensure(const char *key, const char *value);

#endif

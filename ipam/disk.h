/* disk.h — how reservations are stored, compatible with host-local's layout:
 * DATADIR/NETWORK/IP holds "CONTAINERID\r\nIFNAME", DATADIR/NETWORK/last_reserved_ip.N the
 * last address handed out from range set N, and DATADIR/NETWORK/lock is held with flock(2)
 * for the whole of a verb so concurrent plugin processes never hand out one address twice. */
#ifndef PODWIRE_IPAM_DISK_H
#define PODWIRE_IPAM_DISK_H

#include <stdbool.h>

#include "lib/ipaddr.h"

struct ipam_disk {
	int dirfd;
	int lockfd;
};

/* Open (creating as needed) @data_dir/@network. */
int ipam_disk_open(struct ipam_disk *d, const char *data_dir, const char *network);
void ipam_disk_close(struct ipam_disk *d);
/* Take the network's exclusive lock, waiting at most @timeout_s seconds (0: for ever);
 * -ETIMEDOUT when another process held it all that time. */
int ipam_disk_lock(struct ipam_disk *d, unsigned int timeout_s);
void ipam_disk_unlock(struct ipam_disk *d);

bool ipam_disk_is_reserved(struct ipam_disk *d, const struct ip_addr *a);
/* Record @a for @id/@ifname; -EEXIST if someone holds it. */
int ipam_disk_reserve(struct ipam_disk *d, const struct ip_addr *a, const char *id, const char *ifname);
int ipam_disk_release(struct ipam_disk *d, const struct ip_addr *a);
int ipam_disk_last_reserved(struct ipam_disk *d, unsigned int set, struct ip_addr *out);
int ipam_disk_set_last_reserved(struct ipam_disk *d, unsigned int set, const struct ip_addr *a);

/* Visit every reservation; the callback returns 0 to go on, non-zero to stop (returned). */
typedef int (*ipam_disk_visit_fn)(const struct ip_addr *a, const char *id, const char *ifname, void *ctx);
int ipam_disk_foreach(struct ipam_disk *d, ipam_disk_visit_fn fn, void *ctx);

#endif

/* ipam_config.h — podwire-ipam's part of a network configuration:
 *   {"cniVersion", "name", "ipam": {"type", "ranges": [[{subnet,rangeStart,rangeEnd,gateway}]],
 *    "subnet"/"rangeStart"/... (one range, host-local's short form), "routes", "dataDir",
 *    "lockTimeout" (seconds to wait for another plugin's lock, default 30, 0 = for ever)}}
 * plus "cni.dev/valid-attachments" for GC. */
#ifndef PODWIRE_IPAM_CONFIG_H
#define PODWIRE_IPAM_CONFIG_H

#include <cJSON.h>
#include <limits.h>

#include "ipam/range.h"
#include "lib/cni_result.h"
#include "lib/cni_netconf.h"
#include "lib/cni_version.h"

#define IPAM_MAX_SETS 4
#define IPAM_DEFAULT_DATA_DIR "/var/lib/cni/networks"
#define IPAM_DEFAULT_LOCK_TIMEOUT 30

struct ipam_attachment {
	const char *container_id;	/* points into root */
	const char *ifname;
};

struct ipam_config {
	enum cni_version version;
	char name[256];
	struct ipam_range_set sets[IPAM_MAX_SETS];
	unsigned int n_sets;
	struct cni_route routes[CNI_MAX_ROUTES];
	unsigned int n_routes;
	char data_dir[PATH_MAX];
	unsigned int lock_timeout;	/* seconds */
	struct ipam_attachment *valid;	/* GC only */
	unsigned int n_valid;
	cJSON *root;
};

/* Parse stdin's JSON. Malformed JSON is code 6, a version we don't speak code 1, anything
 * else wrong code 7 — each naming the field. Free with ipam_config_free() in all cases. */
int ipam_config_parse(const char *text, struct ipam_config *c, struct cni_error *err);
void ipam_config_free(struct ipam_config *c);

#endif

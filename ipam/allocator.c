#include "ipam/allocator.h"

#include <errno.h>

int ipam_allocate(const struct ipam_range_set *set, const struct ip_addr *last, ipam_reserved_fn reserved,
		  void *ctx, struct ip_addr *out, unsigned int *range_idx)
{
	unsigned int first = 0, ri;
	struct ip_addr cur;
	int found;

	if (!set->n)
		return -ENOSPC;
	cur = set->ranges[0].start;
	/* Resume after the last reservation so a released address is not handed out again at
	 * once (host-local's rule; it keeps stale connections from reaching a new pod). */
	if (last && (found = ipam_range_set_find(set, last)) >= 0) {
		first = (unsigned int)found;
		cur = *last;
		if (ipam_addr_cmp(&cur, &set->ranges[first].end) == 0) {
			first = (first + 1) % set->n;
			cur = set->ranges[first].start;
		} else {
			ipam_addr_next(&cur);
		}
	}
	/* One lap over every range: (set->n + 1) passes so the range we started in mid-way
	 * is also visited from its beginning. */
	ri = first;
	for (unsigned int pass = 0; pass <= set->n; pass++) {
		const struct ipam_range *r = &set->ranges[ri];

		for (;;) {
			if (pass == set->n && last && ri == first && ipam_addr_cmp(&cur, last) > 0)
				return -ENOSPC;
			if (!(r->has_gateway && ipam_addr_cmp(&cur, &r->gateway) == 0) && !reserved(&cur, ctx)) {
				*out = cur;
				*range_idx = ri;
				return 0;
			}
			if (ipam_addr_cmp(&cur, &r->end) == 0)
				break;
			ipam_addr_next(&cur);
		}
		ri = (ri + 1) % set->n;
		cur = set->ranges[ri].start;
	}
	return -ENOSPC;
}

/* range.h — address ranges as host-local defines them: a subnet with optional rangeStart,
 * rangeEnd and gateway; a range set is a list of ranges of one family that together give
 * one address per container (dual stack = two range sets). */
#ifndef PODWIRE_IPAM_RANGE_H
#define PODWIRE_IPAM_RANGE_H

#include <cJSON.h>
#include <stdbool.h>

#include "lib/cni_error.h"
#include "lib/ipaddr.h"

#define IPAM_MAX_RANGES 8

struct ipam_range {
	struct ip_prefix subnet;	/* masked */
	struct ip_addr start, end;	/* inclusive */
	struct ip_addr gateway;
	bool has_gateway;
};

struct ipam_range_set {
	struct ipam_range ranges[IPAM_MAX_RANGES];
	unsigned int n;
};

/* -1, 0, 1 as a <, ==, > b (same family). */
int ipam_addr_cmp(const struct ip_addr *a, const struct ip_addr *b);
/* a + 1 / a - 1, wrapping at the family's ends. */
void ipam_addr_next(struct ip_addr *a);
void ipam_addr_prev(struct ip_addr *a);

/* Parse one range object; fills the host-local defaults (start = subnet + 1, end = last
 * usable address, gateway = subnet + 1) and checks that start <= end inside the subnet.
 * Errors are code 7 naming @what. */
int ipam_range_parse(const cJSON *json, struct ipam_range *r, const char *what, struct cni_error *err);
/* Parse a list of range objects; all of one family and not overlapping. */
int ipam_range_set_parse(const cJSON *json, struct ipam_range_set *set, const char *what, struct cni_error *err);
bool ipam_range_contains(const struct ipam_range *r, const struct ip_addr *a);
/* Index of the range of @set holding @a, or -1. */
int ipam_range_set_find(const struct ipam_range_set *set, const struct ip_addr *a);

#endif

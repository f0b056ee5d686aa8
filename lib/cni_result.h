/* cni_result.h — a CNI Result (interfaces, ips, routes, dns) read from any supported version
 * and written in the caller's version: 0.3.x/0.4.0 carry "version":"4"/"6" on each ip;
 * 1.1.0 adds interface "mtu" and route "mtu"/"advmss"/"priority"/"table"/"scope". */
#ifndef PODWIRE_CNI_RESULT_H
#define PODWIRE_CNI_RESULT_H

#include <cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/cni_error.h"
#include "lib/cni_version.h"
#include "lib/ipaddr.h"

#define CNI_MAX_IFACES 8
#define CNI_MAX_IPS 8
#define CNI_MAX_ROUTES 32

struct cni_iface {
	char name[16];
	char mac[18];
	char sandbox[256];
	unsigned int mtu;	/* 0: not reported */
};

struct cni_ip {
	struct ip_prefix address;
	struct ip_addr gateway;
	bool has_gateway;
	int iface;		/* index into interfaces, -1 when absent */
};

struct cni_route {
	struct ip_prefix dst;
	struct ip_addr gw;
	bool has_gw;
	unsigned int mtu, advmss, priority, table;	/* 0: unset */
	int scope;					/* -1: unset */
};

struct cni_result {
	struct cni_iface ifaces[CNI_MAX_IFACES];
	unsigned int n_ifaces;
	struct cni_ip ips[CNI_MAX_IPS];
	unsigned int n_ips;
	struct cni_route routes[CNI_MAX_ROUTES];
	unsigned int n_routes;
	cJSON *dns;		/* owned copy, or NULL */
};

void cni_result_init(struct cni_result *r);
void cni_result_free(struct cni_result *r);
/* Read a result of any supported version; bad shapes fail with code 6 naming the field. */
int cni_result_parse(const cJSON *json, struct cni_result *r, struct cni_error *err);
/* Write @r as @v's result object (caller owns it). */
cJSON *cni_result_to_json(const struct cni_result *r, enum cni_version v);
/* One route object {"dst","gw",…}; @what names it in errors (e.g. "ipam.routes[2]"). */
int cni_route_parse(const cJSON *json, struct cni_route *rt, const char *what, int code, struct cni_error *err);
/* Print @r to stdout as the plugin's answer. */
int cni_result_print(const struct cni_result *r, enum cni_version v);

#endif

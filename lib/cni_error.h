/* cni_error.h — CNI errors as the spec prints them: {"cniVersion","code","msg","details"}.
 * Used by both CNI binaries (podwire and podwire-ipam). Functions in plugin/ and ipam/
 * return 0 or -code after filling a struct cni_error, so main prints exactly what failed. */
#ifndef PODWIRE_CNI_ERROR_H
#define PODWIRE_CNI_ERROR_H

#include <cJSON.h>
#include <stdio.h>

/* CNI SPEC 1.1.0 "Well-known Error Codes"; 0-99 are the spec's, 100+ are ours. */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_NOT_AVAILABLE = 50,	/* STATUS: cannot service ADD */
	CNI_ERR_LIMITED = 51,		/* STATUS: and existing containers may be limited */
	CNI_ERR_NODE_INTERFACE = 100,	/* podwire: the node WireGuard interface is missing */
	CNI_ERR_NETLINK = 101,		/* podwire: a netlink request failed */
	CNI_ERR_RANGE_EXHAUSTED = 102,	/* podwire-ipam: no free address left */
	CNI_ERR_CHECK_FAILED = 103,	/* CHECK found the attachment differs from its result */
	CNI_ERR_DELEGATE = 104,		/* the delegated IPAM plugin failed without a CNI error */
};

struct cni_error {
	int code;
	char msg[512];
	char details[512];
};

/* Fill @e with @code and a formatted message; returns -@code for "return cni_fail(...)". */
int cni_fail(struct cni_error *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Print the error JSON (with @version as cniVersion) to @f. */
void cni_error_print(FILE *f, const struct cni_error *e, const char *version);
/* Read an error printed by another plugin; returns 0 if @json had a numeric "code". */
int cni_error_from_json(const cJSON *json, struct cni_error *e);

#endif

/* cni_netconf.h — what every CNI network config starts with: a JSON object with a
 * "cniVersion" we speak and a valid "name". Each plugin parses its own fields after it. */
#ifndef PODWIRE_CNI_NETCONF_H
#define PODWIRE_CNI_NETCONF_H

#include <cJSON.h>
#include <stddef.h>

#include "lib/cni_error.h"
#include "lib/cni_version.h"

/* SPEC network name: alphanumeric first, then alphanumerics, '_', '.', '-'. */
int cni_network_name_valid(const char *name);

/* Parse @text into *root (the caller cJSON_Delete()s it, also on error) and read the header
 * into *version and @name. Malformed JSON is code 6, a version we don't speak code 1, a
 * missing or bad field code 7, each naming the field. */
int cni_netconf_parse_header(const char *text, cJSON **root, enum cni_version *version, char *name,
			     size_t name_len, struct cni_error *err);

#endif

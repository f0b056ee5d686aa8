/* cni_netconf.c — the header of a CNI network config, shared by podwire and podwire-ipam. */
#include "lib/cni_netconf.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int cni_network_name_valid(const char *name)
{
	if (!isalnum((unsigned char)name[0]))
		return 0;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
			return 0;
	return 1;
}

static int header_string(const cJSON *root, const char *key, const char **out, struct cni_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);

	if (!v)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: missing \"%s\"", key);
	if (!cJSON_IsString(v))
		return cni_fail(err, CNI_ERR_INVALID_CONFIG, "network config: \"%s\" must be a string", key);
	*out = v->valuestring;
	return 0;
}

int cni_netconf_parse_header(const char *text, cJSON **root, enum cni_version *version, char *name,
			     size_t name_len, struct cni_error *err)
{
	const char *ver, *n;
	int ret;

	*root = cJSON_Parse(text);
	if (!*root)
		return cni_fail(err, CNI_ERR_DECODE, "network config: malformed JSON at byte %ld",
				cJSON_GetErrorPtr() ? (long)(cJSON_GetErrorPtr() - text) : 0L);
	if (!cJSON_IsObject(*root))
		return cni_fail(err, CNI_ERR_DECODE, "network config: must be a JSON object");
	if ((ret = header_string(*root, "cniVersion", &ver, err)))
		return ret;
	if (cni_version_parse(ver, version))
		return cni_fail(err, CNI_ERR_INCOMPATIBLE_VERSION,
				"network config: cniVersion \"%s\" is not supported (supported: %s)", ver,
				cni_version_list());
	if ((ret = header_string(*root, "name", &n, err)))
		return ret;
	if (!cni_network_name_valid(n) || strlen(n) >= name_len)
		return cni_fail(err, CNI_ERR_INVALID_CONFIG,
				"network config: name \"%s\" must start with a letter or digit and contain only letters, digits, '_', '.', '-'",
				n);
	snprintf(name, name_len, "%s", n);
	return 0;
}

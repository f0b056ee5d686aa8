/* Fuzz what a runtime (or an attacker who can write /etc/cni/net.d) feeds the CNI plugins on
 * stdin: the podwire network config (with prevResult), podwire-ipam's config (ranges, routes,
 * valid-attachments) and a result parsed back and printed in every version. None may crash,
 * leak or loop; errors must carry a code and a message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipam/ipam_config.h"
#include "plugin/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_error err = { 0 };
	struct netconf pc;
	struct ipam_config ic;
	struct cni_result r;
	char *text = malloc(size + 1);
	cJSON *json;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (netconf_parse(text, &pc, &err) && (!err.code || !err.msg[0]))
		abort();
	netconf_free(&pc);
	if (ipam_config_parse(text, &ic, &err) && (!err.code || !err.msg[0]))
		abort();
	ipam_config_free(&ic);
	cni_result_init(&r);
	json = cJSON_Parse(text);
	if (json && cni_result_parse(json, &r, &err) == 0) {
		for (int v = CNI_V030; v <= CNI_V110; v++)
			cJSON_Delete(cni_result_to_json(&r, (enum cni_version)v));
	}
	cni_result_free(&r);
	cJSON_Delete(json);
	free(text);
	return 0;
}

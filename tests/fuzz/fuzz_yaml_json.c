/* libFuzzer target for YAML to cJSON (yaml_json.h): a kubeconfig is read from a file anyone
 * with write access to it controls, so any bytes must be refused with a reason, or give a
 * tree that prints, without crashing, leaking or expanding aliases without bound. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "mesh/yaml_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "", *text;
	cJSON *j = NULL;
	int ret = yaml_json_parse((const char *)data, size, &j, err, sizeof(err));

	if (ret) {
		if (j || (ret != -ENOMEM && !err[0]))
			abort(); /* a refusal leaves no tree and says why */
		return 0;
	}
	text = cJSON_PrintUnformatted(j);
	if (!text)
		abort();
	free(text);
	cJSON_Delete(j);
	return 0;
}

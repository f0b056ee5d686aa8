/* libFuzzer target for the CNI result parser (lib/cni_result.c) as chained plugins meet it:
 * the runtime hands CHECK and a chained ADD the previous plugin's result in "prevResult",
 * and that plugin may be anyone's. The input is the prevResult value, parsed on its own and
 * inside a network config (plugin/netconf.c, as cmd_add.c and cmd_check.c get it). Checked:
 * no crash, leak or undefined behaviour; a refusal carries a CNI error code and a message
 * (inside a config: code 6, naming prevResult); an accepted result, written in every version
 * and read back, parses again and writes the same text (round trip), and in the latest
 * version nothing is lost on the way. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cni_result.h"
#include "plugin/netconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);

	if (!s)
		abort();
	return s;
}

static void round_trip(const struct cni_result *r)
{
	for (int v = CNI_V030; v <= CNI_V110; v++) {
		struct cni_error err = { 0 };
		struct cni_result again;
		cJSON *j = cni_result_to_json(r, (enum cni_version)v), *j2;
		char *text, *text2;

		if (!j)
			abort();
		text = print(j);
		cni_result_init(&again);
		if (cni_result_parse(j, &again, &err))
			abort(); /* what we write, we must read */
		j2 = cni_result_to_json(&again, (enum cni_version)v);
		if (!j2)
			abort();
		text2 = print(j2);
		if (strcmp(text, text2))
			abort();
		if (v == CNI_V110) {
			/* The latest version carries every interface, address and route (a result
			 * without "dns" is written with an empty one, which is the same). */
			if (again.n_ifaces != r->n_ifaces || again.n_ips != r->n_ips || again.n_routes != r->n_routes)
				abort();
		}
		free(text);
		free(text2);
		cJSON_Delete(j);
		cJSON_Delete(j2);
		cni_result_free(&again);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"fuzz\",\"type\":\"podwire\","
				   "\"ipam\":{\"type\":\"podwire-ipam\"},\"prevResult\":";
	struct cni_error err = { 0 };
	struct cni_result r;
	struct netconf nc;
	char *text = malloc(size + 1), *conf;
	cJSON *json;
	int ret;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	cni_result_init(&r);
	json = cJSON_Parse(text);
	if (json) {
		ret = cni_result_parse(json, &r, &err);
		if (ret && (!err.code || !err.msg[0]))
			abort();
		if (!ret)
			round_trip(&r);
	}
	cni_result_free(&r);
	cJSON_Delete(json);

	/* The same value as the prevResult of a config: refused for it with code 6 (decode),
	 * or accepted and kept. */
	conf = malloc(sizeof(head) + strlen(text) + 2);
	if (conf) {
		memset(&err, 0, sizeof(err));
		sprintf(conf, "%s%s}", head, text);
		memset(&nc, 0, sizeof(nc));
		ret = netconf_parse(conf, &nc, &err);
		if (ret && (!err.code || !err.msg[0]))
			abort();
		if (!ret && nc.has_prev)
			round_trip(&nc.prev);
		netconf_free(&nc);
		free(conf);
	}
	free(text);
	return 0;
}

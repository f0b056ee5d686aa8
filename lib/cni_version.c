#include "lib/cni_version.h"
#include "lib/version.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" };

int cni_version_parse(const char *s, enum cni_version *out)
{
	for (unsigned int i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (!strcmp(s, versions[i])) {
			*out = (enum cni_version)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *cni_version_str(enum cni_version v)
{
	return versions[v];
}

const char *cni_version_list(void)
{
	return "0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0";
}

cJSON *cni_version_info(void)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "cniVersion", versions[CNI_VERSION_LATEST]);
	cJSON_AddItemToObject(o, "supportedVersions",
			      cJSON_CreateStringArray(versions, sizeof(versions) / sizeof(versions[0])));
	return o;
}

int cni_version_print(void)
{
	cJSON *o = cni_version_info();
	char *s = cJSON_Print(o);
	int ret = s && printf("%s\n", s) > 0 ? 0 : -EIO;

	cJSON_free(s);
	cJSON_Delete(o);
	return ret;
}

bool cni_about(const char *name, int argc, char *argv[])
{
	const char *command = getenv("CNI_COMMAND");
	bool asked = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
				  !strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"));
	FILE *f = asked ? stdout : stderr;

	/* Set but empty is a runtime's mistake: that gets the CNI error (code 4), as it is
	 * not a person asking. */
	if (command && (*command || !asked))
		return false;
	fprintf(f, "CNI %s plugin v%s\nCNI protocol versions supported: %s\n", name, PODWIRE_VERSION,
		cni_version_list());
	if (asked)
		fprintf(f, "Run by a container runtime with CNI_COMMAND=ADD|DEL|CHECK|STATUS|GC|VERSION and the "
			   "network configuration on stdin (see the CNI specification).\n");
	return true;
}

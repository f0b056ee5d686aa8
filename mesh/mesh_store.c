/* mesh_store.c — the store options shared by `podwirectl status` and `peer` (see mesh_store.h). */
#include "mesh/mesh_store.h"

#include <stdio.h>
#include <string.h>

#include "lib/log.h"

void mesh_store_args_default(struct mesh_store_args *a)
{
	a->backend = "file";
	a->location = "/var/lib/podwire/store";
}

int mesh_store_arg(struct mesh_store_args *a, int argc, char *argv[], int *i)
{
	const char *opt = argv[*i];

	if (strcmp(opt, "--store") && strcmp(opt, "--store-dir") && strcmp(opt, "--etcd-endpoints"))
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", log_prog(), opt);
		return -1;
	}
	(*i)++;
	if (!strcmp(opt, "--store")) {
		if (strcmp(argv[*i], "file") && strcmp(argv[*i], "etcd")) {
			fprintf(stderr, "%s: --store: '%s' is not file or etcd\n", log_prog(), argv[*i]);
			return -1;
		}
		a->backend = argv[*i];
		if (!strcmp(a->backend, "etcd") && a->location[0] == '/')
			a->location = "http://127.0.0.1:2379";
	} else if (!strcmp(opt, "--store-dir")) {
		a->location = argv[*i];
	} else {
		a->backend = "etcd";
		a->location = argv[*i];
	}
	return 1;
}

int mesh_store_open(const struct mesh_store_args *a, struct store **s)
{
	int ret = store_open(s, a->backend, a->location, 0);

	if (ret)
		fprintf(stderr, "%s: store %s %s: %s\n", log_prog(), a->backend, a->location, strerror(-ret));
	return ret;
}

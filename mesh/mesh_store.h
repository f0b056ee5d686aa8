/* mesh_store.h — how the mesh subcommands (status, peer) find the store podwired uses:
 * the same options and defaults as podwired (--store, --store-dir, --etcd-endpoints). */
#ifndef PODWIRE_MESH_MESH_STORE_H
#define PODWIRE_MESH_MESH_STORE_H

#include <stdbool.h>

#include "mesh/store.h"

struct mesh_store_args {
	const char *backend;	/* "file" or "etcd" */
	const char *location;
};

void mesh_store_args_default(struct mesh_store_args *a);
/* If argv[*i] is a store option, consume it (and its value) and return 1; 0 if it is not
 * one; -1 after printing an error. */
int mesh_store_arg(struct mesh_store_args *a, int argc, char *argv[], int *i);
/* Open it, printing "podwirectl: store ...: reason" on failure. */
int mesh_store_open(const struct mesh_store_args *a, struct store **s);

#endif

/* mesh_store.h — how podwired and the mesh subcommands of podwirectl (status, peer) find
 * the store: one parser for the same options and defaults (--store, --store-dir,
 * --etcd-endpoints), so both programs read the same words the same way. */
#ifndef PODWIRE_MESH_MESH_STORE_H
#define PODWIRE_MESH_MESH_STORE_H

#include <stdbool.h>

#include "mesh/store.h"

struct mesh_store_args {
	const char *backend;	/* "file" or "etcd" */
	const char *location;	/* the directory or the etcd URLs, following the options */
	const char *dir;	/* --store-dir as given, or NULL */
	const char *etcd;	/* --etcd-endpoints as given, or NULL */
};

void mesh_store_args_default(struct mesh_store_args *a);
/* Apply store option @opt ("--store", "--store-dir" or "--etcd-endpoints") with @value.
 * The order of the options does not matter: --etcd-endpoints implies --store etcd, and the
 * location is the directory for the file store and the URLs for etcd. 0, or -EINVAL after
 * logging why the value is refused. */
int mesh_store_option(struct mesh_store_args *a, const char *opt, const char *value);
/* If argv[*i] is a store option, consume it (and its value) and return 1; 0 if it is not
 * one; -1 after printing an error. */
int mesh_store_arg(struct mesh_store_args *a, int argc, char *argv[], int *i);
/* Open it, printing "PROG: store ...: reason" on failure. */
int mesh_store_open(const struct mesh_store_args *a, struct store **s);

#endif

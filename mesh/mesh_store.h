/* mesh_store.h — how podwired and the mesh subcommands of podwirectl (status, peer) find
 * the store: one parser for the same options and defaults (--store, --store-dir,
 * --etcd-endpoints and the etcd TLS and user options, --kubeconfig), so both programs read
 * the same words the same way. */
#ifndef PODWIRE_MESH_MESH_STORE_H
#define PODWIRE_MESH_MESH_STORE_H

#include <stdbool.h>

#include "mesh/store.h"

struct mesh_store_args {
	const char *backend;	/* "file", "etcd" or "kubernetes" */
	const char *location;	/* the directory, the etcd URLs or kube_location, following the options */
	const char *dir;	/* --store-dir as given, or NULL */
	const char *etcd;	/* --etcd-endpoints as given, or NULL */
	const char *kubeconfig;	/* --kubeconfig as given, or NULL (the pod's service account) */
	/* --etcd-cacert, --etcd-cert, --etcd-key, --etcd-user, --etcd-password-file, or NULL */
	const char *etcd_cacert, *etcd_cert, *etcd_key, *etcd_user, *etcd_password_file;
	/* The etcd store's location: the URLs, then ";cacert=FILE" ... (etcd_client.h). */
	char etcd_location[8192];
	/* The Kubernetes store writes only the Node it runs on: "node=NAME[;kubeconfig=FILE]",
	 * once mesh_store_node() has named it; empty until then. */
	char kube_location[4096];
};

void mesh_store_args_default(struct mesh_store_args *a);
/* Apply store option @opt ("--store", "--store-dir", "--etcd-endpoints", "--etcd-cacert",
 * "--etcd-cert", "--etcd-key", "--etcd-user", "--etcd-password-file" or "--kubeconfig") with
 * @value. The order of the options does not matter: the --etcd-* options imply --store
 * etcd, --kubeconfig --store kubernetes, and the location is the directory for the file
 * store, the URLs and TLS and user options for etcd. The etcd password is never an option:
 * it comes from --etcd-password-file or the environment (PODWIRE_ETCD_PASSWORD). 0, or
 * -EINVAL after logging why the value is refused. */
int mesh_store_option(struct mesh_store_args *a, const char *opt, const char *value);
/* The node whose records the Kubernetes store keeps (podwired's --name): sets the location
 * of that store. 0, or -ENAMETOOLONG. Nothing to do for the other backends. */
int mesh_store_node(struct mesh_store_args *a, const char *node);
/* Is @opt one of the --etcd-* options that take a value (all but --etcd-endpoints)? */
bool mesh_store_etcd_option(const char *opt);
/* If argv[*i] is a store option, consume it (and its value) and return 1; 0 if it is not
 * one; -1 after printing an error. */
int mesh_store_arg(struct mesh_store_args *a, int argc, char *argv[], int *i);
/* Open it, printing "PROG: store ...: reason" on failure (the Kubernetes store only once a
 * node is named). */
int mesh_store_open(const struct mesh_store_args *a, struct store **s);

#endif

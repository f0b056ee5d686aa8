/* mesh_store.c — the store options shared by podwired and `podwirectl status|peer`
 * (see mesh_store.h). */
#include "mesh/mesh_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

#define MESH_STORE_DEFAULT_DIR "/var/lib/podwire/store"
#define MESH_STORE_DEFAULT_ETCD "http://127.0.0.1:2379"

void mesh_store_args_default(struct mesh_store_args *a)
{
	a->backend = "file";
	a->location = MESH_STORE_DEFAULT_DIR;
	a->dir = NULL;
	a->etcd = NULL;
	a->kubeconfig = NULL;
	a->kube_location[0] = '\0';
	a->etcd_cacert = a->etcd_cert = a->etcd_key = a->etcd_user = a->etcd_password_file = NULL;
	a->etcd_location[0] = '\0';
}

static const char *const etcd_options[] = {
	"--etcd-cacert", "--etcd-cert", "--etcd-key", "--etcd-user", "--etcd-password-file",
};

bool mesh_store_etcd_option(const char *opt)
{
	for (size_t i = 0; i < sizeof(etcd_options) / sizeof(etcd_options[0]); i++)
		if (!strcmp(opt, etcd_options[i]))
			return true;
	return false;
}

/* The etcd location: "URLS;cacert=FILE;..." as etcd_client.h reads it. */
static int etcd_location(struct mesh_store_args *a)
{
	const char *names[] = { "cacert", "cert", "key", "user", "password-file" };
	const char *values[] = { a->etcd_cacert, a->etcd_cert, a->etcd_key, a->etcd_user, a->etcd_password_file };
	size_t len = sizeof(a->etcd_location);
	int n = snprintf(a->etcd_location, len, "%s", a->etcd ? a->etcd : MESH_STORE_DEFAULT_ETCD);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n >= 0 && (size_t)n < len; i++)
		if (values[i])
			n += snprintf(a->etcd_location + n, len - n, ";%s=%s", names[i], values[i]);
	if (n < 0 || (size_t)n >= len) {
		log_err("--etcd-*: the etcd options are too long");
		a->etcd_location[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

int mesh_store_option(struct mesh_store_args *a, const char *opt, const char *value)
{
	if (!strcmp(opt, "--store")) {
		if (strcmp(value, "file") && strcmp(value, "etcd") && strcmp(value, "kubernetes")) {
			log_err("--store: '%s' is not file, etcd or kubernetes", value);
			return -EINVAL;
		}
		a->backend = value;
	} else if (!strcmp(opt, "--store-dir")) {
		a->dir = value;
	} else if (!strcmp(opt, "--etcd-endpoints")) {
		if (strchr(value, ';')) {
			log_err("--etcd-endpoints: '%s': URLs are separated by ',', and have no ';'", value);
			return -EINVAL;
		}
		a->backend = "etcd";
		a->etcd = value;
	} else if (mesh_store_etcd_option(opt)) {
		const char **slot[] = { &a->etcd_cacert, &a->etcd_cert, &a->etcd_key, &a->etcd_user, &a->etcd_password_file };

		/* ';' separates the fields of the etcd store's location. */
		if (!*value || strchr(value, ';')) {
			log_err("%s: '%s': empty, or has a ';'", opt, value);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(etcd_options) / sizeof(etcd_options[0]); i++)
			if (!strcmp(opt, etcd_options[i]))
				*slot[i] = value;
		a->backend = "etcd";
	} else if (!strcmp(opt, "--kubeconfig")) {
		/* ';' separates the fields of the Kubernetes store's location. */
		if (strchr(value, ';')) {
			log_err("--kubeconfig: '%s': a path with ';' is not supported", value);
			return -EINVAL;
		}
		a->backend = "kubernetes";
		a->kubeconfig = value;
	} else {
		log_err("%s: not a store option", opt);
		return -EINVAL;
	}
	if (!strcmp(a->backend, "etcd")) {
		if (etcd_location(a))
			return -EINVAL;
		a->location = a->etcd_location;
	}
	else if (!strcmp(a->backend, "kubernetes"))
		a->location = a->kube_location;
	else
		a->location = a->dir ? a->dir : MESH_STORE_DEFAULT_DIR;
	return 0;
}

int mesh_store_node(struct mesh_store_args *a, const char *node)
{
	int n;

	if (strcmp(a->backend, "kubernetes"))
		return 0;
	n = snprintf(a->kube_location, sizeof(a->kube_location), "node=%s%s%s", node,
		     a->kubeconfig ? ";kubeconfig=" : "", a->kubeconfig ? a->kubeconfig : "");
	if (n < 0 || (size_t)n >= sizeof(a->kube_location)) {
		log_err("--kubeconfig: '%s': path too long", a->kubeconfig ? a->kubeconfig : "");
		a->kube_location[0] = '\0';
		return -ENAMETOOLONG;
	}
	a->location = a->kube_location;
	return 0;
}

int mesh_store_arg(struct mesh_store_args *a, int argc, char *argv[], int *i)
{
	const char *opt = argv[*i];

	if (strcmp(opt, "--store") && strcmp(opt, "--store-dir") && strcmp(opt, "--etcd-endpoints") &&
	    !mesh_store_etcd_option(opt))
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "%s: %s needs a value\n", log_prog(), opt);
		return -1;
	}
	(*i)++;
	return mesh_store_option(a, opt, argv[*i]) ? -1 : 1;
}

int mesh_store_open(const struct mesh_store_args *a, struct store **s)
{
	int ret;

	if (!*a->location) {
		fprintf(stderr, "%s: store %s: needs the node it runs for (podwired --name)\n", log_prog(), a->backend);
		return -EINVAL;
	}
	ret = store_open(s, a->backend, a->location, 0);

	if (ret)
		fprintf(stderr, "%s: store %s %s: %s%s\n", log_prog(), a->backend, a->location, strerror(-ret),
			ret == -ENOENT && !strcmp(a->backend, "file") ?
				" (is the shared store mounted? podwired makes one only with --store-dir-create)" : "");
	return ret;
}

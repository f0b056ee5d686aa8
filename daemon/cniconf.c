/* cniconf.c — the node's CNI conflist from a template (see cniconf.h). */
#include "daemon/cniconf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "lib/fdio.h"
#include "lib/log.h"

/* manifests/10-podwire.conflist; tests/integration/readme_walkthrough.sh checks that
 * they stay the same. The ranges are replaced by the node's pod CIDRs. */
static const char builtin_template[] =
	"{\n"
	"  \"cniVersion\": \"1.1.0\",\n"
	"  \"name\": \"podwire\",\n"
	"  \"plugins\": [\n"
	"    {\n"
	"      \"type\": \"podwire\",\n"
	"      \"interface\": \"wg-pods\",\n"
	"      \"mtu\": 1420,\n"
	"      \"logFile\": \"/var/log/podwire/cni.log\",\n"
	"      \"ipam\": {\n"
	"        \"type\": \"podwire-ipam\",\n"
	"        \"dataDir\": \"/var/lib/cni/networks\",\n"
	"        \"ranges\": [],\n"
	"        \"routes\": [\n"
	"          { \"dst\": \"0.0.0.0/0\" },\n"
	"          { \"dst\": \"::/0\" }\n"
	"        ]\n"
	"      }\n"
	"    },\n"
	"    {\n"
	"      \"type\": \"portmap\",\n"
	"      \"capabilities\": { \"portMappings\": true },\n"
	"      \"snat\": true\n"
	"    }\n"
	"  ]\n"
	"}\n";

static cJSON *podwire_plugin(cJSON *root)
{
	cJSON *plugins = cJSON_GetObjectItemCaseSensitive(root, "plugins"), *p;

	if (!cJSON_IsArray(plugins)) {
		p = cJSON_GetObjectItemCaseSensitive(root, "type");
		return cJSON_IsString(p) && !strcmp(p->valuestring, "podwire") ? root : NULL;
	}
	cJSON_ArrayForEach(p, plugins) {
		cJSON *type = cJSON_GetObjectItemCaseSensitive(p, "type");

		if (cJSON_IsObject(p) && cJSON_IsString(type) && !strcmp(type->valuestring, "podwire"))
			return p;
	}
	return NULL;
}

static cJSON *ranges_for(const struct ip_prefix *pod_cidrs, size_t n)
{
	cJSON *ranges = cJSON_CreateArray();

	/* One range set per pod CIDR: IPAM gives a pod one address from each set. */
	for (size_t i = 0; ranges && i < n; i++) {
		char c[IP_PREFIX_STRLEN];
		cJSON *set = cJSON_CreateArray(), *range = cJSON_CreateObject();

		ip_prefix_format(&pod_cidrs[i], c, sizeof(c));
		if (!set || !range || !cJSON_AddStringToObject(range, "subnet", c)) {
			cJSON_Delete(set);
			cJSON_Delete(range);
			cJSON_Delete(ranges);
			return NULL;
		}
		cJSON_AddItemToArray(set, range);
		cJSON_AddItemToArray(ranges, set);
	}
	return ranges;
}

/* A pod gets no address of a family the node has no pod CIDR of (IPv4-only nodes with the
 * dual-stack template): a default route of that family would have no source. */
static void drop_routes_without_range(cJSON *ipam, const struct ip_prefix *pod_cidrs, size_t n)
{
	cJSON *routes = cJSON_GetObjectItemCaseSensitive(ipam, "routes");
	bool has[2] = { false, false };

	for (size_t i = 0; i < n; i++)
		has[pod_cidrs[i].addr.family == AF_INET6] = true;
	if (!cJSON_IsArray(routes) || !n)
		return;
	for (int i = cJSON_GetArraySize(routes) - 1; i >= 0; i--) {
		cJSON *dst = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(routes, i), "dst");
		struct ip_prefix p;

		if (cJSON_IsString(dst) && !ip_prefix_parse(&p, dst->valuestring) && !has[p.addr.family == AF_INET6])
			cJSON_DeleteItemFromArray(routes, i);
	}
}

int cniconf_render(const char *template_text, const char *ifname, unsigned int mtu, const struct ip_prefix *pod_cidrs,
		   size_t n,
		   char **out, char *err, size_t err_len)
{
	cJSON *root = cJSON_Parse(template_text ? template_text : builtin_template), *plugin, *ipam, *ranges;
	char *text;
	int ret = -ENOMEM;

	*out = NULL;
	if (!root || !cJSON_IsObject(root)) {
		snprintf(err, err_len, "not a JSON object");
		cJSON_Delete(root);
		return -EINVAL;
	}
	plugin = podwire_plugin(root);
	if (!plugin) {
		snprintf(err, err_len, "no plugin of type \"podwire\" in it");
		cJSON_Delete(root);
		return -EINVAL;
	}
	ipam = cJSON_GetObjectItemCaseSensitive(plugin, "ipam");
	if (ipam && !cJSON_IsObject(ipam)) {
		snprintf(err, err_len, "the podwire plugin's \"ipam\" is not an object");
		cJSON_Delete(root);
		return -EINVAL;
	}
	if (!ipam) {
		ipam = cJSON_AddObjectToObject(plugin, "ipam");
		if (!ipam || !cJSON_AddStringToObject(ipam, "type", "podwire-ipam"))
			goto out;
	}
	ranges = ranges_for(pod_cidrs, n);
	if (!ranges)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(ipam, "ranges");
	cJSON_AddItemToObject(ipam, "ranges", ranges);
	drop_routes_without_range(ipam, pod_cidrs, n);
	cJSON_DeleteItemFromObjectCaseSensitive(plugin, "interface");
	if (!cJSON_AddStringToObject(plugin, "interface", ifname))
		goto out;
	/* The pods' MTU: the plugin reads the interface's too, but only while it exists. */
	if (mtu) {
		cJSON_DeleteItemFromObjectCaseSensitive(plugin, "mtu");
		if (!cJSON_AddNumberToObject(plugin, "mtu", mtu))
			goto out;
	}
	text = cJSON_Print(root);
	if (!text)
		goto out;
	if (asprintf(out, "%s\n", text) < 0)
		*out = NULL;
	cJSON_free(text);
	ret = *out ? 0 : -ENOMEM;
out:
	if (ret)
		snprintf(err, err_len, "%s", strerror(-ret));
	cJSON_Delete(root);
	return ret;
}

void cniconf_file_name(const char *template_path, char *name, size_t len)
{
	const char *base = template_path ? strrchr(template_path, '/') : NULL;

	base = base ? base + 1 : template_path;
	snprintf(name, len, "%s", base && *base ? base : CNICONF_DEFAULT_NAME);
}

static int read_text(const char *path, char **text)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	/* A network configuration is a few hundred bytes; 1 MiB is more than any template. */
	ret = fd_read_all(fd, 1U << 20, text);
	close(fd);
	return ret;
}

static int write_atomic(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* A dot file: runtimes load only *.conf, *.conflist and *.json from the directory. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = fd_write_all(fd, text, strlen(text));
	if (!ret && (fchmod(fd, 0644) || fsync(fd)))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int cniconf_write(const char *dir, const char *template_path, const char *ifname, unsigned int mtu,
		  const struct ip_prefix *pod_cidrs, size_t n, int *changed, char *err, size_t err_len)
{
	char name[NAME_MAX + 1], path[PATH_MAX], why[256], *template_text = NULL, *text = NULL, *old = NULL;
	int ret;

	*changed = 0;
	cniconf_file_name(template_path, name, sizeof(name));
	if (template_path) {
		ret = read_text(template_path, &template_text);
		if (ret) {
			snprintf(err, err_len, "template %s: %s", template_path, strerror(-ret));
			return ret;
		}
	}
	ret = cniconf_render(template_text, ifname, mtu, pod_cidrs, n, &text, why, sizeof(why));
	free(template_text);
	if (ret) {
		snprintf(err, err_len, "template %s: %s", template_path ? template_path : "(built-in)", why);
		return ret;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!read_text(path, &old) && !strcmp(old, text))
		goto out;
	ret = write_atomic(dir, name, text);
	if (ret)
		snprintf(err, err_len, "%s: cannot write: %s", path, strerror(-ret));
	else
		*changed = 1;
out:
	free(old);
	free(text);
	return ret;
}

int cniconf_remove(const char *dir, const char *template_path)
{
	char name[NAME_MAX + 1], path[PATH_MAX];

	cniconf_file_name(template_path, name, sizeof(name));
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return unlink(path) && errno != ENOENT ? -errno : 0;
}

int cniconf_update(const char *dir, const char *template_path, const char *ifname, unsigned int mtu,
		   const struct ip_prefix *pod_cidrs, size_t n)
{
	char err[PATH_MAX + 256] = "", name[NAME_MAX + 1];
	int changed, ret = cniconf_write(dir, template_path, ifname, mtu, pod_cidrs, n, &changed, err, sizeof(err));

	if (ret) {
		log_err("CNI config: %s", err);
		return ret;
	}
	cniconf_file_name(template_path, name, sizeof(name));
	log_info("CNI config %s/%s %s for the pod CIDRs of this node (MTU %u)", dir, name,
		 changed ? "written" : "already up to date", mtu);
	return 0;
}

/* device.c — the device API's front door: sends each call to the backend that runs the
 * interface.
 *
 * The backend is chosen per interface the way wg(8)'s ipc.c does: a UAPI socket
 * /var/run/wireguard/NAME.sock that answers means a userspace datapath (podwire-wg or
 * wireguard-go), otherwise the kernel module over generic netlink. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/device.h"
#include "datapath/netlink.h"
#include "datapath/rollback.h"
#include "datapath/uapi_client.h"

const char *datapath_kind_name(enum datapath_kind kind)
{
	switch (kind) {
	case DATAPATH_KERNEL:
		return "kernel";
	case DATAPATH_USERSPACE:
		return "userspace";
	default:
		return "none";
	}
}

enum datapath_kind device_kind(const char *name)
{
	if (uapi_has_interface(name))
		return DATAPATH_USERSPACE;
	if (kernel_has_interface(name))
		return DATAPATH_KERNEL;
	return DATAPATH_NONE;
}

int device_get(struct wgdevice **dev, const char *name)
{
	*dev = NULL;
	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	if (uapi_has_interface(name))
		return uapi_get_device(dev, name);
	return kernel_get_device(dev, name);
}

static int backend_set(struct wgdevice *dev, bool uapi, char *err, size_t err_len)
{
	return uapi ? uapi_set_device(dev, err, err_len) : kernel_set_device(dev, err, err_len);
}

/* Neither backend applies a set atomically (rollback.h), so read the device first and, if
 * the set fails, put back what it may have changed, and say whether that worked. */
int device_set(struct wgdevice *dev, char *err, size_t err_len)
{
	struct wgdevice *before = NULL, *plan = NULL;
	bool uapi;
	int ret;
	size_t off;

	if (err && err_len)
		err[0] = '\0';
	if (!dev->name[0] || strnlen(dev->name, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
	uapi = uapi_has_interface(dev->name);
	if ((uapi ? uapi_get_device(&before, dev->name) : kernel_get_device(&before, dev->name)) < 0)
		before = NULL;
	ret = backend_set(dev, uapi, err, err_len);
	if (ret == -EADDRINUSE && (dev->flags & WGDEVICE_HAS_LISTEN_PORT) && err && err_len) {
		/* Name the port: "Address already in use" alone does not say which. */
		char backend[256];

		snprintf(backend, sizeof(backend), "%s", err);
		snprintf(err, err_len, "listen port %u is already in use%s%s%s", dev->listen_port,
			 backend[0] ? " (" : "", backend, backend[0] ? ")" : "");
	}
	if (!ret || !before)
		goto out;
	off = err ? strlen(err) : 0;
	if (!rollback_plan(&plan, before, dev) && !backend_set(plan, uapi, NULL, 0)) {
		if (err && off < err_len)
			snprintf(err + off, err_len - off, DEVICE_SET_RESTORED_NOTE);
	} else if (err && off < err_len) {
		snprintf(err + off, err_len - off, DEVICE_SET_PARTIAL_NOTE);
	}
out:
	wgdevice_free(before);
	wgdevice_free(plan);
	return ret;
}

/* Length of a NUL-separated list ending with an empty string, without that last NUL. */
static size_t name_list_len(const char *names)
{
	const char *p = names;

	while (*p)
		p += strlen(p) + 1;
	return (size_t)(p - names);
}

/* As wg(8)'s ipc_list_devices: the kernel's interfaces in RTM_GETLINK dump order, then the
 * UAPI sockets in readdir order, neither sorted nor merged (wg prints a name that is both
 * a kernel link and a socket twice, and so do we). */
int device_list(char **names)
{
	char *kernel = NULL, *user = NULL, *out;
	size_t klen = 0, ulen;
	int ret;

	*names = NULL;
	ret = kernel_list_devices(&kernel);
	/* No wireguard family just means no kernel devices. */
	if (ret == -EPROTONOSUPPORT)
		ret = 0;
	if (ret < 0)
		goto out;
	ret = uapi_list_devices(&user);
	if (ret < 0)
		goto out;
	if (kernel)
		klen = name_list_len(kernel);
	ulen = name_list_len(user);
	out = malloc(klen + ulen + 1);
	if (!out) {
		ret = -ENOMEM;
		goto out;
	}
	if (klen)
		memcpy(out, kernel, klen);
	memcpy(out + klen, user, ulen);
	out[klen + ulen] = '\0';
	*names = out;
	ret = 0;
out:
	free(kernel);
	free(user);
	return ret;
}

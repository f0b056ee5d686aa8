/* link.c — create and delete WireGuard interfaces, choosing the datapath.
 *
 * The kernel way is rtnetlink's RTM_NEWLINK with IFLA_INFO_KIND "wireguard" (what
 * `ip link add NAME type wireguard` sends). A kernel without the module answers
 * EOPNOTSUPP; then, like wg-quick, we start a userspace implementation with the interface
 * name as its only argument ($WG_QUICK_USERSPACE_IMPLEMENTATION, else podwire-wg), which
 * daemonizes, creates a TUN device and listens on /var/run/wireguard/NAME.sock. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "datapath/link.h"
#include "datapath/uapi_client.h"
#include "lib/log.h"
#include "lib/nlroute.h"
#include "lib/spawn.h"

#define USERSPACE_DEFAULT "podwire-wg"
/* How long a userspace datapath may take to show its socket and link. */
#define USERSPACE_WAIT_MS 5000

static int kernel_link_create(const char *name)
{
	struct nl_sock *sk;
	struct rtnl_link *link = rtnl_link_alloc();
	int ret;

	if (!link)
		return -ENOMEM;
	ret = nlroute_open(&sk);
	if (ret < 0) {
		rtnl_link_put(link);
		return ret;
	}
	rtnl_link_set_name(link, name);
	ret = rtnl_link_set_type(link, "wireguard");
	if (ret >= 0)
		ret = rtnl_link_add(sk, link, NLM_F_CREATE | NLM_F_EXCL);
	ret = nlroute_errno(ret);
	rtnl_link_put(link);
	nlroute_close(sk);
	return ret;
}

static bool link_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

static bool is_executable(const char *path)
{
	return !access(path, X_OK);
}

/* The userspace program: $WG_QUICK_USERSPACE_IMPLEMENTATION, else podwire-wg beside the
 * running binary (a build tree or /usr/local/bin), else podwire-wg from PATH. */
static int find_userspace(char *out, size_t len)
{
	const char *env = getenv("WG_QUICK_USERSPACE_IMPLEMENTATION");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((size_t)snprintf(out, len, "%s/%s", dirname(self), USERSPACE_DEFAULT) < len && is_executable(out))
			return 0;
	}
	const char *path = getenv("PATH");

	for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
		size_t dlen = strcspn(p, ":");

		if (dlen && (size_t)snprintf(out, len, "%.*s/%s", (int)dlen, p, USERSPACE_DEFAULT) < len &&
		    is_executable(out))
			return 0;
		p += dlen;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int userspace_link_create(const char *name, const char *prog)
{
	char sock[PATH_MAX];
	struct stat st;
	pid_t pid;
	int status, waited;

	/* A socket left by a datapath that died is in the way of the new one. */
	snprintf(sock, sizeof(sock), "%s/%s.sock", UAPI_SOCKET_DIR, name);
	if (!stat(sock, &st) && !uapi_has_interface(name))
		unlink(sock);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		spawn_child_reset_signals();
		execlp(prog, prog, name, (char *)NULL);
		fprintf(stderr, "%s: cannot run %s: %s\n", log_prog(), prog, strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		log_err("%s: userspace datapath %s failed (%s %d)", name, prog,
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -ECHILD;
	}
	for (waited = 0; waited < USERSPACE_WAIT_MS; waited += 20) {
		if (uapi_has_interface(name) && link_exists(name))
			return 0;
		sleep_ms(20);
	}
	log_err("%s: %s started but %s did not appear within %d ms", name, prog, sock, USERSPACE_WAIT_MS);
	return -ETIMEDOUT;
}

int link_create(const char *name, enum datapath_choice choice, enum datapath_kind *used)
{
	char prog[PATH_MAX];
	int ret;

	if (used)
		*used = DATAPATH_NONE;
	if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -EINVAL;
	if (link_exists(name))
		return -EEXIST;
	if (uapi_has_interface(name)) {
		/* /var/run/wireguard is one directory for every network namespace: a userspace
		 * interface of the same name elsewhere holds the socket this one needs. */
		log_err("%s: UAPI socket %s/%s.sock is in use by a userspace WireGuard whose interface is not in "
			"this network namespace (every namespace shares that directory): choose another interface name",
			name, UAPI_SOCKET_DIR, name);
		return -EADDRINUSE;
	}
	if (choice != DATAPATH_CHOICE_USERSPACE) {
		ret = kernel_link_create(name);
		if (!ret) {
			log_info("%s: using kernel WireGuard datapath", name);
			if (used)
				*used = DATAPATH_KERNEL;
			return 0;
		}
		if (ret != -EOPNOTSUPP || choice == DATAPATH_CHOICE_KERNEL)
			return ret;
	}
	if (find_userspace(prog, sizeof(prog)) < 0) {
		log_err("%s: kernel has no WireGuard and no userspace datapath (%s) was found", name,
			USERSPACE_DEFAULT);
		return -EOPNOTSUPP;
	}
	if (choice == DATAPATH_CHOICE_USERSPACE)
		log_info("%s: using userspace datapath %s", name, prog);
	else
		log_info("%s: kernel has no WireGuard, using userspace datapath %s", name, prog);
	ret = userspace_link_create(name, prog);
	if (!ret && used)
		*used = DATAPATH_USERSPACE;
	return ret;
}

int link_delete(const char *name)
{
	char sock[PATH_MAX];
	struct nl_sock *sk;
	struct stat st;
	int ret;

	if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -EINVAL;
	ret = nlroute_open(&sk);
	if (ret < 0)
		return ret;
	ret = nlroute_link_delete(sk, name);
	nlroute_close(sk);
	/* The userspace datapath exits when its TUN goes; give it a moment, then clear a
	 * socket it left behind. */
	snprintf(sock, sizeof(sock), "%s/%s.sock", UAPI_SOCKET_DIR, name);
	for (int waited = 0; waited < 1000 && !stat(sock, &st); waited += 20) {
		if (!uapi_has_interface(name))
			break;
		sleep_ms(20);
	}
	if (!stat(sock, &st) && !uapi_has_interface(name))
		unlink(sock);
	return ret;
}

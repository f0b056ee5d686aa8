/* tun: the interface behind a TUN fd, followed into another network namespace and seen to
 * go when that namespace goes. A real TUN device and a real namespace (no mock can say what
 * the kernel does on a move), so it needs CAP_NET_ADMIN and CAP_SYS_ADMIN: skipped without. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netlink/route/link.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "datapath/userspace/tun.h"

/* A fresh network namespace, as an fd; the calling thread stays where it was. */
static int new_netns(void)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1;

	assert_true(home >= 0);
	if (unshare(CLONE_NEWNET) == 0) {
		fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		assert_int_equal(setns(home, CLONE_NEWNET), 0);
	}
	close(home);
	return fd;
}

/* ip link set @name netns @ns_fd */
static void move_link(const char *name, int ns_fd)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *orig = NULL, *change = rtnl_link_alloc();

	assert_non_null(sk);
	assert_int_equal(nl_connect(sk, NETLINK_ROUTE), 0);
	assert_int_equal(rtnl_link_get_kernel(sk, 0, name, &orig), 0);
	rtnl_link_set_ns_fd(change, ns_fd);
	assert_int_equal(rtnl_link_change(sk, orig, change, 0), 0);
	rtnl_link_put(orig);
	rtnl_link_put(change);
	nl_socket_free(sk);
}

/* ip -n NS link set @name mtu @mtu */
static void set_mtu_in(int ns_fd, const char *name, int mtu)
{
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC), fd;
	struct ifreq ifr = { .ifr_mtu = mtu };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(setns(ns_fd, CLONE_NEWNET), 0);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(ioctl(fd, SIOCSIFMTU, &ifr), 0);
	close(fd);
	assert_int_equal(setns(home, CLONE_NEWNET), 0);
	close(home);
}

static void test_follows_a_move_and_sees_deletion(void **state)
{
	struct wg_tun_ctl ctl;
	char name[IFNAMSIZ], now[IFNAMSIZ];
	int fd, ns, i, ret = 0;

	(void)state;
	snprintf(name, sizeof(name), "pwut%d", (int)getpid() % 100000);
	fd = wg_tun_open(name);
	if (fd == -EPERM || fd == -EACCES || fd == -ENOENT)
		skip(); /* no CAP_NET_ADMIN or no /dev/net/tun */
	assert_true(fd >= 0);
	assert_int_equal(wg_tun_ctl_init(&ctl), 0);
	assert_int_equal(wg_tun_name(fd, now), 0);
	assert_string_equal(now, name);
	assert_int_equal(wg_tun_mtu(&ctl, fd), WG_TUN_DEFAULT_MTU);

	ns = new_netns();
	if (ns < 0) {
		wg_tun_ctl_free(&ctl);
		close(fd);
		skip(); /* no CAP_SYS_ADMIN */
	}
	move_link(name, ns);
	assert_int_equal(if_nametoindex(name), 0); /* gone from here... */
	assert_int_equal(wg_tun_name(fd, now), 0); /* ...but not deleted */
	set_mtu_in(ns, name, 1300);
	assert_int_equal(wg_tun_mtu(&ctl, fd), 1300);
	assert_int_equal(if_nametoindex(name), 0); /* the lookup came back home */

	/* Nothing else holds the namespace: it goes, and takes the interface (asynchronously). */
	close(ns);
	for (i = 0; i < 500; i++) {
		ret = wg_tun_name(fd, now);
		if (ret)
			break;
		usleep(10000);
	}
	assert_int_equal(ret, -ENODEV);
	assert_int_equal(wg_tun_mtu(&ctl, fd), -ENODEV);
	wg_tun_ctl_free(&ctl);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_follows_a_move_and_sees_deletion),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

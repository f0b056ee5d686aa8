/* IPAM disk store: host-local's file layout (IP file = "ID\r\nIFNAME", last_reserved_ip.N),
 * exclusive reservation, release, listing, and the flock that makes concurrent processes
 * hand out distinct addresses (forked children race on one network directory). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "ipam/allocator.h"
#include "ipam/disk.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/pc-unit-disk.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct ip_addr addr(const char *s)
{
	struct ip_addr a;

	assert_int_equal(ip_addr_parse(&a, s), 0);
	return a;
}

static int count_visit(const struct ip_addr *a, const char *id, const char *ifname, void *ctx)
{
	(void)a;
	(void)id;
	(void)ifname;
	(*(int *)ctx)++;
	return 0;
}

static void test_layout_and_lifecycle(void **state)
{
	struct ipam_disk d;
	struct ip_addr a = addr("10.4.0.7"), last;
	char path[128], buf[64];
	int fd, n = 0;
	ssize_t len;

	(void)state;
	assert_int_equal(ipam_disk_open(&d, dir, "net1"), 0);
	assert_int_equal(ipam_disk_lock(&d, 0), 0);
	assert_false(ipam_disk_is_reserved(&d, &a));
	assert_int_equal(ipam_disk_reserve(&d, &a, "ctr1", "eth0"), 0);
	assert_true(ipam_disk_is_reserved(&d, &a));
	assert_int_equal(ipam_disk_reserve(&d, &a, "ctr2", "eth0"), -EEXIST);
	snprintf(path, sizeof(path), "%s/net1/10.4.0.7", dir);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(len, 10);
	buf[len] = '\0';
	assert_string_equal(buf, "ctr1\r\neth0");	/* host-local's format */
	assert_int_equal(ipam_disk_last_reserved(&d, 0, &last), -ENOENT);
	assert_int_equal(ipam_disk_set_last_reserved(&d, 0, &a), 0);
	assert_int_equal(ipam_disk_last_reserved(&d, 0, &last), 0);
	assert_true(ip_addr_equal(&last, &a));
	a = addr("fd00:4::9");
	assert_int_equal(ipam_disk_reserve(&d, &a, "ctr1", "net1"), 0);
	assert_int_equal(ipam_disk_foreach(&d, count_visit, &n), 0);
	assert_int_equal(n, 2);	/* lock and last_reserved_ip.0 are not reservations */
	assert_int_equal(ipam_disk_release(&d, &a), 0);
	assert_int_equal(ipam_disk_release(&d, &a), -ENOENT);
	ipam_disk_unlock(&d);
	ipam_disk_close(&d);
}

static bool reserved(const struct ip_addr *a, void *ctx)
{
	return ipam_disk_is_reserved(ctx, a);
}

/* Each child allocates like podwire-ipam ADD does: lock, pick, reserve, unlock. */
static int child_allocate(int id)
{
	struct ipam_range_set set = { .n = 1 };
	struct ipam_disk d;
	struct ip_addr a, last;
	unsigned int ri;
	char name[16];
	int ret;

	set.ranges[0].subnet.addr = addr("10.5.0.0");
	set.ranges[0].subnet.cidr = 24;
	set.ranges[0].start = addr("10.5.0.2");
	set.ranges[0].end = addr("10.5.0.254");
	if (ipam_disk_open(&d, dir, "race") || ipam_disk_lock(&d, 0))
		return 1;
	ret = ipam_allocate(&set, ipam_disk_last_reserved(&d, 0, &last) ? NULL : &last, reserved, &d, &a, &ri);
	snprintf(name, sizeof(name), "c%d", id);
	if (!ret)
		ret = ipam_disk_reserve(&d, &a, name, "eth0");
	if (!ret)
		ret = ipam_disk_set_last_reserved(&d, 0, &a);
	ipam_disk_unlock(&d);
	ipam_disk_close(&d);
	return ret ? 1 : 0;
}

static void test_concurrent_processes_get_distinct_addresses(void **state)
{
	enum { N = 50 };
	struct ipam_disk d;
	pid_t pids[N];
	int status, n = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child_allocate(i));
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	/* Every child succeeded and each holds its own file: 50 distinct addresses. */
	assert_int_equal(ipam_disk_open(&d, dir, "race"), 0);
	assert_int_equal(ipam_disk_foreach(&d, count_visit, &n), 0);
	ipam_disk_close(&d);
	assert_int_equal(n, N);
}

static void test_lock_timeout(void **state)
{
	struct ipam_disk holder, waiter;
	int ready[2];
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Another plugin process sits on the lock for longer than the waiter waits. */
		if (ipam_disk_open(&holder, dir, "busy") || ipam_disk_lock(&holder, 0))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		sleep(3);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(ipam_disk_open(&waiter, dir, "busy"), 0);
	assert_int_equal(ipam_disk_lock(&waiter, 1), -ETIMEDOUT);
	ipam_disk_close(&waiter);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* Once the holder is gone (the kernel drops its flock), the lock is free again. */
	assert_int_equal(ipam_disk_open(&waiter, dir, "busy"), 0);
	assert_int_equal(ipam_disk_lock(&waiter, 1), 0);
	ipam_disk_close(&waiter);
	close(ready[0]);
	close(ready[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_layout_and_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_processes_get_distinct_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_timeout, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

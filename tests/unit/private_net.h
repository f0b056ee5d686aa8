/* For unit tests that start real servers on fixed 127.0.0.1 ports (etcd): run in a network
 * namespace of their own, so that a port taken on the machine (another suite running at the
 * same time, a stray server) can neither fail the test nor answer in place of its own server. */
#ifndef PODWIRE_TESTS_PRIVATE_NET_H
#define PODWIRE_TESTS_PRIVATE_NET_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

/* 0 when the process now has its own network namespace with lo up; -errno otherwise (not
 * root), and the test then runs on the machine's network as before. */
static inline int private_net_enter(const char *test)
{
	if (unshare(CLONE_NEWNET)) {
		int err = errno;

		fprintf(stderr, "%s: no network namespace of its own (%s): using the machine's 127.0.0.1\n", test,
			strerror(err));
		return -err;
	}
	if (system("ip link set lo up")) {
		fprintf(stderr, "%s: cannot bring lo up in its network namespace\n", test);
		return -EIO;
	}
	return 0;
}

#endif

/* datapath_hold.c — keep the WireGuard interface alive apart from podwired (see
 * datapath_hold.h). */
#include "daemon/datapath_hold.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/log.h"

static int ensure(const char *ifname, enum datapath_choice choice)
{
	enum datapath_kind used = DATAPATH_NONE;
	int ret;

	if (device_kind(ifname) != DATAPATH_NONE)
		return 0;
	ret = link_create(ifname, choice, &used);
	if (ret == -EEXIST)
		return 0;
	if (ret)
		log_err("%s: cannot create the WireGuard interface: %s", ifname, strerror(-ret));
	else
		log_info("%s: %s datapath up; podwired --datapath external configures it", ifname,
			 datapath_kind_name(used));
	return ret;
}

int datapath_hold(const char *ifname, enum datapath_choice choice, int check_ms)
{
	struct signalfd_siginfo si;
	sigset_t set;
	bool gone = false;
	int sfd, ret;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return -errno;
	ret = ensure(ifname, choice);
	if (ret) {
		close(sfd);
		return ret;
	}
	for (;;) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };

		if (poll(&pfd, 1, check_ms) > 0 && read(sfd, &si, sizeof(si)) == sizeof(si))
			break;
		if (device_kind(ifname) != DATAPATH_NONE) {
			gone = false;
			continue;
		}
		if (!gone)
			log_warn("%s: the interface is gone (the datapath exited?): creating it again", ifname);
		gone = ensure(ifname, choice) != 0;
	}
	log_info("signal %u: exiting, %s stays", si.ssi_signo, ifname);
	close(sfd);
	return 0;
}

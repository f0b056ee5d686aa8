/* podwire-wg — userspace WireGuard, a drop-in for wireguard-go:
 *   podwire-wg [-f|--foreground] INTERFACE
 * Creates the TUN interface and /var/run/wireguard/INTERFACE.sock, then (unless in the
 * foreground or WG_PROCESS_FOREGROUND=1) continues in the background so that the caller
 * (wg-quick) can configure it with wg as soon as this command returns. INTERFACE may be moved
 * to another network namespace (ip link set INTERFACE netns NS): the UDP sockets stay in this
 * one, and podwire-wg stops only when the interface is deleted, wherever it then is.
 * Environment: LOG_LEVEL=verbose|debug|info|error|silent (as wireguard-go; with it set a
 * background process keeps stdout/stderr), PODWIRE_WG_CRYPT_THREADS (crypto workers besides
 * the event thread; default: CPUs - 1), PODWIRE_WG_LOAD_THRESHOLD (handshake messages with a
 * valid mac1 per second before cookies are demanded; default 512). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datapath/userspace/event_loop.h"
#include "datapath/userspace/tun.h"
#include "lib/log.h"
#include "lib/version.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: podwire-wg [-f/--foreground] INTERFACE-NAME\n       podwire-wg -v/--version\n");
}

/* wireguard-go's LOG_LEVEL: verbose|debug, error (default), silent. */
static enum log_level log_level_from_env(bool *silent)
{
	const char *v = getenv("LOG_LEVEL");

	*silent = v && !strcmp(v, "silent");
	if (v && (!strcmp(v, "verbose") || !strcmp(v, "debug")))
		return LOG_LEVEL_DEBUG;
	if (v && !strcmp(v, "info"))
		return LOG_LEVEL_INFO;
	return LOG_LEVEL_ERROR;
}

/* Crypto workers besides the event thread: one per extra CPU, or PODWIRE_WG_CRYPT_THREADS. */
static unsigned int crypt_threads(void)
{
	const char *v = getenv("PODWIRE_WG_CRYPT_THREADS");
	long n;

	if (v && *v) {
		n = strtol(v, NULL, 10);
		return n > 0 ? (unsigned int)n : 0;
	}
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 1 ? (unsigned int)(n - 1) : 0;
}

/* The daemon keeps nothing it did not open: a lock or a pipe its parent held open (a test's
 * flock, a shell's pipeline) would otherwise stay held for the interface's whole life. */
static void close_inherited_fds(void)
{
	if (close_range(STDERR_FILENO + 1, ~0U, 0) == 0)
		return;
	for (int fd = STDERR_FILENO + 1; fd < 1024; fd++) /* kernels before 5.9 */
		close(fd);
}

static int redirect_stdio(bool keep_output)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	dup2(fd, STDIN_FILENO);
	if (!keep_output) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	if (fd > STDERR_FILENO)
		close(fd);
	return 0;
}

int main(int argc, char *argv[])
{
	struct wg_uapi_server uapi;
	struct wg_loop *loop;
	const char *ifname = NULL;
	bool foreground = false, silent;
	const char *env_fg = getenv("WG_PROCESS_FOREGROUND");
	sigset_t sigs;
	int tun_fd, ret;

	log_init("podwire-wg", log_level_from_env(&silent));
	/* A daemon: a level on every line; JSON when podwired (or the caller) asks for it. */
	log_set_format(getenv("PODWIRE_LOG_FORMAT") && log_format_parse(getenv("PODWIRE_LOG_FORMAT")) == LOG_FORMAT_JSON ?
			       LOG_FORMAT_JSON : LOG_FORMAT_DAEMON);
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
		/* The shape of wireguard-go --version, which scripts and wg-quick users know. */
		printf("podwire-wg v%s\n\nUserspace WireGuard daemon for Linux, part of podwire.\n", PODWIRE_VERSION);
		return 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--foreground"))) {
		foreground = true;
		ifname = argv[2];
	} else if (argc == 2 && argv[1][0] != '-') {
		ifname = argv[1];
	} else {
		usage(stderr);
		return 1;
	}
	if (env_fg && !strcmp(env_fg, "1"))
		foreground = true;
	if (!foreground)
		close_inherited_fds();
	if (sodium_init() < 0) {
		log_err("cannot initialise libsodium");
		return 1;
	}

	if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		log_err("%s: invalid interface name: at most %d characters, no '/'", ifname, IFNAMSIZ - 1);
		return 1;
	}
	tun_fd = wg_tun_open(ifname);
	if (tun_fd < 0) {
		log_err("%s: cannot create TUN device with /dev/net/tun: %s", ifname, strerror(-tun_fd));
		return 1;
	}
	ret = wg_uapi_listen(&uapi, ifname);
	if (ret) {
		log_err("%s: cannot listen on %s/%s.sock: %s", ifname, WG_UAPI_SOCKET_DIR, ifname,
			ret == -EADDRINUSE ? "socket in use by another process" : strerror(-ret));
		close(tun_fd);
		return 1;
	}

	if (!foreground) {
		pid_t pid = fork();

		if (pid < 0) {
			log_err("%s: cannot fork: %s", ifname, strerror(errno));
			unlink(uapi.path);
			return 1;
		}
		if (pid > 0)
			return 0; /* the child owns the TUN fd and the socket now */
		setsid();
		if (chdir("/") || redirect_stdio(getenv("LOG_LEVEL") && !silent))
			return 1;
	}

	/* Signals are read from a signalfd by the loop: block them in every thread. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	loop = calloc(1, sizeof(*loop));
	if (!loop) {
		unlink(uapi.path);
		return 1;
	}
	ret = wg_loop_init(loop, ifname, tun_fd, &uapi, crypt_threads());
	if (ret == 0 && getenv("PODWIRE_WG_LOAD_THRESHOLD")) {
		/* Handshake messages per second before cookies are demanded (tests: 0). */
		pthread_mutex_lock(&loop->lock);
		loop->dev.load_threshold = (unsigned int)strtoul(getenv("PODWIRE_WG_LOAD_THRESHOLD"), NULL, 10);
		pthread_mutex_unlock(&loop->lock);
	}
	if (ret == 0) {
		log_info("%s: device started", ifname);
		ret = wg_loop_run(loop);
	} else {
		log_err("%s: cannot start: %s", ifname, strerror(-ret));
	}
	wg_loop_free(loop);
	free(loop);
	log_info("%s: shut down", ifname);
	return ret ? 1 : 0;
}

/* uapi_socket.h — the UAPI unix socket /var/run/wireguard/IFACE.sock (wireguard-go's
 * ipc/uapi_linux.go) and the thread that answers it, so that a slow client never stalls
 * the datapath. */
#ifndef PODWIRE_US_UAPI_SOCKET_H
#define PODWIRE_US_UAPI_SOCKET_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/un.h>

#include "datapath/userspace/uapi.h"

#define WG_UAPI_SOCKET_DIR "/var/run/wireguard"

struct wg_device;

struct wg_uapi_server {
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
	bool running;
	pthread_mutex_t *lock; /* held while the device is read or changed */
	struct wg_device *dev;
	struct wg_uapi_ops ops;
};

/* Create the directory (0755) and listen on IFACE.sock (mode 0700 via umask 077, as
 * wireguard-go). A stale socket nobody answers is replaced; a live one is -EADDRINUSE.
 * Returns 0 or -errno. */
int wg_uapi_listen(struct wg_uapi_server *s, const char *ifname);
/* Serve connections on a thread. Returns 0 or -errno. */
int wg_uapi_start(struct wg_uapi_server *s, struct wg_device *dev, pthread_mutex_t *lock,
		  const struct wg_uapi_ops *ops);
/* Stop the thread, close and unlink the socket. */
void wg_uapi_stop(struct wg_uapi_server *s);
/* Answer the requests of one connected client until it closes (exposed for tests). */
void wg_uapi_serve_connection(struct wg_uapi_server *s, int fd);

#endif

/* statelock.h — one podwired per state directory.
 *
 * The state directory holds the node's key: two daemons on it are two nodes with one key,
 * which the mesh cannot tell apart. A running podwired holds an flock(2) on
 * DIR/podwired.lock, whose text names it ("PID NODE"); the kernel drops the lock when the
 * process dies, so a stale file never blocks a restart. podwired takes it before it opens
 * the store, and --cleanup takes it too, so it never removes what a live daemon would put
 * back. */
#ifndef PODWIRE_DAEMON_STATELOCK_H
#define PODWIRE_DAEMON_STATELOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define STATELOCK_FILE "podwired.lock"

struct statelock_holder {
	pid_t pid;		/* 0: the holder has not written its name yet */
	char node[64];
};

/* Lock @dir for node @node (made 0700 first when @create and it is missing). Returns the
 * locked fd (close it to release; it is O_CLOEXEC, so children do not keep it), -EBUSY with
 * @holder filled when another process holds it, -ENOENT when @dir is missing and !@create,
 * or -errno. @path gets the lock file's path in every case. */
int statelock_take(const char *dir, const char *node, bool create, struct statelock_holder *holder, char *path,
		   size_t path_len);

#endif

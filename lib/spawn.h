/* spawn.h — what a forked child undoes before exec, so that the program it runs starts with
 * the signal state a shell would give it: daemons block TERM/INT/HUP/PIPE to take them on a
 * signalfd, and a blocked mask (and ignored SIGPIPE) survives exec. */
#ifndef PODWIRE_SPAWN_H
#define PODWIRE_SPAWN_H

#include <signal.h>

static inline void spawn_child_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
}

#endif

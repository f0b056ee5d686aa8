/* netns.h — a pod's network namespace given as a path (CNI_NETNS), and moving the plugin's
 * one thread into it and back (setns(2)). */
#ifndef PODWIRE_PLUGIN_NETNS_H
#define PODWIRE_PLUGIN_NETNS_H

/* Open @path and make sure it is a network namespace: 0, -ENOENT, or -EINVAL (not a netns). */
int netns_open(const char *path, int *fd);
/* The namespace this process runs in now. */
int netns_open_current(int *fd);
int netns_enter(int fd);

#endif

/* key_file.h — opening a file that holds a secret key (PrivateKeyFile, PresharedKeyFile,
 * podwired's node key) only when it is still a secret: a regular file, owned by us or root,
 * that neither group nor others can read or write. ssh insists on the same for identity
 * files; wg(8) only warns "is world accessible" about config files. */
#ifndef PODWIRE_KEY_FILE_H
#define PODWIRE_KEY_FILE_H

#include <stddef.h>

/* Open @path for reading and check it. A FIFO or device is not opened in a way that could
 * block (O_NONBLOCK), and is refused. Returns the fd, or -errno with the reason in @why:
 * -EPERM "not a regular file", "owned by uid N, not by us or root", "readable by group or
 * others (mode 0644); chmod 600 it"; other -errno with strerror. */
int key_file_open(const char *path, char *why, size_t why_len);

#endif

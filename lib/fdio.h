/* fdio.h — whole reads and writes on file descriptors, retried across EINTR and short counts. */
#ifndef PODWIRE_FDIO_H
#define PODWIRE_FDIO_H

#include <stddef.h>

/* Write all @len bytes of @buf. Returns 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);

/* Read @fd to end of file into a new NUL-terminated buffer (*out, the caller frees).
 * Returns 0, -EFBIG when more than @max bytes come, or -errno; *out is NULL on error. */
int fd_read_all(int fd, size_t max, char **out);

#endif

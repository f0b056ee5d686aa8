/* log_file.h — the CNI plugin's "logFile": a path that comes from a network config, which a
 * tenant may write (Multus), opened by a plugin running as root. */
#ifndef PODWIRE_PLUGIN_LOG_FILE_H
#define PODWIRE_PLUGIN_LOG_FILE_H

#include <stddef.h>
#include <stdio.h>

/* Where log files may be: below /var/log, or below the directory in PODWIRE_CNI_LOG_DIR
 * (the container runtime's environment, which an administrator sets and no network config
 * can). */
#define LOG_FILE_ROOT "/var/log"
#define LOG_FILE_ROOT_ENV "PODWIRE_CNI_LOG_DIR"
const char *log_file_root(void);

/* Is @path a file name below @root: absolute, no empty, "." or ".." component, not @root
 * itself? 0, or -EPERM with the reason in @why. */
int log_file_check(const char *path, const char *root, char *why, size_t why_len);

/* Open @path for appending, as log_file_check allows it: every directory below @root is
 * opened without following a symlink (missing ones are made, 0755), the file with
 * O_APPEND|O_NOFOLLOW and mode 0600 when new, and it must be a regular file with one link.
 * Returns 0 with *out set; -EPERM (refused: the reason in @why) or another -errno (the file
 * cannot be written, e.g. a read-only /var/log: the caller may log to stderr instead). */
int log_file_open(const char *path, const char *root, FILE **out, char *why, size_t why_len);

#endif

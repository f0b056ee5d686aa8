/* nodekey.h — where the node's private key comes from: made once and kept 0600, or read
 * from a file or a command's output.
 *
 * In order: a command's output (e.g. reading a Kubernetes Secret), a file, or the state
 * directory's "private.key", generated on first start with mode 0600 and kept across
 * restarts (a key changes only on purpose). A key file must be a regular file owned by us
 * or root that group and others cannot read (lib/key_file.h); anything else is refused. The key is never logged or published; callers wipe it. */
#ifndef PODWIRE_DAEMON_NODEKEY_H
#define PODWIRE_DAEMON_NODEKEY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/key.h"

struct nodekey_source {
	const char *command;	/* run with /bin/sh -c; its first line is the key */
	const char *file;
	const char *state_dir;	/* default /var/lib/podwire */
	int command_timeout_ms;	/* the command is killed after this long; 0: 30 s */
};

/* Fill @key. On error returns -errno and writes a reason (never key material) into @err. */
int nodekey_load(const struct nodekey_source *src, uint8_t key[WG_KEY_LEN], char *err, size_t err_len);

#endif

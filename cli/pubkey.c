/* pubkey: read a private key on stdin, print its public key, as wg pubkey. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/subcommands.h"
#include "lib/key.h"
#include "lib/log.h"

int pubkey_main(int argc, char *argv[])
{
	uint8_t key[WG_KEY_LEN], pub[WG_KEY_LEN];
	char base64[WG_KEY_LEN_BASE64];
	int c, ret = 1;

	if (argc != 1) {
		bool help = subcommand_help_asked(argc, argv);

		fprintf(help ? stdout : stderr, "Usage: %s %s\n", log_prog(), argv[0]);
		return help ? 0 : 1;
	}
	if (fread(base64, 1, sizeof(base64) - 1, stdin) != sizeof(base64) - 1) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", log_prog());
		goto out;
	}
	base64[WG_KEY_LEN_BASE64 - 1] = '\0';
	/* Trailing whitespace (and NULs) are fine, like wg; anything else is not. */
	while ((c = getc(stdin)) != EOF) {
		if (!c || isspace(c))
			continue;
		fprintf(stderr, "%s: Trailing characters found after key\n", log_prog());
		goto out;
	}
	if (key_from_base64(key, base64)) {
		fprintf(stderr, "%s: Key is not the correct length or format\n", log_prog());
		goto out;
	}
	key_public_from_private(pub, key);
	key_to_base64(base64, pub);
	ret = 0;
	if (puts(base64) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "%s: %s: cannot write the public key to stdout: %s\n", log_prog(), argv[0], strerror(errno));
		ret = 1;
	}
out:
	key_wipe(key, sizeof(key));
	key_wipe(base64, sizeof(base64));
	return ret;
}

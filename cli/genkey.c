/* genkey, genpsk: a fresh key on stdout, as wg genkey / wg genpsk. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/subcommands.h"
#include "lib/key.h"
#include "lib/log.h"

void warn_if_stdout_world_accessible(void)
{
	struct stat st;

	/* Same warning as wg: a private key in a file others can read is no longer private. */
	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n", stderr);
}

static int write_new_key(int argc, char *argv[], void (*generate)(uint8_t key[WG_KEY_LEN]))
{
	uint8_t key[WG_KEY_LEN];
	char base64[WG_KEY_LEN_BASE64];

	if (argc != 1) {
		bool help = subcommand_help_asked(argc, argv);

		fprintf(help ? stdout : stderr, "Usage: %s %s\n", log_prog(), argv[0]);
		return help ? 0 : 1;
	}
	warn_if_stdout_world_accessible();
	generate(key);
	key_to_base64(base64, key);
	key_wipe(key, sizeof(key));
	/* wg exits 0 in silence when stdout is full or closed (its puts() fails only in the flush
	 * at exit, which nobody checks): the same exit status here, for scripts that test it,
	 * but the user is told the key went nowhere. */
	if (fputs(base64, stdout) == EOF || putchar('\n') == EOF || fflush(stdout) == EOF) {
		int err = errno;

		key_wipe(base64, sizeof(base64));
		fprintf(stderr, "%s: %s: cannot write the key to stdout: %s\n", log_prog(), argv[0], strerror(err));
		return 0;
	}
	key_wipe(base64, sizeof(base64));
	return 0;
}

int genkey_main(int argc, char *argv[])
{
	return write_new_key(argc, argv, key_generate_private);
}

int genpsk_main(int argc, char *argv[])
{
	return write_new_key(argc, argv, key_generate_preshared);
}

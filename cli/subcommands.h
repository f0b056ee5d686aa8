/* subcommands.h — podwirectl's subcommands; each lives in its own file under cli/. */
#ifndef PODWIRE_CLI_SUBCOMMANDS_H
#define PODWIRE_CLI_SUBCOMMANDS_H

#include <stdbool.h>
#include <string.h>

struct subcommand {
	const char *name;
	int (*function)(int argc, char *argv[]);
	const char *description;
};

/* `podwirectl SUB --help' (or -h): the main help promises usage for every subcommand, on stdout
 * with exit 0; a wrong command line keeps usage on stderr with exit 1. */
static inline bool subcommand_help_asked(int argc, char *argv[])
{
	return argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
}

/* wg genkey's warning on stderr when stdout is a regular file others may read: for every
 * subcommand that prints a private key (genkey, peer add, peer config). In genkey.c. */
void warn_if_stdout_world_accessible(void);

int genkey_main(int argc, char *argv[]);
int genpsk_main(int argc, char *argv[]);
int pubkey_main(int argc, char *argv[]);
int show_main(int argc, char *argv[]);
int showconf_main(int argc, char *argv[]);
int set_main(int argc, char *argv[]);
int setconf_main(int argc, char *argv[]); /* also addconf and syncconf, by argv[0] */
int strip_main(int argc, char *argv[]);
int up_main(int argc, char *argv[]);
int down_main(int argc, char *argv[]);
int save_main(int argc, char *argv[]);
int reresolve_main(int argc, char *argv[]);
int status_main(int argc, char *argv[]);
int peer_main(int argc, char *argv[]);
int install_cni_main(int argc, char *argv[]);

#endif

/* subcommands.h — podwirectl's subcommands; each lives in its own file under cli/. */
#ifndef PODWIRE_CLI_SUBCOMMANDS_H
#define PODWIRE_CLI_SUBCOMMANDS_H

#define PODWIRE_VERSION "0.1.0"

struct subcommand {
	const char *name;
	int (*function)(int argc, char *argv[]);
	const char *description;
};

int genkey_main(int argc, char *argv[]);
int genpsk_main(int argc, char *argv[]);
int pubkey_main(int argc, char *argv[]);

#endif

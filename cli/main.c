/* podwirectl — the human tool: keys, wg-compatible device commands, wg-quick-compatible
 * up/down, and the mesh commands. Subcommands are a table, one file each, like wg(8).
 * Run by the name `wg' it offers wg(8)'s subcommands only, by `wg-quick' it is wg-quick(8)
 * (up, down, save, strip): the image links both names to it, so `docker exec wireguard wg
 * show' works as users type it. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/subcommands.h"
#include "lib/log.h"
#include "lib/version.h"

static const struct subcommand subcommands[] = {
	{ "genkey", genkey_main, "Generates a new private key and writes it to stdout" },
	{ "genpsk", genpsk_main, "Generates a new preshared key and writes it to stdout" },
	{ "pubkey", pubkey_main, "Reads a private key from stdin and writes a public key to stdout" },
	{ "show", show_main, "Shows the current configuration and device information" },
	{ "showconf", showconf_main, "Shows the current configuration of a given WireGuard interface, for use with `setconf'" },
	{ "set", set_main, "Change the current configuration, add peers, remove peers, or change peers" },
	{ "setconf", setconf_main, "Applies a configuration file to a WireGuard interface" },
	{ "addconf", setconf_main, "Appends a configuration file to a WireGuard interface" },
	{ "syncconf", setconf_main, "Synchronizes a configuration file to a WireGuard interface" },
	{ "strip", strip_main, "Prints the wg(8) part of a wg-quick config, as wg-quick strip" },
	{ "up", up_main, "Brings up a WireGuard interface from its wg-quick configuration, as wg-quick up" },
	{ "down", down_main, "Tears down an interface brought up with `up', as wg-quick down" },
	{ "save", save_main, "Writes the running state of an interface back to its configuration file" },
	{ "reresolve", reresolve_main, "Re-resolves DNS endpoints of peers without a recent handshake" },
	{ "status", status_main, "Shows the mesh: every node in the store and its peer state on this device" },
	{ "peer", peer_main, "peer add NAME: adds a client to the mesh and prints its config (QR code on a terminal); peer remove NAME" },
	{ "install-cni", install_cni_main, "Copies the CNI plugins into /opt/cni/bin (or DIR), each renamed into place" },
};

/* wg(8)'s own subcommands: what podwirectl offers when it runs as `wg'. */
static const char *const wg_names[] = { "show", "showconf", "set", "setconf", "addconf", "syncconf",
					"genkey", "genpsk", "pubkey" };
static const char *const wg_quick_names[] = { "up", "down", "save", "strip" };

static bool offered(const char *name, bool as_wg)
{
	if (!as_wg)
		return true;
	for (size_t i = 0; i < sizeof(wg_names) / sizeof(wg_names[0]); i++)
		if (!strcmp(name, wg_names[i]))
			return true;
	return false;
}

static void show_usage(FILE *f, bool as_wg)
{
	fprintf(f, "Usage: %s <cmd> [<args>]\n", log_prog());
	fprintf(f, "With no subcommand, %s shows every interface, as `%s show'.\n\n", log_prog(), log_prog());
	fprintf(f, "Available subcommands:\n");
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (offered(subcommands[i].name, as_wg))
			fprintf(f, "  %s: %s\n", subcommands[i].name, subcommands[i].description);
	fprintf(f, "You may pass `--help' to any of these subcommands to view usage.\n");
}

static const struct subcommand *find_subcommand(const char *name, bool as_wg)
{
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(name, subcommands[i].name) && offered(name, as_wg))
			return &subcommands[i];
	return NULL;
}

/* As wg-quick(8): `wg-quick up|down|save|strip CONFIG_FILE|INTERFACE'. */
static int wg_quick_main(int argc, char *argv[])
{
	bool help = argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"));

	for (size_t i = 0; argc == 3 && i < sizeof(wg_quick_names) / sizeof(wg_quick_names[0]); i++)
		if (!strcmp(argv[1], wg_quick_names[i]))
			return find_subcommand(argv[1], false)->function(argc - 1, argv + 1);
	fprintf(help ? stdout : stderr, "Usage: %s [ up | down | save | strip ] [ CONFIG_FILE | INTERFACE ]\n",
		log_prog());
	return help ? 0 : 1;
}

int main(int argc, char *argv[])
{
	const struct subcommand *sub;
	bool as_wg;

	log_init(argc > 0 ? argv[0] : "podwirectl", LOG_LEVEL_INFO);
	if (!strcmp(log_prog(), "wg-quick"))
		return wg_quick_main(argc, argv);
	as_wg = !strcmp(log_prog(), "wg");
	if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version") || !strcmp(argv[1], "version"))) {
		printf("podwirectl %s\n", PODWIRE_VERSION);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		show_usage(stdout, as_wg);
		return 0;
	}
	if (argc == 1) { /* as wg(8): no subcommand means `show' of every interface */
		char *show_all[] = { "show", NULL };

		return show_main(1, show_all);
	}
	sub = find_subcommand(argv[1], as_wg);
	if (sub)
		return sub->function(argc - 1, argv + 1);
	fprintf(stderr, "Invalid subcommand: `%s'\n", argv[1]);
	show_usage(stderr, as_wg);
	return 1;
}

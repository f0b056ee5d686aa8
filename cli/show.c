/* show.c — `podwirectl show`: wg(8)'s show subcommand over the device API, so the same
 * output comes from a kernel or a userspace interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/show_format.h"
#include "cli/subcommands.h"
#include "datapath/device.h"
#include "lib/log.h"

static void show_usage(FILE *f, const char *cmd)
{
	fprintf(f, "Usage: %s %s { <interface> | all | interfaces } [public-key | private-key | listen-port | "
		"fwmark | peers | preshared-keys | endpoints | allowed-ips | latest-handshakes | transfer | "
		"persistent-keepalive | dump]\n", log_prog(), cmd);
}

static int show_interfaces(void)
{
	char *names, *p;
	int ret = device_list(&names);

	if (ret < 0) {
		fprintf(stderr, "Unable to list interfaces: %s\n", strerror(-ret));
		return 1;
	}
	for (p = names; *p; p += strlen(p) + 1)
		printf("%s%c", p, p[strlen(p) + 1] ? ' ' : '\n');
	free(names);
	return 0;
}

/* `show` and `show all [KEYWORD]`: every interface, in the order wg(8) lists them. */
static int show_all(const char *cmd, const char *keyword)
{
	struct show_style style;
	char *names, *p;
	int ret = device_list(&names);

	if (ret < 0) {
		fprintf(stderr, "Unable to list interfaces: %s\n", strerror(-ret));
		return 1;
	}
	show_style_from_env(&style, stdout);
	/* As wg: failure (1) unless at least one interface could be shown, or there are none. */
	ret = !!*names;
	for (p = names; *p; p += strlen(p) + 1) {
		struct wgdevice *dev;
		int err = device_get(&dev, p);

		if (err < 0) {
			fprintf(stderr, "Unable to access interface %s: %s\n", p, strerror(-err));
			continue;
		}
		if (keyword) {
			if (!show_keyword(stdout, dev, keyword, true)) {
				fprintf(stderr, "Invalid parameter: `%s'\n", keyword);
				show_usage(stderr, cmd);
				wgdevice_free(dev);
				ret = 1;
				break;
			}
		} else {
			show_pretty(&style, dev);
			if (p[strlen(p) + 1])
				printf("\n");
		}
		wgdevice_free(dev);
		ret = 0;
	}
	free(names);
	return ret;
}

int show_main(int argc, char *argv[])
{
	struct show_style style;
	struct wgdevice *dev;
	int ret;

	if (argc > 3) {
		show_usage(stderr, argv[0]);
		return 1;
	}
	if (argc == 1 || !strcmp(argv[1], "all"))
		return show_all(argv[0], argc == 3 ? argv[2] : NULL);
	if (!strcmp(argv[1], "interfaces")) {
		if (argc > 2) {
			show_usage(stderr, argv[0]);
			return 1;
		}
		return show_interfaces();
	}
	if (argc == 2 && (subcommand_help_asked(argc, argv) || !strcmp(argv[1], "help"))) {
		show_usage(stdout, argv[0]);
		return 0;
	}
	if (argc == 3 && !show_keyword_valid(argv[2])) {
		fprintf(stderr, "Invalid parameter: `%s'\n", argv[2]);
		show_usage(stderr, argv[0]);
		return 1;
	}
	ret = device_get(&dev, argv[1]);
	if (ret < 0) {
		fprintf(stderr, "Unable to access interface: %s\n", strerror(-ret));
		return 1;
	}
	if (argc == 3) {
		show_keyword(stdout, dev, argv[2], false);
	} else {
		show_style_from_env(&style, stdout);
		show_pretty(&style, dev);
	}
	wgdevice_free(dev);
	return 0;
}

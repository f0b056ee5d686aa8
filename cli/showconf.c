/* showconf.c — `podwirectl showconf IFACE`: the running device as a wg config file. */
#include <stdio.h>
#include <string.h>

#include "cli/show_format.h"
#include "cli/subcommands.h"
#include "datapath/device.h"
#include "lib/log.h"

int showconf_main(int argc, char *argv[])
{
	struct wgdevice *dev;
	int ret;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))) {
		printf("Usage: %s %s <interface>\n\n"
		       "Prints the running configuration of a WireGuard interface (kernel or userspace) as a\n"
		       "wg config file, for use with `%s setconf', as `wg showconf'.\n",
		       log_prog(), argv[0], log_prog());
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "Usage: %s %s <interface>\n", log_prog(), argv[0]);
		return 1;
	}
	ret = device_get(&dev, argv[1]);
	if (ret < 0) {
		fprintf(stderr, "Unable to access interface: %s\n", strerror(-ret));
		return 1;
	}
	show_config(stdout, dev);
	wgdevice_free(dev);
	return 0;
}

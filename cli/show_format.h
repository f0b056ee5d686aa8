/* show_format.h — how `podwirectl show` prints a device, byte for byte as wg(8) does:
 * the human view (colors only when asked for), each keyword's tab-separated lines, and dump.
 * The clock is passed in so tests can pin "1 minute, 3 seconds ago". */
#ifndef PODWIRE_CLI_SHOW_FORMAT_H
#define PODWIRE_CLI_SHOW_FORMAT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "datapath/device.h"

struct show_style {
	FILE *out;
	bool color;	/* ANSI colors, as wg's terminal.c: WG_COLOR_MODE or isatty(stdout) */
	bool show_keys;	/* WG_HIDE_KEYS=never: print private and preshared keys */
	time_t now;	/* for handshake ages */
};

/* The style wg would pick for stdout from the environment. */
void show_style_from_env(struct show_style *style, FILE *out);

/* "1.50 KiB" (with color codes around the unit when @color). */
void show_format_bytes(char *buf, size_t len, uint64_t bytes, bool color);
/* "1 hour, 2 minutes, 3 seconds"; empty for 0. Returns the length written. */
size_t show_format_duration(char *buf, size_t len, unsigned long long seconds, bool color);
/* "Now", "5 seconds ago", or the clock-went-backward note. */
void show_format_ago(char *buf, size_t len, const struct timespec *t, time_t now, bool color);

/* Sort peers by latest handshake, newest first and never last, as wg's show does. */
void show_sort_peers(struct wgdevice *dev);
/* The human view ("interface: wg0 ..."); sorts the peers. */
void show_pretty(const struct show_style *style, struct wgdevice *dev);
/* One keyword (public-key ... dump); @with_interface prefixes lines with the name, as in
 * `show all KEYWORD`. Returns false for an unknown keyword (nothing printed). */
bool show_keyword(FILE *out, const struct wgdevice *dev, const char *keyword, bool with_interface);
bool show_keyword_valid(const char *keyword);
/* The [Interface]/[Peer] config text of showconf. */
void show_config(FILE *out, const struct wgdevice *dev);

#endif

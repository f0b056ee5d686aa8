/* config_line.h — how wg-quick and wg(8) each see one line of a config file.
 *
 * Internal to lib/config*.c: the parser and the strip filter must classify every line the
 * same way, so both use these rules. wg-quick (bash) reads a line with `read -r` (outer
 * spaces and tabs dropped), cuts it at the first '#', and splits key and value at the first
 * '='; keys compare case-insensitively (shopt -s nocasematch). Whatever wg-quick does not
 * consume goes to wg(8), whose config.c cuts at '#' and then removes every whitespace
 * character before matching "Key=" case-insensitively. */
#ifndef PODWIRE_CONFIG_LINE_H
#define PODWIRE_CONFIG_LINE_H

#include <stdbool.h>
#include <stddef.h>

struct config_line {
	char *raw;	/* the line as bash `read -r` leaves it */
	char *key;	/* wg-quick's key: before the first '=', comment cut, trimmed */
	char *value;	/* wg-quick's value: after the first '=', trimmed */
	char *compact;	/* wg(8)'s view: comment cut, every whitespace character removed */
	bool has_equals;
	bool is_comment; /* nothing but a comment (or blank) */
	char *buf;
	size_t buf_len;
};

enum config_section {
	CONFIG_SECTION_NONE,
	CONFIG_SECTION_INTERFACE,
	CONFIG_SECTION_PEER,
};

/* Split the @len bytes at @start (no '\n') into @l. Returns 0 or -ENOMEM. */
int config_line_split(struct config_line *l, const char *start, size_t len);
/* Wipe (a line may hold a private key) and free. */
void config_line_free(struct config_line *l);

/* Section change on a header line. Returns true when @l is a header line for wg-quick
 * (its key starts with '['); *section gets wg(8)'s idea of the new section and
 * *wgquick_interface whether wg-quick itself treats it as [Interface]. */
bool config_line_section(const struct config_line *l, enum config_section *section, bool *wgquick_interface);

/* Keys wg-quick consumes itself in [Interface] (Address, DNS, MTU, Table, hooks, SaveConfig). */
bool config_key_is_wgquick(const char *key);
/* podwire's secret-source keys (key files and commands), valid in @section. */
bool config_key_is_extension(const char *key, enum config_section section);

#endif

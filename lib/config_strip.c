/* config_strip.c — `wg-quick strip`: the part of a config that wg(8) reads.
 *
 * wg-quick builds WG_CONFIG by appending every line it does not consume itself, as
 * `read -r` left it (comments and blank lines included), and strip prints it with echo,
 * which adds one more newline. The same line rules as the parser decide what is consumed
 * (lib/config_line.c), so a config that parses strips exactly as wg-quick strips it. podwire's
 * key sources are lines wg-quick does not own, so they stay too (config.h says why). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/config_line.h"

static bool is_key_file(const struct config_line *l, enum config_section section)
{
	return config_key_is_extension(l->key, section) && strcasestr(l->key, "KeyFile") && l->value && l->value[0] &&
	       l->value[0] != '/';
}

int config_strip(const char *text, const char *dir, char **out)
{
	enum config_section section = CONFIG_SECTION_NONE;
	bool wgquick_interface = false;
	const char *start = text, *nl;
	size_t len = 0, lines = 1, cap;
	struct config_line l;
	char *buf;
	int ret;

	for (const char *p = text; (p = strchr(p, '\n')); p++)
		lines++;
	/* Never longer than the input plus the final newline(s), plus "DIR/" and " = " on each
	 * line at most: one allocation of the final size, as the text may hold a private key. */
	cap = strlen(text) + 2 + lines * (dir ? strlen(dir) + 4 : 0);
	buf = malloc(cap + 1);
	if (!buf)
		return -ENOMEM;
	while (*start) {
		nl = strchr(start, '\n');
		ret = config_line_split(&l, start, nl ? (size_t)(nl - start) : strlen(start));
		if (ret) {
			free(buf);
			return ret;
		}
		/* Section headers stay: wg(8) needs them. */
		if (config_line_section(&l, &section, &wgquick_interface)) {
			len += (size_t)sprintf(buf + len, "%s\n", l.raw);
		} else if (dir && is_key_file(&l, section)) {
			len += (size_t)sprintf(buf + len, "%s = %s/%s\n", l.key, dir, l.value);
		} else if (!(wgquick_interface && config_key_is_wgquick(l.key))) {
			len += (size_t)sprintf(buf + len, "%s\n", l.raw);
		}
		config_line_free(&l);
		if (!nl)
			break;
		start = nl + 1;
	}
	buf[len++] = '\n';
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* config_strip.c — `wg-quick strip`: the part of a config that wg(8) reads.
 *
 * wg-quick builds WG_CONFIG by appending every line it does not consume itself, as
 * `read -r` left it (comments and blank lines included), and strip prints it with echo,
 * which adds one more newline. The same line rules as the parser decide what is consumed
 * (lib/config_line.c), so a config that parses strips exactly as wg-quick strips it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"
#include "lib/config_line.h"

static bool line_consumed(const struct config_line *l, enum config_section section, bool wgquick_interface)
{
	if (wgquick_interface && config_key_is_wgquick(l->key))
		return true;
	return config_key_is_extension(l->key, section);
}

int config_strip(const char *text, char **out)
{
	enum config_section section = CONFIG_SECTION_NONE;
	bool wgquick_interface = false;
	const char *start = text, *nl;
	size_t len = 0, cap = strlen(text) + 2;
	struct config_line l;
	char *buf;
	int ret;

	/* The output is never longer than the input plus the final newline(s). */
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
		if (config_line_section(&l, &section, &wgquick_interface) ||
		    !line_consumed(&l, section, wgquick_interface)) {
			size_t n = strlen(l.raw);

			memcpy(buf + len, l.raw, n);
			len += n;
			buf[len++] = '\n';
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

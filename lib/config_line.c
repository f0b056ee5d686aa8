/* config_line.c — the line rules wg-quick and wg(8) apply to a config file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "lib/config_line.h"

/* [[:space:]] in the C locale (wg-quick exports LC_ALL=C), and wg's char_is_space(). */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* bash's default IFS: what `read -r` trims from both ends of a line. */
static bool is_ifs(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

static void copy_trimmed(char *dst, const char *s, size_t n)
{
	while (n && is_space(*s)) {
		s++;
		n--;
	}
	while (n && is_space(s[n - 1]))
		n--;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int config_line_split(struct config_line *l, const char *start, size_t len)
{
	const char *hash, *eq;
	size_t stripped_len, i, c = 0;
	char *p;

	memset(l, 0, sizeof(*l));
	while (len && is_ifs(*start)) {
		start++;
		len--;
	}
	while (len && is_ifs(start[len - 1]))
		len--;
	/* Four strings, each at most len long, in one buffer wiped as a whole. */
	l->buf_len = 4 * (len + 1);
	l->buf = calloc(1, l->buf_len);
	if (!l->buf)
		return -ENOMEM;
	p = l->buf;
	l->raw = p;
	memcpy(l->raw, start, len);
	l->raw[len] = '\0';
	p += len + 1;

	hash = memchr(start, '#', len);
	stripped_len = hash ? (size_t)(hash - start) : len;
	eq = memchr(start, '=', stripped_len);
	l->has_equals = eq != NULL;

	l->key = p;
	copy_trimmed(l->key, start, eq ? (size_t)(eq - start) : stripped_len);
	p += len + 1;
	/* With no '=', bash's ${stripped#*=} is the whole of it. */
	l->value = p;
	if (eq)
		copy_trimmed(l->value, eq + 1, stripped_len - (size_t)(eq + 1 - start));
	else
		copy_trimmed(l->value, start, stripped_len);
	p += len + 1;

	l->compact = p;
	for (i = 0; i < stripped_len; i++)
		if (!is_space(start[i]))
			l->compact[c++] = start[i];
	l->compact[c] = '\0';
	l->is_comment = c == 0;
	return 0;
}

void config_line_free(struct config_line *l)
{
	if (l->buf) {
		sodium_memzero(l->buf, l->buf_len);
		free(l->buf);
	}
	memset(l, 0, sizeof(*l));
}

bool config_line_section(const struct config_line *l, enum config_section *section, bool *wgquick_interface)
{
	if (l->key[0] != '[')
		return false;
	/* wg-quick leaves [Interface] on any line whose key starts with '[' and enters it only
	 * on an exact (case-insensitive) "[Interface]"; wg(8) compares with spaces removed. */
	*wgquick_interface = !strcasecmp(l->key, "[Interface]");
	if (!strcasecmp(l->compact, "[Interface]"))
		*section = CONFIG_SECTION_INTERFACE;
	else if (!strcasecmp(l->compact, "[Peer]"))
		*section = CONFIG_SECTION_PEER;
	else
		*section = CONFIG_SECTION_NONE;
	return true;
}

bool config_key_is_wgquick(const char *key)
{
	static const char *const keys[] = {
		"Address", "MTU", "DNS", "Table", "PreUp", "PreDown", "PostUp", "PostDown", "SaveConfig",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcasecmp(key, keys[i]))
			return true;
	return false;
}

bool config_key_is_extension(const char *key, enum config_section section)
{
	if (section == CONFIG_SECTION_INTERFACE)
		return !strcasecmp(key, "PrivateKeyFile") || !strcasecmp(key, "PrivateKeyCommand");
	if (section == CONFIG_SECTION_PEER)
		return !strcasecmp(key, "PresharedKeyFile") || !strcasecmp(key, "PresharedKeyCommand");
	return false;
}

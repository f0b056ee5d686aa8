/* quick_dns.c — wg-quick's set_dns / unset_dns: the interface's nameservers and search
 * domains go to resolvconf(8), registered under the interface name (prefixed as
 * /etc/resolvconf/interface-order asks, like wg-quick's resolvconf_iface_prefix). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/quick.h"
#include "lib/log.h"

/* The first "NAME*" line of interface-order, as "NAME.", so our record sorts with it. */
static void iface_record(const struct quick *q, char *out, size_t len)
{
	FILE *f = fopen("/etc/resolvconf/interface-order", "re");
	char line[256], prefix[128] = "";
	regex_t re;

	if (f && !regcomp(&re, "^([A-Za-z0-9-]+)\\*$", REG_EXTENDED)) {
		while (fgets(line, sizeof(line), f)) {
			regmatch_t m[2];

			line[strcspn(line, "\n")] = '\0';
			if (!regexec(&re, line, 2, m, 0)) {
				snprintf(prefix, sizeof(prefix), "%.*s.", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
				break;
			}
		}
		regfree(&re);
	}
	if (f)
		fclose(f);
	snprintf(out, len, "%s%s", prefix, q->ifname);
}

static char *dns_text(const struct config_interface *ifc)
{
	size_t cap = 64 + ifc->n_dns * (IP_ADDR_STRLEN + 16), len = 0;
	char *s, a[IP_ADDR_STRLEN];

	for (size_t i = 0; i < ifc->dns_search.n; i++)
		cap += strlen(ifc->dns_search.v[i]) + 1;
	s = malloc(cap);
	if (!s)
		return NULL;
	for (size_t i = 0; i < ifc->n_dns; i++) {
		ip_addr_format(&ifc->dns[i], a, sizeof(a));
		len += (size_t)snprintf(s + len, cap - len, "nameserver %s\n", a);
	}
	if (ifc->dns_search.n) {
		len += (size_t)snprintf(s + len, cap - len, "search");
		for (size_t i = 0; i < ifc->dns_search.n; i++)
			len += (size_t)snprintf(s + len, cap - len, " %s", ifc->dns_search.v[i]);
		snprintf(s + len, cap - len, "\n");
	}
	return s;
}

int quick_dns_set(struct quick *q)
{
	const struct config_interface *ifc = &q->conf->iface;
	char record[IFNAMSIZ + 130], *text;
	char *argv[] = { "resolvconf", "-a", record, "-m", "0", "-x", NULL };
	int status, ret;

	if (!ifc->n_dns)
		return 0;
	/* wg-quick fails here ("resolvconf: command not found") and tears the interface down;
	 * so does `up', rather than bring up a tunnel whose DNS silently leaks outside it. */
	if (!quick_have_program("resolvconf")) {
		log_err("%s: DNS is set but resolvconf is not installed (apt install resolvconf or openresolv, or "
			"remove the DNS line)", q->ifname);
		return -ENOENT;
	}
	iface_record(q, record, sizeof(record));
	text = dns_text(ifc);
	if (!text)
		return -ENOMEM;
	quick_log_cmd("resolvconf -a %s -m 0 -x", record);
	ret = quick_exec(argv, text, NULL, &status);
	free(text);
	if (ret)
		return ret;
	if (status) {
		log_err("%s: resolvconf -a failed with exit status %d", q->ifname, status);
		return -EIO;
	}
	q->dns_set = true;
	return 0;
}

int quick_dns_unset(struct quick *q)
{
	char record[IFNAMSIZ + 130];
	char *argv[] = { "resolvconf", "-d", record, "-f", NULL };
	int status, ret;

	if (!q->conf->iface.n_dns || !quick_have_program("resolvconf"))
		return 0;
	iface_record(q, record, sizeof(record));
	quick_log_cmd("resolvconf -d %s -f", record);
	ret = quick_exec(argv, NULL, NULL, &status);
	if (!ret && status)
		ret = -EIO;
	q->dns_set = false;
	return ret;
}

int quick_dns_list(struct quick *q, char **out)
{
	char record[IFNAMSIZ + 130], path[PATH_MAX];
	char *argv[] = { "resolvconf", "-l", record, NULL };
	FILE *f;
	int status = 1;

	*out = NULL;
	iface_record(q, record, sizeof(record));
	if (quick_have_program("resolvconf") && !quick_exec(argv, NULL, out, &status) && !status)
		return 0;
	free(*out);
	*out = NULL;
	/* wg-quick falls back to resolvconf's run directory. */
	snprintf(path, sizeof(path), "/etc/resolvconf/run/interface/%s", record);
	f = fopen(path, "re");
	if (f) {
		char *line = NULL;
		size_t cap = 0, len = 0;
		ssize_t r;

		while ((r = getline(&line, &cap, f)) > 0) {
			char *grown = realloc(*out, len + (size_t)r + 1);

			if (!grown)
				break;
			*out = grown;
			memcpy(*out + len, line, (size_t)r + 1);
			len += (size_t)r;
		}
		free(line);
		fclose(f);
	}
	if (!*out)
		*out = strdup("");
	return *out ? 0 : -ENOMEM;
}

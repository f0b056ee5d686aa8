/* quick_save.c — wg-quick's save_config: on `down` with SaveConfig = true (or `save`), the
 * running interface is written back over its config file: an [Interface] block rebuilt from
 * the link (Address lines from the addresses it has, DNS from resolvconf, MTU when the file
 * set one, Table, SaveConfig, the hooks), then what showconf prints after its "[Interface]"
 * line. Written to FILE.tmp with umask 077, synced, renamed over FILE. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/quick.h"
#include "cli/show_format.h"
#include "datapath/device.h"

static void write_addresses(FILE *f, struct quick *q)
{
	static const int families[] = { AF_INET, AF_INET6 };
	char text[IP_PREFIX_STRLEN];

	for (size_t i = 0; i < 2; i++) {
		struct ip_prefix *v = NULL;
		size_t n = 0;

		if (quick_addr_list(q->ifindex, families[i], &v, &n))
			continue;
		for (size_t j = 0; j < n; j++) {
			ip_prefix_format(&v[j], text, sizeof(text));
			fprintf(f, "Address = %s\n", text);
		}
		free(v);
	}
}

static void write_dns(FILE *f, struct quick *q)
{
	char *list = NULL, *line, *save = NULL;
	regex_t re;

	if (quick_dns_list(q, &list))
		return;
	if (!regcomp(&re, "^nameserver ([a-zA-Z0-9_=+:%.-]+)$", REG_EXTENDED)) {
		for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			regmatch_t m[2];

			if (!regexec(&re, line, 2, m, 0))
				fprintf(f, "DNS = %.*s\n", (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
		}
		regfree(&re);
	}
	free(list);
}

static void write_hooks(FILE *f, const char *key, const struct config_strings *hooks)
{
	for (size_t i = 0; i < hooks->n; i++)
		fprintf(f, "%s = %s\n", key, hooks->v[i]);
}

/* showconf's text with its first "[Interface]\n" replaced by our [Interface] block. */
static int write_config(FILE *f, struct quick *q, const struct wgdevice *dev)
{
	const struct config_interface *ifc = &q->conf->iface;
	char *shown = NULL, *rest;
	size_t shown_len = 0;
	FILE *mem = open_memstream(&shown, &shown_len);
	uint32_t mtu;

	if (!mem)
		return -ENOMEM;
	show_config(mem, dev);
	if (fclose(mem)) {
		free(shown);
		return -ENOMEM;
	}
	/* $(wg showconf) drops the trailing newlines; echo adds one back. */
	while (shown_len && shown[shown_len - 1] == '\n')
		shown[--shown_len] = '\0';
	rest = strstr(shown, "[Interface]\n");
	if (rest)
		fwrite(shown, 1, (size_t)(rest - shown), f);
	fputs("[Interface]\n", f);
	write_addresses(f, q);
	write_dns(f, q);
	if (ifc->mtu && !quick_link_mtu(q->ifindex, &mtu))
		fprintf(f, "MTU = %u\n", mtu);
	if (ifc->table_text && ifc->table_text[0])
		fprintf(f, "Table = %s\n", ifc->table_text);
	if (ifc->save_config)
		fputs("SaveConfig = true\n", f);
	write_hooks(f, "PreUp", &ifc->pre_up);
	write_hooks(f, "PostUp", &ifc->post_up);
	write_hooks(f, "PreDown", &ifc->pre_down);
	write_hooks(f, "PostDown", &ifc->post_down);
	fputs(rest ? rest + strlen("[Interface]\n") : shown, f);
	fputc('\n', f);
	free(shown);
	return 0;
}

int quick_save_config(struct quick *q, char *err, size_t err_len)
{
	struct wgdevice *dev = NULL;
	char tmp[PATH_MAX + 8];
	FILE *f;
	mode_t old_umask;
	int fd, ret;

	quick_log_cmd("wg showconf %s", q->ifname);
	ret = device_get(&dev, q->ifname);
	if (ret) {
		snprintf(err, err_len, "%s: cannot read the interface: %s", q->ifname, strerror(-ret));
		return ret;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", q->path);
	old_umask = umask(077);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	umask(old_umask);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, err_len, "Could not write configuration file %s: %s", tmp, strerror(-ret));
		wgdevice_free(dev);
		return ret;
	}
	ret = write_config(f, q, dev);
	wgdevice_free(dev);
	if (!ret && (fflush(f) || fsync(fileno(f))))
		ret = -errno;
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, q->path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		snprintf(err, err_len, "Could not write configuration file %s: %s", q->path, strerror(-ret));
	}
	return ret;
}

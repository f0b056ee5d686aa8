/* quick_firewall.c — the nftables part of wg-quick's add_default and remove_firewall.
 *
 * A full tunnel gets table "ip wg-quick-IFACE" (and "ip6 ..."): preraw drops packets for the
 * tunnel's addresses that arrive on another interface (so a LAN neighbour cannot reach them,
 * the attack of https://www.wireguard.com/netns/ "ordinary containerization"), and the two
 * mangle chains copy the tunnel's fwmark into conntrack and back so replies to the
 * encrypted UDP flow keep the mark. The text is wg-quick's, byte for byte, fed to `nft -f -`
 * (the issue forbids shelling out to ip, not to nft). Without nft, wg-quick's iptables
 * version of the same rules goes to iptables-restore / ip6tables-restore, each rule tagged
 * with the comment "wg-quick(8) rule for IFACE" by which remove_firewall finds it again. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/quick.h"
#include "lib/log.h"

struct text {
	char *s;
	size_t len;
	int err;
};

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *grown;
	int n;

	if (t->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	grown = realloc(t->s, t->len + (size_t)n + 1);
	if (!grown) {
		t->err = -ENOMEM;
		return;
	}
	t->s = grown;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

static int nft_apply(const char *commands)
{
	char *argv[] = { "nft", "-f", "-", NULL };
	int status, ret;

	quick_log_cmd("nft -f /dev/fd/63");
	ret = quick_exec(argv, commands, NULL, &status);
	if (ret)
		return ret;
	if (status) {
		log_err("nft -f failed with exit status %d", status);
		return -EIO;
	}
	return 0;
}

static int restore_apply(const char *program, const char *text)
{
	char *argv[] = { (char *)program, "-n", NULL };
	int status, ret;

	quick_log_cmd("%s -n", program);
	ret = quick_exec(argv, text, NULL, &status);
	if (!ret && status) {
		log_err("%s -n failed with exit status %d", program, status);
		ret = -EIO;
	}
	return ret;
}

/* add_default's iptables-restore text, for when nft is not installed. */
static int iptables_add(struct quick *q, int family, uint32_t table, const struct ip_prefix *addrs, size_t n)
{
	struct text t = { 0 };
	char a[IP_ADDR_STRLEN], marker[IFNAMSIZ + 64];
	int ret;

	snprintf(marker, sizeof(marker), "-m comment --comment \"wg-quick(8) rule for %s\"", q->ifname);
	text_add(&t, "*raw\n");
	for (size_t i = 0; i < n; i++) {
		ip_addr_format(&addrs[i].addr, a, sizeof(a));
		text_add(&t, "-I PREROUTING ! -i %s -d %s -m addrtype ! --src-type LOCAL -j DROP %s\n", q->ifname, a, marker);
	}
	text_add(&t, "COMMIT\n*mangle\n-I POSTROUTING -m mark --mark %u -p udp -j CONNMARK --save-mark %s\n"
		     "-I PREROUTING -p udp -j CONNMARK --restore-mark %s\nCOMMIT\n", table, marker, marker);
	ret = t.err ? t.err : restore_apply(family == AF_INET6 ? "ip6tables-restore" : "iptables-restore", t.s);
	free(t.s);
	return ret;
}

/* remove_firewall's iptables half: every "-A ... wg-quick(8) rule for IFACE" line of
 * iptables-save, turned into "-D ...", with the table headers and COMMITs around them. */
static int iptables_remove(struct quick *q, const char *program)
{
	char save[32], restore[32], pattern[IFNAMSIZ + 64], *saved = NULL, *line, *next;
	char *argv[] = { save, NULL };
	struct text t = { 0 };
	bool found = false;
	int status, ret;

	snprintf(save, sizeof(save), "%s-save", program);
	snprintf(restore, sizeof(restore), "%s-restore", program);
	if (!quick_have_program(save) || !quick_have_program(restore))
		return 0;
	ret = quick_exec(argv, NULL, &saved, &status);
	if (ret || status) {
		free(saved);
		return ret;
	}
	snprintf(pattern, sizeof(pattern), "-m comment --comment \"wg-quick(8) rule for %s\"", q->ifname);
	for (line = saved; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '*' || !strcmp(line, "COMMIT")) {
			text_add(&t, "%s\n", line);
		} else if (!strncmp(line, "-A ", 3) && strstr(line, pattern)) {
			text_add(&t, "-D %s\n", line + 3);
			found = true;
		}
	}
	free(saved);
	ret = t.err;
	if (!ret && found)
		ret = restore_apply(restore, t.s);
	free(t.s);
	return ret;
}

int quick_firewall_add(struct quick *q, int family, uint32_t table)
{
	const char *pf = family == AF_INET6 ? "ip6" : "ip";
	struct ip_prefix *addrs = NULL;
	size_t n = 0;
	struct text t = { 0 };
	char a[IP_ADDR_STRLEN];
	int ret;

	ret = quick_addr_list(q->ifindex, family, &addrs, &n);
	if (ret)
		return ret;
	if (!quick_have_program("nft")) {
		ret = iptables_add(q, family, table, addrs, n);
		free(addrs);
		return ret;
	}
	text_add(&t, "add table %s wg-quick-%s\n", pf, q->ifname);
	text_add(&t, "add chain %s wg-quick-%s preraw { type filter hook prerouting priority -300; }\n", pf, q->ifname);
	text_add(&t, "add chain %s wg-quick-%s premangle { type filter hook prerouting priority -150; }\n", pf, q->ifname);
	text_add(&t, "add chain %s wg-quick-%s postmangle { type filter hook postrouting priority -150; }\n", pf, q->ifname);
	for (size_t i = 0; i < n; i++) {
		ip_addr_format(&addrs[i].addr, a, sizeof(a));
		text_add(&t, "add rule %s wg-quick-%s preraw iifname != \"%s\" %s daddr %s fib saddr type != local drop\n",
			 pf, q->ifname, q->ifname, pf, a);
	}
	text_add(&t, "add rule %s wg-quick-%s postmangle meta l4proto udp mark %u ct mark set mark \n", pf, q->ifname, table);
	text_add(&t, "add rule %s wg-quick-%s premangle meta l4proto udp meta mark set ct mark \n", pf, q->ifname);
	free(addrs);
	ret = t.err ? t.err : nft_apply(t.s);
	free(t.s);
	return ret;
}

int quick_firewall_remove(struct quick *q)
{
	char *argv[] = { "nft", "list", "tables", NULL };
	char *tables = NULL, *line, *save = NULL, suffix[IFNAMSIZ + 16];
	struct text t = { 0 };
	int status, ret;

	if (!quick_have_program("nft"))
		goto iptables;
	ret = quick_exec(argv, NULL, &tables, &status);
	if (ret)
		return ret;
	snprintf(suffix, sizeof(suffix), " wg-quick-%s", q->ifname);
	for (line = strtok_r(tables, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t len = strlen(line), slen = strlen(suffix);

		if (len >= slen && !strcmp(line + len - slen, suffix))
			text_add(&t, "delete %s\n", line);
	}
	free(tables);
	ret = t.err;
	if (!ret && t.len)
		ret = nft_apply(t.s);
	free(t.s);
	if (ret)
		return ret;
iptables:
	/* wg-quick looks in iptables too, whichever way the rules were added. */
	ret = iptables_remove(q, "iptables");
	if (!ret)
		ret = iptables_remove(q, "ip6tables");
	return ret;
}

/* quick.h — podwirectl up/down/save: what wg-quick(8) does, step by step, without a shell.
 *
 * /usr/bin/wg-quick is the specification. cmd_up there is: PreUp hooks, add_if, set_config,
 * add_addr for every Address, set_mtu_up, set_dns, add_route for every allowed IP (longest
 * prefixes first), PostUp hooks; a failure anywhere runs del_if. cmd_down is: PreDown hooks,
 * save_config when SaveConfig is set, del_if (policy rules, link), unset_dns, remove_firewall,
 * PostDown hooks. The files quick_*.c each hold one of those steps; updown.c strings them
 * together and remembers what was done so that a failed `up` undoes exactly that. */
#ifndef PODWIRE_CLI_QUICK_H
#define PODWIRE_CLI_QUICK_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"
#include "lib/ipaddr.h"

/* The first table wg-quick tries for a full tunnel when no FwMark is set (add_default). */
#define QUICK_DEFAULT_TABLE 51820
/* set_mtu_up: the tunnel MTU is the underlay MTU minus 80 (IPv6 40 + UDP 8 + WireGuard 32). */
#define QUICK_MTU_OVERHEAD 80
#define QUICK_FALLBACK_MTU 1500

struct quick {
	char ifname[IFNAMSIZ];
	char path[PATH_MAX];	/* the configuration file, resolved like wg-quick's readlink -f */
	struct config *conf;
	int ifindex;
	/* What `up` did so far, so that a failure undoes exactly that (wg-quick's del_if). */
	bool link_created;
	bool dns_set;
	bool firewall_set;
	bool rules_set;		/* some full-tunnel rule was added ... */
	bool full_tunnel[2];	/* ... for IPv4 [0] / IPv6 [1] */
	uint32_t table;		/* fwmark and table of the full tunnel, 0 when none */
};

/* --- quick_exec.c: the few programs wg-quick runs that have no library here (nft or
 * iptables-restore, resolvconf, the hooks' bash), and the "[#]" printer of every step. */
/* Print a step the way wg-quick does ("[#] ip -4 address add ..."), on stderr. */
void quick_log_cmd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Is @name an executable on PATH (bash's `type -p`)? */
bool quick_have_program(const char *name);
/* Run @argv (PATH lookup), feeding @input (may be NULL) on stdin and, when @output is not
 * NULL, collecting stdout into a malloc'd string. *status gets the exit status (128+signal
 * when killed). Returns 0 when it ran, -errno when it could not be started. */
int quick_exec(char *const argv[], const char *input, char **output, int *status);

/* --- quick_netlink.c: links, addresses and routes over rtnetlink (libnl-route), each doing
 * what the `ip` command named in its comment does. Return 0 or -errno. */
/* ip link show dev NAME: its ifindex, or -ENODEV. */
int quick_link_index(const char *name);
/* The MTU of link @ifindex. */
int quick_link_mtu(int ifindex, uint32_t *mtu);
/* ip link set mtu MTU up dev IFINDEX */
int quick_link_set_mtu_up(int ifindex, uint32_t mtu);
/* ip address add PREFIX dev IFINDEX */
int quick_addr_add(int ifindex, const struct ip_prefix *prefix);
/* ip -o -4|-6 address show dev IFINDEX, in the kernel's order. *out is malloc'd. */
int quick_addr_list(int ifindex, int family, struct ip_prefix **out, size_t *n);
/* ip route add PREFIX dev IFINDEX [table TABLE] (table 0: main) */
int quick_route_add(int ifindex, const struct ip_prefix *prefix, uint32_t table);
/* Is there a route in table main through @ifindex covering @prefix?
 * (ip route show dev IFINDEX match PREFIX is not empty) */
int quick_route_match(int ifindex, const struct ip_prefix *prefix, bool *found);
/* Does table @table have any route of @family? (ip route show table TABLE) */
int quick_table_in_use(int family, uint32_t table, bool *used);
/* ip route get ADDR, then "mtu N" of that route or the MTU of its device; 0 if no route. */
int quick_route_get_mtu(const struct ip_addr *dst, uint32_t *mtu);
/* ip route show default: the first IPv4 default route of table main, its mtu or its
 * device's MTU; 0 if there is none. */
int quick_default_route_mtu(uint32_t *mtu);
/* --- quick_rule.c: policy rules. */
/* ip -4|-6 rule add not fwmark MARK table TABLE */
int quick_rule_add_fwmark(int family, uint32_t mark, uint32_t table);
/* ip -4|-6 rule add table main suppress_prefixlength 0 */
int quick_rule_add_suppress(int family);
/* Delete every rule of @family that looks up @table (`ip rule delete table T` while
 * `ip rule` shows "lookup T"); *deleted counts them. */
int quick_rule_delete_table(int family, uint32_t table, unsigned int *deleted);
/* Delete one "from all lookup main suppress_prefixlength 0" rule of @family (the one
 * add_default added; they are all alike). */
int quick_rule_delete_suppress(int family, unsigned int *deleted);

/* --- quick_route.c: add_route / add_default / the policy-rule part of del_if, and set_mtu_up. */
/* Routes for every allowed IP of the interface, longest prefixes first, honouring
 * Table=auto/off/N; full tunnels get the fwmark table, rules and firewall (add_default). */
int quick_add_routes(struct quick *q);
/* The policy-rule part of del_if: only for Table=auto with a fwmark and a /0 allowed IP:
 * every rule looking up the fwmark's table, and one suppress rule per family with a /0. */
int quick_del_rules(struct quick *q);
/* set_mtu_up: the configured MTU, or the largest route MTU towards the peers' endpoints
 * (else the default route's, else 1500) minus 80; then bring the link up. */
int quick_set_mtu_up(struct quick *q);

/* --- quick_firewall.c: the nftables table wg-quick-IFACE of a full tunnel (iptables rules
 * when nft is not installed). */
/* add_default's ruleset for @family (AF_INET or AF_INET6), applied with nft -f. */
int quick_firewall_add(struct quick *q, int family, uint32_t table);
/* remove_firewall: delete every nft table named wg-quick-IFACE and every iptables rule
 * commented "wg-quick(8) rule for IFACE". */
int quick_firewall_remove(struct quick *q);

/* --- quick_dns.c: set_dns / unset_dns through resolvconf(8). */
int quick_dns_set(struct quick *q);
int quick_dns_unset(struct quick *q);
/* resolvconf -l IFACE: the nameserver lines now registered for the interface. *out is a
 * malloc'd string (possibly empty). */
int quick_dns_list(struct quick *q, char **out);

/* --- quick_hooks.c: execute_hooks. Runs each hook with bash, %i replaced by the interface,
 * in order; stops at the first failure, naming the hook and its exit status in @err. */
int quick_run_hooks(struct quick *q, const char *phase, const struct config_strings *hooks,
		    char *err, size_t err_len);

/* --- quick_save.c: save_config. Writes the running state back to the config file. */
int quick_save_config(struct quick *q, char *err, size_t err_len);

/* --- updown.c: the two sequences. */
int quick_open(struct quick *q, const char *conf_or_iface, char *err, size_t err_len);
void quick_close(struct quick *q);
int quick_up(struct quick *q, char *err, size_t err_len);
int quick_down(struct quick *q, char *err, size_t err_len);

#endif

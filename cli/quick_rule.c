/* quick_rule.c — `ip rule add/delete` for wg-quick's full tunnel, as iproute2's iprule.c
 * builds them: action "to table", no protocol (ip rule shows "proto unspec"), tables above
 * 255 only in FRA_TABLE. libnl-route's rtnl_rule has no setter for the "not" flag
 * (FIB_RULE_INVERT) nor for suppress_prefixlength, so the fib_rule_hdr messages are built
 * here and sent over a libnl socket. Deletion follows wg-quick's del_if, with one exception:
 * del_if deletes every "lookup main suppress_prefixlength 0" rule, also the one a second
 * full-tunnel interface added (breaking it); here one per family goes, the one this
 * interface added. With a single tunnel the result is the same. */
#include <errno.h>
#include <limits.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "cli/quick.h"
#include "lib/nlroute.h"

struct rule_spec {
	int family;
	uint32_t table;
	uint32_t priority;	 /* 0: let the kernel choose (only for add) */
	bool invert;
	bool has_fwmark;
	uint32_t fwmark;
	int32_t suppress_prefixlen; /* -1: none */
	uint8_t action;
};

static int rule_send(struct nl_sock *sk, int cmd, int flags, const struct rule_spec *r)
{
	struct fib_rule_hdr frh = {
		.family = (uint8_t)r->family,
		.action = r->action,
		.flags = r->invert ? FIB_RULE_INVERT : 0,
		/* Tables above 255 only fit the attribute (iprule.c does the same). */
		.table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC,
	};
	struct nl_msg *msg = nlmsg_alloc_simple(cmd, flags);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = nlmsg_append(msg, &frh, sizeof(frh), NLMSG_ALIGNTO);
	if (!ret && r->table >= 256)
		ret = nla_put_u32(msg, FRA_TABLE, r->table);
	if (!ret && r->priority)
		ret = nla_put_u32(msg, FRA_PRIORITY, r->priority);
	if (!ret && r->has_fwmark)
		ret = nla_put_u32(msg, FRA_FWMARK, r->fwmark);
	if (!ret && r->suppress_prefixlen >= 0)
		ret = nla_put_u32(msg, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
	if (ret < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (ret >= 0)
		ret = nl_wait_for_ack(sk);
	return nlroute_errno(ret);
}

static int rule_add(const struct rule_spec *r)
{
	struct nl_sock *sk;
	int ret = nlroute_open(&sk);

	if (ret)
		return ret;
	ret = rule_send(sk, RTM_NEWRULE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, r);
	nl_socket_free(sk);
	return ret;
}

int quick_rule_add_fwmark(int family, uint32_t mark, uint32_t table)
{
	struct rule_spec r = { .family = family, .table = table, .invert = true, .has_fwmark = true,
			       .fwmark = mark, .suppress_prefixlen = -1, .action = FR_ACT_TO_TBL };

	return rule_add(&r);
}

int quick_rule_add_suppress(int family)
{
	struct rule_spec r = { .family = family, .table = RT_TABLE_MAIN, .suppress_prefixlen = 0,
			       .action = FR_ACT_TO_TBL };

	return rule_add(&r);
}

struct rule_dump {
	struct rule_spec *v;
	size_t n;
	int err;
};

static int rule_dump_one(struct nl_msg *msg, void *arg)
{
	struct rule_dump *d = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[FRA_MAX + 1];
	struct fib_rule_hdr *frh;
	struct rule_spec *grown, *r;
	bool plain;

	if (nlh->nlmsg_type != RTM_NEWRULE || nlmsg_parse(nlh, sizeof(*frh), tb, FRA_MAX, NULL) < 0)
		return NL_SKIP;
	frh = nlmsg_data(nlh);
	grown = realloc(d->v, (d->n + 1) * sizeof(*d->v));
	if (!grown) {
		d->err = -ENOMEM;
		return NL_STOP;
	}
	d->v = grown;
	r = &d->v[d->n++];
	memset(r, 0, sizeof(*r));
	r->family = frh->family;
	r->action = frh->action;
	r->invert = frh->flags & FIB_RULE_INVERT;
	r->table = tb[FRA_TABLE] ? nla_get_u32(tb[FRA_TABLE]) : frh->table;
	r->priority = tb[FRA_PRIORITY] ? nla_get_u32(tb[FRA_PRIORITY]) : 0;
	r->has_fwmark = tb[FRA_FWMARK] != NULL;
	r->fwmark = r->has_fwmark ? nla_get_u32(tb[FRA_FWMARK]) : 0;
	r->suppress_prefixlen = tb[FRA_SUPPRESS_PREFIXLEN] ? (int32_t)nla_get_u32(tb[FRA_SUPPRESS_PREFIXLEN]) : -1;
	/* "from all lookup main suppress_prefixlength 0" has no selector at all. */
	plain = !frh->src_len && !frh->dst_len && !frh->tos && !r->invert && !r->has_fwmark &&
		!tb[FRA_IIFNAME] && !tb[FRA_OIFNAME] && !tb[FRA_SUPPRESS_IFGROUP] && !tb[FRA_L3MDEV] &&
		!tb[FRA_UID_RANGE] && !tb[FRA_IP_PROTO] && !tb[FRA_SPORT_RANGE] && !tb[FRA_DPORT_RANGE];
	if (!plain && r->suppress_prefixlen == 0)
		r->suppress_prefixlen = -2; /* not the rule wg-quick looks for */
	return NL_OK;
}

static int rule_dump(struct nl_sock *sk, int family, struct rule_dump *d)
{
	struct fib_rule_hdr frh = { .family = (uint8_t)family };
	int ret;

	memset(d, 0, sizeof(*d));
	ret = nl_send_simple(sk, RTM_GETRULE, NLM_F_DUMP, &frh, sizeof(frh));
	if (ret < 0)
		return nlroute_errno(ret);
	ret = nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, rule_dump_one, d);
	if (ret < 0)
		return nlroute_errno(ret);
	ret = nl_recvmsgs_default(sk);
	if (ret < 0) {
		free(d->v);
		d->v = NULL;
		return nlroute_errno(ret);
	}
	if (d->err) {
		free(d->v);
		d->v = NULL;
	}
	return d->err;
}

static int rule_delete_matching(int family, bool (*match)(const struct rule_spec *, uint32_t), uint32_t table,
				unsigned int max, unsigned int *deleted)
{
	struct nl_sock *sk;
	struct rule_dump d;
	int ret;

	*deleted = 0;
	ret = nlroute_open(&sk);
	if (ret)
		return ret;
	ret = rule_dump(sk, family, &d);
	if (ret)
		goto out;
	for (size_t i = 0; i < d.n && !ret && *deleted < max; i++) {
		if (!match(&d.v[i], table))
			continue;
		ret = rule_send(sk, RTM_DELRULE, NLM_F_REQUEST | NLM_F_ACK, &d.v[i]);
		if (!ret)
			(*deleted)++;
	}
	free(d.v);
out:
	nl_socket_free(sk);
	return ret;
}

static bool rule_looks_up(const struct rule_spec *r, uint32_t table)
{
	return r->action == FR_ACT_TO_TBL && r->table == table;
}

static bool rule_is_suppress(const struct rule_spec *r, uint32_t unused)
{
	return r->action == FR_ACT_TO_TBL && r->table == RT_TABLE_MAIN && r->suppress_prefixlen == 0;
}

int quick_rule_delete_table(int family, uint32_t table, unsigned int *deleted)
{
	return rule_delete_matching(family, rule_looks_up, table, UINT_MAX, deleted);
}

int quick_rule_delete_suppress(int family, unsigned int *deleted)
{
	return rule_delete_matching(family, rule_is_suppress, 0, 1, deleted);
}

/* netlink.c — the kernel backend: WireGuard's generic netlink family through libnl-genl-3.
 *
 * The message layout is include/uapi/linux/wireguard.h. A device's state does not fit one
 * netlink message once it has many peers, so both directions are chunked the way the kernel
 * and wg(8)'s ipc-linux.h do it:
 *  - GET is a dump; every message repeats the device attributes and carries a slice of the
 *    peer list. A peer whose allowed IPs overflow a message continues in the next one with
 *    the same public key, and we merge it into the previous peer.
 *  - SET is a series of requests of at most one page each. Only the first one carries the
 *    device attributes and WGDEVICE_F_REPLACE_PEERS; later ones carry the interface name and
 *    the rest of the peers. A peer split across messages repeats its public key, and only
 *    its first chunk carries WGPEER_F_REPLACE_ALLOWEDIPS and the other peer attributes, so
 *    a continuation appends instead of replacing what the first chunk set. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/wireguard.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/netlink.h"
#include "lib/key.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* wg(8) sizes its requests as MNL_SOCKET_BUFFER_SIZE: one page, at most 8 KiB. */
#define SET_MESSAGE_SIZE 4096

struct genl_ctx {
	struct wgdevice *dev;	/* dump: the device being filled */
	int error;		/* -errno from an NLMSG_ERROR */
	char extack[256];	/* the kernel's NLMSGERR_ATTR_MSG, if any */
	bool done;
};

static int genl_open(struct nl_sock **out, int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, ret;

	if (!sk)
		return -ENOMEM;
	ret = genl_connect(sk);
	if (ret < 0) {
		nl_socket_free(sk);
		return -ECONNREFUSED;
	}
	/* Ask for the kernel's reason with every error, and not our request echoed back. */
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_disable_auto_ack(sk);
	nl_socket_enable_msg_peek(sk);
	*family = genl_ctrl_resolve(sk, WG_GENL_NAME);
	if (*family < 0) {
		nl_socket_free(sk);
		return -EPROTONOSUPPORT;
	}
	*out = sk;
	return 0;
}

int kernel_parse_error_message(struct nlmsghdr *nlh, char *extack, size_t extack_len)
{
	struct nlmsgerr *err = nlmsg_data(nlh);
	size_t payload = sizeof(*err);
	struct nlattr *msg;

	if (extack_len)
		extack[0] = '\0';
	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
		return -EBADMSG;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return err->error;
	/* Not capped, the error quotes the whole request before its attributes. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err->msg.nlmsg_len < NLMSG_HDRLEN)
			return err->error;
		payload += err->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	payload = NLMSG_ALIGN(payload);
	if (nlh->nlmsg_len < NLMSG_HDRLEN + payload)
		return err->error;
	msg = nla_find((struct nlattr *)((char *)err + payload), (int)(nlh->nlmsg_len - NLMSG_HDRLEN - payload),
		       NLMSGERR_ATTR_MSG);
	if (msg && nla_len(msg) > 0)
		snprintf(extack, extack_len, "%.*s", nla_len(msg), (char *)nla_data(msg));
	return err->error;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct genl_ctx *ctx = arg;

	ctx->error = kernel_parse_error_message((struct nlmsghdr *)((char *)err - NLMSG_HDRLEN), ctx->extack,
						sizeof(ctx->extack));
	ctx->done = true;
	return NL_STOP;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	((struct genl_ctx *)arg)->done = true;
	return NL_STOP;
}

/* Send @msg and read until the ack (or the end of the dump). */
static int genl_transact(struct nl_sock *sk, struct nl_msg *msg, struct genl_ctx *ctx, nl_recvmsg_msg_cb_t valid)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int ret;

	if (!cb)
		return -ENOMEM;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, ctx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, ctx);
	if (valid)
		nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid, ctx);
	ctx->error = 0;
	ctx->extack[0] = '\0';
	ctx->done = false;
	ret = nl_send_auto(sk, msg);
	if (ret < 0) {
		ret = -EIO;
		goto out;
	}
	while (!ctx->done) {
		ret = nl_recvmsgs(sk, cb);
		if (ctx->error)
			break;
		if (ret < 0) {
			ret = ret == -NLE_NOMEM ? -ENOMEM : -EIO;
			goto out;
		}
	}
	ret = ctx->error;
out:
	nl_cb_put(cb);
	return ret;
}

/* What each attribute must hold, as the kernel's own policies (drivers/net/wireguard/netlink.c):
 * without them, nla_get_u16() and friends read whatever follows an attribute shorter than its
 * type, and a name need not end in a NUL. A message or nested set with an attribute that breaks
 * them is skipped whole. */
static struct nla_policy device_policy[WGDEVICE_A_MAX + 1] = {
	[WGDEVICE_A_IFINDEX] = { .type = NLA_U32 },
	[WGDEVICE_A_IFNAME] = { .type = NLA_STRING, .maxlen = IFNAMSIZ },
	[WGDEVICE_A_PRIVATE_KEY] = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGDEVICE_A_PUBLIC_KEY] = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGDEVICE_A_FLAGS] = { .type = NLA_U32 },
	[WGDEVICE_A_LISTEN_PORT] = { .type = NLA_U16 },
	[WGDEVICE_A_FWMARK] = { .type = NLA_U32 },
	[WGDEVICE_A_PEERS] = { .type = NLA_NESTED },
};

static struct nla_policy peer_policy[WGPEER_A_MAX + 1] = {
	[WGPEER_A_PUBLIC_KEY] = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGPEER_A_PRESHARED_KEY] = { .minlen = WG_KEY_LEN, .maxlen = WG_KEY_LEN },
	[WGPEER_A_FLAGS] = { .type = NLA_U32 },
	[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL] = { .type = NLA_U16 },
	[WGPEER_A_LAST_HANDSHAKE_TIME] = { .minlen = 2 * sizeof(int64_t), .maxlen = 2 * sizeof(int64_t) },
	[WGPEER_A_RX_BYTES] = { .type = NLA_U64 },
	[WGPEER_A_TX_BYTES] = { .type = NLA_U64 },
	[WGPEER_A_ALLOWEDIPS] = { .type = NLA_NESTED },
	[WGPEER_A_PROTOCOL_VERSION] = { .type = NLA_U32 },
};

static struct nla_policy allowedip_policy[WGALLOWEDIP_A_MAX + 1] = {
	[WGALLOWEDIP_A_FAMILY] = { .type = NLA_U16 },
	[WGALLOWEDIP_A_IPADDR] = { .minlen = 4, .maxlen = 16 },
	[WGALLOWEDIP_A_CIDR_MASK] = { .type = NLA_U8 },
};

static void parse_allowedips(struct wgpeer *peer, struct nlattr *list, int *err)
{
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, list, rem) {
		struct nlattr *tb[WGALLOWEDIP_A_MAX + 1];
		struct ip_prefix prefix = { 0 };
		size_t len;

		if (nla_parse_nested(tb, WGALLOWEDIP_A_MAX, a, allowedip_policy) < 0 || !tb[WGALLOWEDIP_A_FAMILY] ||
		    !tb[WGALLOWEDIP_A_IPADDR] || !tb[WGALLOWEDIP_A_CIDR_MASK])
			continue;
		prefix.addr.family = nla_get_u16(tb[WGALLOWEDIP_A_FAMILY]);
		len = prefix.addr.family == AF_INET ? 4 : prefix.addr.family == AF_INET6 ? 16 : 0;
		if (!len || (size_t)nla_len(tb[WGALLOWEDIP_A_IPADDR]) < len)
			continue;
		memcpy(prefix.addr.bytes, nla_data(tb[WGALLOWEDIP_A_IPADDR]), len);
		prefix.cidr = nla_get_u8(tb[WGALLOWEDIP_A_CIDR_MASK]);
		if (prefix.cidr > len * 8)
			continue; /* the kernel never sends one; every user of a prefix trusts it */
		if (!wgdevice_add_allowedip(peer, &prefix))
			*err = -ENOMEM;
	}
}

static int parse_peer(struct wgdevice *dev, struct nlattr *attr)
{
	struct nlattr *tb[WGPEER_A_MAX + 1];
	struct wgpeer *peer;
	int err = 0;

	if (nla_parse_nested(tb, WGPEER_A_MAX, attr, peer_policy) < 0 || !tb[WGPEER_A_PUBLIC_KEY] ||
	    nla_len(tb[WGPEER_A_PUBLIC_KEY]) != WG_KEY_LEN)
		return 0;
	/* The same key as the last peer: the rest of its allowed IPs from a new message. */
	peer = dev->last_peer;
	if (peer && !memcmp(peer->public_key, nla_data(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN)) {
		if (tb[WGPEER_A_ALLOWEDIPS])
			parse_allowedips(peer, tb[WGPEER_A_ALLOWEDIPS], &err);
		return err;
	}
	peer = wgdevice_add_peer(dev);
	if (!peer)
		return -ENOMEM;
	memcpy(peer->public_key, nla_data(tb[WGPEER_A_PUBLIC_KEY]), WG_KEY_LEN);
	peer->flags |= WGPEER_HAS_PUBLIC_KEY;
	if (tb[WGPEER_A_PRESHARED_KEY] && nla_len(tb[WGPEER_A_PRESHARED_KEY]) == WG_KEY_LEN) {
		memcpy(peer->preshared_key, nla_data(tb[WGPEER_A_PRESHARED_KEY]), WG_KEY_LEN);
		if (!key_is_zero(peer->preshared_key))
			peer->flags |= WGPEER_HAS_PRESHARED_KEY;
	}
	if (tb[WGPEER_A_ENDPOINT]) {
		const struct sockaddr *sa = nla_data(tb[WGPEER_A_ENDPOINT]);
		size_t len = nla_len(tb[WGPEER_A_ENDPOINT]);

		if (len == sizeof(struct sockaddr_in) && sa->sa_family == AF_INET)
			memcpy(&peer->endpoint.addr4, sa, len);
		else if (len == sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6)
			memcpy(&peer->endpoint.addr6, sa, len);
	}
	if (tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]) {
		peer->persistent_keepalive_interval = nla_get_u16(tb[WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL]);
		peer->flags |= WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL;
	}
	if (tb[WGPEER_A_LAST_HANDSHAKE_TIME] &&
	    nla_len(tb[WGPEER_A_LAST_HANDSHAKE_TIME]) == 2 * sizeof(int64_t)) {
		int64_t ts[2];

		memcpy(ts, nla_data(tb[WGPEER_A_LAST_HANDSHAKE_TIME]), sizeof(ts));
		peer->last_handshake_time.tv_sec = ts[0];
		peer->last_handshake_time.tv_nsec = ts[1];
	}
	if (tb[WGPEER_A_RX_BYTES])
		peer->rx_bytes = nla_get_u64(tb[WGPEER_A_RX_BYTES]);
	if (tb[WGPEER_A_TX_BYTES])
		peer->tx_bytes = nla_get_u64(tb[WGPEER_A_TX_BYTES]);
	if (tb[WGPEER_A_ALLOWEDIPS])
		parse_allowedips(peer, tb[WGPEER_A_ALLOWEDIPS], &err);
	return err;
}

int kernel_parse_device_message(struct wgdevice *dev, struct nlmsghdr *nlh)
{
	struct nlattr *tb[WGDEVICE_A_MAX + 1], *attr;
	int rem;

	if (genlmsg_parse(nlh, 0, tb, WGDEVICE_A_MAX, device_policy) < 0)
		return 0;
	if (tb[WGDEVICE_A_IFINDEX])
		dev->ifindex = nla_get_u32(tb[WGDEVICE_A_IFINDEX]);
	if (tb[WGDEVICE_A_IFNAME])
		snprintf(dev->name, sizeof(dev->name), "%s", nla_get_string(tb[WGDEVICE_A_IFNAME]));
	if (tb[WGDEVICE_A_PRIVATE_KEY] && nla_len(tb[WGDEVICE_A_PRIVATE_KEY]) == WG_KEY_LEN) {
		memcpy(dev->private_key, nla_data(tb[WGDEVICE_A_PRIVATE_KEY]), WG_KEY_LEN);
		dev->flags |= WGDEVICE_HAS_PRIVATE_KEY;
	}
	if (tb[WGDEVICE_A_PUBLIC_KEY] && nla_len(tb[WGDEVICE_A_PUBLIC_KEY]) == WG_KEY_LEN) {
		memcpy(dev->public_key, nla_data(tb[WGDEVICE_A_PUBLIC_KEY]), WG_KEY_LEN);
		dev->flags |= WGDEVICE_HAS_PUBLIC_KEY;
	}
	if (tb[WGDEVICE_A_LISTEN_PORT]) {
		dev->listen_port = nla_get_u16(tb[WGDEVICE_A_LISTEN_PORT]);
		dev->flags |= WGDEVICE_HAS_LISTEN_PORT;
	}
	if (tb[WGDEVICE_A_FWMARK]) {
		dev->fwmark = nla_get_u32(tb[WGDEVICE_A_FWMARK]);
		dev->flags |= WGDEVICE_HAS_FWMARK;
	}
	if (tb[WGDEVICE_A_PEERS]) {
		nla_for_each_nested(attr, tb[WGDEVICE_A_PEERS], rem) {
			if (parse_peer(dev, attr) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int on_device(struct nl_msg *msg, void *arg)
{
	struct genl_ctx *ctx = arg;

	if (kernel_parse_device_message(ctx->dev, nlmsg_hdr(msg))) {
		ctx->error = -ENOMEM;
		ctx->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

int kernel_get_device(struct wgdevice **out, const char *name)
{
	struct genl_ctx ctx = { 0 };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, ret;

	*out = NULL;
	ret = genl_open(&sk, &family);
	if (ret < 0)
		return ret == -EPROTONOSUPPORT ? -ENODEV : ret;
	ctx.dev = calloc(1, sizeof(*ctx.dev));
	msg = nlmsg_alloc();
	if (!ctx.dev || !msg) {
		ret = -ENOMEM;
		goto out;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_DUMP, WG_CMD_GET_DEVICE, WG_GENL_VERSION) ||
	    nla_put_string(msg, WGDEVICE_A_IFNAME, name) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	ret = genl_transact(sk, msg, &ctx, on_device);
	if (!ret && !ctx.dev->name[0])
		ret = -ENODEV;
	if (!ret) {
		*out = ctx.dev;
		ctx.dev = NULL;
	}
out:
	wgdevice_free(ctx.dev);
	nlmsg_free(msg);
	nl_socket_free(sk);
	return ret;
}

/* Continuation state of a SET split over messages: the next peer, and within it the next
 * allowed IP (NULL: the peer has not been started yet). */
struct set_cursor {
	struct wgpeer *peer;
	struct wgallowedip *allowedip;
	bool started;
};

static int put_allowedip(struct nl_msg *msg, const struct wgallowedip *a)
{
	struct nlattr *nest = nla_nest_start(msg, 0 | NLA_F_NESTED);
	size_t len = a->prefix.addr.family == AF_INET ? 4 : 16;

	if (!nest)
		return -ENOBUFS;
	if (nla_put_u16(msg, WGALLOWEDIP_A_FAMILY, a->prefix.addr.family) < 0 ||
	    nla_put(msg, WGALLOWEDIP_A_IPADDR, len, a->prefix.addr.bytes) < 0 ||
	    nla_put_u8(msg, WGALLOWEDIP_A_CIDR_MASK, a->prefix.cidr) < 0) {
		nla_nest_cancel(msg, nest);
		return -ENOBUFS;
	}
	nla_nest_end(msg, nest);
	return 0;
}

/* The peer's own attributes, sent only in its first chunk. */
static int put_peer_attrs(struct nl_msg *msg, const struct wgpeer *peer)
{
	uint32_t flags = 0;

	if (peer->flags & WGPEER_REMOVE_ME)
		flags |= WGPEER_F_REMOVE_ME;
	if (peer->flags & WGPEER_REPLACE_ALLOWEDIPS)
		flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
	if (peer->flags & WGPEER_UPDATE_ONLY)
		flags |= WGPEER_F_UPDATE_ONLY;
	if (flags && nla_put_u32(msg, WGPEER_A_FLAGS, flags) < 0)
		return -ENOBUFS;
	if (peer->flags & WGPEER_REMOVE_ME)
		return 0;
	if ((peer->flags & WGPEER_HAS_PRESHARED_KEY) &&
	    nla_put(msg, WGPEER_A_PRESHARED_KEY, WG_KEY_LEN, peer->preshared_key) < 0)
		return -ENOBUFS;
	if (peer->endpoint.addr.sa_family == AF_INET &&
	    nla_put(msg, WGPEER_A_ENDPOINT, sizeof(peer->endpoint.addr4), &peer->endpoint.addr4) < 0)
		return -ENOBUFS;
	if (peer->endpoint.addr.sa_family == AF_INET6 &&
	    nla_put(msg, WGPEER_A_ENDPOINT, sizeof(peer->endpoint.addr6), &peer->endpoint.addr6) < 0)
		return -ENOBUFS;
	if ((peer->flags & WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL) &&
	    nla_put_u16(msg, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, peer->persistent_keepalive_interval) < 0)
		return -ENOBUFS;
	return 0;
}

/* Fill one message with as many peers (and allowed IPs) from @cur as fit; advance @cur. */
static int fill_peers(struct nl_msg *msg, struct set_cursor *cur)
{
	struct nlattr *peers = nla_nest_start(msg, WGDEVICE_A_PEERS | NLA_F_NESTED);
	bool any = false;

	if (!peers)
		return -ENOBUFS;
	while (cur->peer) {
		struct wgpeer *peer = cur->peer;
		struct nlattr *nest = nla_nest_start(msg, 0 | NLA_F_NESTED), *ips = NULL;

		if (!nest || nla_put(msg, WGPEER_A_PUBLIC_KEY, WG_KEY_LEN, peer->public_key) < 0 ||
		    (!cur->started && put_peer_attrs(msg, peer) < 0)) {
			if (nest)
				nla_nest_cancel(msg, nest);
			break;
		}
		cur->started = true;
		any = true;
		if (!(peer->flags & WGPEER_REMOVE_ME) && peer->first_allowedip) {
			if (!cur->allowedip)
				cur->allowedip = peer->first_allowedip;
			ips = nla_nest_start(msg, WGPEER_A_ALLOWEDIPS | NLA_F_NESTED);
			if (!ips) {
				nla_nest_end(msg, nest);
				break;
			}
			while (cur->allowedip && !put_allowedip(msg, cur->allowedip))
				cur->allowedip = cur->allowedip->next_allowedip;
			nla_nest_end(msg, ips);
			if (cur->allowedip) {
				/* The message is full inside this peer; the rest follows. */
				nla_nest_end(msg, nest);
				break;
			}
		}
		nla_nest_end(msg, nest);
		cur->peer = peer->next_peer;
		cur->allowedip = NULL;
		cur->started = false;
	}
	nla_nest_end(msg, peers);
	/* Not even one peer fit into an empty message: cannot make progress. */
	return any || !cur->peer ? 0 : -E2BIG;
}

static struct nl_msg *set_message(int family, const struct wgdevice *dev, bool first)
{
	struct nl_msg *msg = nlmsg_alloc_size(SET_MESSAGE_SIZE);

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, NLM_F_ACK, WG_CMD_SET_DEVICE, WG_GENL_VERSION) ||
	    nla_put_string(msg, WGDEVICE_A_IFNAME, dev->name) < 0)
		goto fail;
	if (!first)
		return msg;
	if ((dev->flags & WGDEVICE_HAS_PRIVATE_KEY) &&
	    nla_put(msg, WGDEVICE_A_PRIVATE_KEY, WG_KEY_LEN, dev->private_key) < 0)
		goto fail;
	if ((dev->flags & WGDEVICE_HAS_LISTEN_PORT) && nla_put_u16(msg, WGDEVICE_A_LISTEN_PORT, dev->listen_port) < 0)
		goto fail;
	if ((dev->flags & WGDEVICE_HAS_FWMARK) && nla_put_u32(msg, WGDEVICE_A_FWMARK, dev->fwmark) < 0)
		goto fail;
	if ((dev->flags & WGDEVICE_REPLACE_PEERS) && nla_put_u32(msg, WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS) < 0)
		goto fail;
	return msg;
fail:
	nlmsg_free(msg);
	return NULL;
}

static void wipe_message(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	key_wipe(nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
}

int kernel_set_device(struct wgdevice *dev, char *err, size_t err_len)
{
	struct set_cursor cur = { .peer = dev->first_peer };
	struct genl_ctx ctx = { 0 };
	struct nl_sock *sk;
	int family, ret;
	unsigned int n = 0;

	ret = genl_open(&sk, &family);
	if (ret < 0) {
		/* No UAPI socket (device.c looked first) and no kernel family: no such device. */
		if (err)
			snprintf(err, err_len, "%s: %s", dev->name, ret == -EPROTONOSUPPORT ?
				 "no such WireGuard interface (no UAPI socket, and the kernel has no WireGuard)" :
				 "cannot open a generic netlink socket");
		return ret == -EPROTONOSUPPORT ? -ENODEV : ret;
	}
	do {
		struct nl_msg *msg = set_message(family, dev, n == 0);

		if (!msg) {
			ret = -ENOMEM;
			break;
		}
		ret = fill_peers(msg, &cur);
		if (!ret)
			ret = genl_transact(sk, msg, &ctx, NULL);
		wipe_message(msg);
		n++;
	} while (!ret && cur.peer);
	if (ret < 0 && err) {
		int off = snprintf(err, err_len, "WG_CMD_SET_DEVICE (message %u): %s", n, strerror(-ret));

		if (ctx.extack[0] && off > 0 && (size_t)off < err_len)
			snprintf(err + off, err_len - off, ": %s", ctx.extack);
	}
	nl_socket_free(sk);
	return ret;
}

/* Walk the links of this namespace through rtnetlink and keep those of kind "wireguard",
 * as wg(8) does to list kernel interfaces. */
int kernel_list_devices(char **names)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	char *buf = NULL;
	size_t len = 0;
	int ret;

	*names = NULL;
	if (!sk)
		return -ENOMEM;
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret >= 0)
		ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);
	if (ret < 0) {
		ret = -EIO;
		goto out;
	}
	buf = calloc(1, nl_cache_nitems(cache) * IFNAMSIZ + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_link *link = (struct rtnl_link *)obj;
		const char *type = rtnl_link_get_type(link), *name = rtnl_link_get_name(link);

		if (!type || strcmp(type, "wireguard") || !name)
			continue;
		memcpy(buf + len, name, strlen(name) + 1);
		len += strlen(name) + 1;
	}
	buf[len] = '\0';
	*names = buf;
	ret = 0;
out:
	if (cache)
		nl_cache_free(cache);
	nl_socket_free(sk);
	return ret;
}

bool kernel_has_interface(const char *name)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL;
	bool yes = false;

	if (!sk)
		return false;
	if (nl_connect(sk, NETLINK_ROUTE) >= 0 && rtnl_link_get_kernel(sk, 0, name, &link) >= 0) {
		const char *type = rtnl_link_get_type(link);

		yes = type && !strcmp(type, "wireguard");
		rtnl_link_put(link);
	}
	nl_socket_free(sk);
	return yes;
}

/* libFuzzer target for the WireGuard generic netlink GET_DEVICE parser (datapath/netlink.c,
 * kernel_parse_device_message, the dump callback without the socket). The kernel is trusted,
 * but what it sends is only as good as our reading of it: a parser that believes an
 * attribute's type without checking its length reads past the message. The input is a dump:
 * messages, each [length, 2 bytes LE][genlmsghdr and attributes], each put after an
 * nlmsghdr in a buffer of exactly its size (so ASan sees any read past it), all merged into
 * one struct wgdevice as the dump does; each message is also read as an NLMSG_ERROR with its
 * extended ack (kernel_parse_error_message). Checked: no crash, leak or undefined behaviour;
 * the extended ack is a NUL-terminated string; what was parsed is sane (a NUL-terminated
 * name, allowed IPs of a real family and prefix length, endpoints of a real family) and
 * prints as `podwirectl show` and `showconf` would. */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/show_format.h"
#include "datapath/netlink.h"
#include "datapath/wgdevice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct wgdevice *dev)
{
	const struct wgpeer *p;
	const struct wgallowedip *a;

	if (!memchr(dev->name, '\0', sizeof(dev->name)))
		abort();
	for (p = dev->first_peer; p; p = p->next_peer) {
		int fam = p->endpoint.addr.sa_family;

		if (fam != 0 && fam != AF_INET && fam != AF_INET6)
			abort();
		for (a = p->first_allowedip; a; a = a->next_allowedip) {
			if (a->prefix.addr.family == AF_INET ? a->prefix.cidr > 32 :
			    a->prefix.addr.family == AF_INET6 ? a->prefix.cidr > 128 : 1)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgdevice *dev = calloc(1, sizeof(*dev));
	FILE *null;

	if (!dev)
		return 0;
	while (size >= 2) {
		size_t len = (size_t)(data[0] | data[1] << 8);
		struct nlmsghdr *nlh;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		nlh = malloc(NLMSG_HDRLEN + len);
		if (!nlh)
			break;
		memset(nlh, 0, NLMSG_HDRLEN);
		nlh->nlmsg_len = (uint32_t)(NLMSG_HDRLEN + len);
		nlh->nlmsg_type = GENL_ID_CTRL + 1; /* whatever id the family got */
		nlh->nlmsg_flags = NLM_F_MULTI;
		memcpy((uint8_t *)nlh + NLMSG_HDRLEN, data, len);
		data += len;
		size -= len;
		if (kernel_parse_device_message(dev, nlh))
			abort(); /* only -ENOMEM, which the fuzzer's allocator never gives */
		/* The same bytes as an error or ack (struct nlmsgerr, the request quoted unless
		 * capped, then attributes); the extended-ack flags come from the third byte. */
		if (len >= 3) {
			uint8_t f = ((const uint8_t *)nlh)[NLMSG_HDRLEN + 2];
			char extack[64];

			nlh->nlmsg_type = NLMSG_ERROR;
			nlh->nlmsg_flags = (f & 1 ? NLM_F_ACK_TLVS : 0) | (f & 2 ? NLM_F_CAPPED : 0);
			kernel_parse_error_message(nlh, extack, sizeof(extack));
			if (!memchr(extack, '\0', sizeof(extack)))
				abort();
		}
		free(nlh);
	}
	check(dev);
	null = fopen("/dev/null", "w");
	if (null) {
		struct show_style style = { null, true, true, 1700000000 };

		show_keyword(null, dev, "dump", true);
		show_pretty(&style, dev);
		show_config(null, dev);
		fclose(null);
	}
	wgdevice_free(dev);
	return 0;
}

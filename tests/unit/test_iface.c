/* The endpoint podwired advertises when neither --endpoint nor the store gives one: the first
 * usable IPv4 address, else the first usable IPv6 one (an IPv6-only node); and the tunnel MTU
 * taken from the underlay's. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daemon/iface.h"

struct fake_if {
	struct ifaddrs ifa;
	struct sockaddr_storage addr;
};

static void fake(struct fake_if *f, struct fake_if *next, const char *name, int family, const char *ip, unsigned flags)
{
	memset(f, 0, sizeof(*f));
	f->ifa.ifa_next = next ? &next->ifa : NULL;
	f->ifa.ifa_name = (char *)name;
	f->ifa.ifa_flags = flags;
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&f->addr;

		sin->sin_family = AF_INET;
		inet_pton(AF_INET, ip, &sin->sin_addr);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->addr;

		sin6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, ip, &sin6->sin6_addr);
	}
	f->ifa.ifa_addr = family ? (struct sockaddr *)&f->addr : NULL;
}

static void test_pick(void **state)
{
	struct fake_if f[8];
	char out[64];

	fake(&f[0], &f[1], "lo", AF_INET, "127.0.0.1", IFF_UP | IFF_LOOPBACK);
	fake(&f[1], &f[2], "eth0", 0, NULL, IFF_UP);			/* no address */
	fake(&f[2], &f[3], "eth0", AF_INET6, "2001:db8::1", IFF_UP);	/* IPv6: only without IPv4 */
	fake(&f[3], &f[4], "eth1", AF_INET, "192.0.2.9", 0);		/* down */
	fake(&f[4], &f[5], "wg-pods", AF_INET, "10.99.0.1", IFF_UP);	/* our own interface */
	fake(&f[5], &f[6], "veth1", AF_INET, "169.254.1.1", IFF_UP);	/* link-local pod gateway */
	fake(&f[6], &f[7], "eth0", AF_INET, "192.0.2.10", IFF_UP);
	fake(&f[7], NULL, "eth2", AF_INET, "198.51.100.1", IFF_UP);
	assert_int_equal(iface_endpoint_pick(&f[0].ifa, "wg-pods", 51820, out, sizeof(out)), 0);
	assert_string_equal(out, "192.0.2.10:51820");
	/* Under another name the tunnel address is just an address. */
	assert_int_equal(iface_endpoint_pick(&f[0].ifa, "wg0", 7, out, sizeof(out)), 0);
	assert_string_equal(out, "10.99.0.1:7");
	/* No usable IPv4 address before the list ends: the IPv6 one, in brackets. */
	f[4].ifa.ifa_next = NULL;
	assert_int_equal(iface_endpoint_pick(&f[0].ifa, "wg-pods", 51820, out, sizeof(out)), 0);
	assert_string_equal(out, "[2001:db8::1]:51820");
	/* A link-local IPv6 address has a scope no peer can name. */
	inet_pton(AF_INET6, "fe80::1", &((struct sockaddr_in6 *)&f[2].addr)->sin6_addr);
	assert_int_equal(iface_endpoint_pick(&f[0].ifa, "wg-pods", 51820, out, sizeof(out)), -EADDRNOTAVAIL);
	assert_int_equal(iface_endpoint_pick(NULL, "wg-pods", 51820, out, sizeof(out)), -EADDRNOTAVAIL);
}

/* wg-quick's overhead of 80, the IPv6 floor, and its fallback when the underlay is unknown. */
static void test_tunnel_mtu(void **state)
{
	assert_int_equal(iface_tunnel_mtu(1500), 1420);
	assert_int_equal(iface_tunnel_mtu(1460), 1380);	/* GCE */
	assert_int_equal(iface_tunnel_mtu(9001), 8921);	/* AWS jumbo frames */
	assert_int_equal(iface_tunnel_mtu(1400), 1320);
	assert_int_equal(iface_tunnel_mtu(1360), 1280);
	assert_int_equal(iface_tunnel_mtu(1300), 1280);	/* never below IPv6's minimum */
	assert_int_equal(iface_tunnel_mtu(0), 1420);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_tunnel_mtu),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

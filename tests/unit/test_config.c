/* The wg-quick config parser, its key files and commands, and strip, against what wg-quick and
 * wg(8) do with the same text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/config.h"

/* RFC 7748 §6.1: Alice's private key, Alice's and Bob's public keys. */
#define PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PUB_A "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PUB_B "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define PSK "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

static struct config *parse_ok(const char *text)
{
	struct config *conf = NULL;
	char err[512];
	int ret = config_parse(&conf, "t.conf", text, err, sizeof(err));

	if (ret)
		fail_msg("unexpected error: %s", err);
	assert_non_null(conf);
	return conf;
}

static void assert_parse_error(const char *text, const char *expected)
{
	struct config *conf = (struct config *)1;
	char err[512];

	assert_int_equal(config_parse(&conf, "t.conf", text, err, sizeof(err)), -EINVAL);
	assert_null(conf);
	if (strcmp(err, expected))
		fail_msg("for:\n%s\nexpected: %s\n     got: %s", text, expected, err);
}

static void assert_prefix(const struct ip_prefix *p, const char *text)
{
	char buf[IP_PREFIX_STRLEN];

	ip_prefix_format(p, buf, sizeof(buf));
	assert_string_equal(buf, text);
}

static void assert_key(const uint8_t key[WG_KEY_LEN], const char *base64)
{
	char buf[WG_KEY_LEN_BASE64];

	key_to_base64(buf, key);
	assert_string_equal(buf, base64);
}

static void test_every_key(void **state)
{
	struct config *c = parse_ok(
		"[Interface]\n"
		"# Name = node1.example.tld\n"
		"Address = 192.0.2.3/32\n"
		"ListenPort = 51820\n"
		"PrivateKey = " PRIV "\n"
		"DNS = 1.1.1.1,8.8.8.8, example.com\n"
		"Table = 12345\n"
		"MTU = 1420\n"
		"PreUp = /bin/example arg1 arg2 %i\n"
		"PostUp = /bin/example arg1 arg2 %i\n"
		"PreDown = /bin/example pre %i\n"
		"PostDown = /bin/example post %i\n"
		"FwMark = 0x10\n"
		"SaveConfig = true\n"
		"\n"
		"[Peer]\n"
		"# Name = node2-node.example.tld\n"
		"AllowedIPs = 192.0.2.1/24\n"
		"Endpoint = node1.example.tld:51820\n"
		"PublicKey = " PUB_A "\n"
		"PresharedKey = " PSK "\n"
		"PersistentKeepalive = 25\n");
	const struct config_interface *i = &c->iface;
	const struct config_peer *p = &c->peers[0];

	(void)state;
	assert_string_equal(c->path, "t.conf");
	assert_true(c->has_interface);
	assert_string_equal(i->name, "node1.example.tld");
	assert_int_equal(i->n_addresses, 1);
	assert_prefix(&i->addresses[0], "192.0.2.3/32");
	assert_true(i->has_listen_port);
	assert_int_equal(i->listen_port, 51820);
	assert_true(i->has_private_key);
	assert_key(i->private_key, PRIV);
	assert_int_equal(i->n_dns, 2);
	assert_int_equal(i->dns_search.n, 1);
	assert_string_equal(i->dns_search.v[0], "example.com");
	assert_int_equal(i->table, CONFIG_TABLE_ID);
	assert_int_equal(i->table_id, 12345);
	assert_string_equal(i->table_text, "12345");
	assert_int_equal(i->mtu, 1420);
	assert_int_equal(i->pre_up.n, 1);
	assert_string_equal(i->pre_up.v[0], "/bin/example arg1 arg2 %i");
	assert_string_equal(i->post_up.v[0], "/bin/example arg1 arg2 %i");
	assert_string_equal(i->pre_down.v[0], "/bin/example pre %i");
	assert_string_equal(i->post_down.v[0], "/bin/example post %i");
	assert_true(i->has_fwmark);
	assert_int_equal(i->fwmark, 16);
	assert_true(i->save_config);
	assert_int_equal(c->n_peers, 1);
	assert_string_equal(p->name, "node2-node.example.tld");
	assert_int_equal(p->line, 16);
	assert_key(p->public_key, PUB_A);
	assert_true(p->has_preshared_key);
	assert_key(p->preshared_key, PSK);
	assert_string_equal(p->endpoint, "node1.example.tld:51820");
	assert_int_equal(p->n_allowed_ips, 1);
	assert_prefix(&p->allowed_ips[0], "192.0.2.1/24"); /* host bits kept, as written */
	assert_true(p->has_persistent_keepalive);
	assert_int_equal(p->persistent_keepalive, 25);
	config_free(c);
}

static void test_repeated_and_lists(void **state)
{
	struct config *c = parse_ok(
		"[Interface]\n"
		"Address = 10.0.0.1/24,fd00::1/64\n"
		"Address = 10.0.1.1/24 , 10.0.2.1\n"
		"Address =\n"
		"DNS = 10.0.0.53 fd00::53,corp.example,lan\n"
		"DNS = 9.9.9.9\n"
		"PostUp = first\n"
		"PostUp = second; third\n"
		"PostUp = echo a # a comment is cut, as wg-quick cuts it\n"
		"ListenPort = 1\n"
		"ListenPort = 2\n"
		"[Peer]\n"
		"PublicKey = " PUB_A "\n"
		"AllowedIPs = 10.0.0.2/32, 10.9.0.0/16,fd00::2/128\n"
		"AllowedIPs = 0.0.0.0/0\n"
		"Allowed IPs = 192.168.1.1 / 24\n"
		"[Peer]\n"
		"PublicKey = " PUB_B "\n"
		"Endpoint = [fd00::9]:51820\n"
		"Endpoint = 192.0.2.9:1\n");
	const struct config_interface *i = &c->iface;

	(void)state;
	assert_int_equal(i->n_addresses, 4);
	assert_prefix(&i->addresses[0], "10.0.0.1/24");
	assert_prefix(&i->addresses[1], "fd00::1/64");
	assert_prefix(&i->addresses[2], "10.0.1.1/24");
	assert_prefix(&i->addresses[3], "10.0.2.1/32");
	assert_int_equal(i->n_dns, 3);
	assert_int_equal(i->dns_search.n, 2);
	assert_string_equal(i->dns_search.v[1], "lan");
	assert_int_equal(i->post_up.n, 3);
	assert_string_equal(i->post_up.v[0], "first");
	assert_string_equal(i->post_up.v[1], "second; third");
	assert_string_equal(i->post_up.v[2], "echo a");
	assert_int_equal(i->listen_port, 2);
	assert_int_equal(c->n_peers, 2);
	assert_int_equal(c->peers[0].n_allowed_ips, 5);
	assert_prefix(&c->peers[0].allowed_ips[2], "fd00::2/128");
	assert_prefix(&c->peers[0].allowed_ips[4], "192.168.1.1/24");
	assert_null(c->peers[0].endpoint);
	assert_string_equal(c->peers[1].endpoint, "192.0.2.9:1");
	assert_int_equal(c->peers[1].line, 17);
	config_free(c);
}

static void test_case_and_spacing(void **state)
{
	struct config *c = parse_ok(
		"  [interface]   # trailing comment\n"
		"\taddress=10.0.0.1/24\r\n"
		"LISTENPORT =51820\n"
		"privatekey= " PRIV "\n"
		"mtu = 1280\n"
		"table = off\n"
		"saveconfig = FALSE\n"
		"fwmark = OFF\n"
		"Listen Port = 51821\n"
		"[PEER]\n"
		"publickey=" PUB_A "\n"
		"persistentkeepalive = off\n"
		"Endpoint=host.example:51820 # where it is\n");

	(void)state;
	assert_int_equal(c->iface.n_addresses, 1);
	assert_int_equal(c->iface.listen_port, 51821);
	assert_int_equal(c->iface.mtu, 1280);
	assert_int_equal(c->iface.table, CONFIG_TABLE_OFF);
	assert_false(c->iface.save_config);
	assert_true(c->iface.has_fwmark);
	assert_int_equal(c->iface.fwmark, 0);
	assert_true(c->peers[0].has_persistent_keepalive);
	assert_int_equal(c->peers[0].persistent_keepalive, 0);
	assert_string_equal(c->peers[0].endpoint, "host.example:51820");
	config_free(c);
}

static void test_names_and_sections(void **state)
{
	struct config *c = parse_ok(
		"# Name = before any section: nobody's\n"
		"[Interface]\n"
		"#Name=tight\n"
		"# Name = second one is ignored\n"
		"[Peer]\n"
		"PublicKey = " PUB_A "\n"
		"# nAmE =   spaced out  \n"
		"[Peer]\n"
		"# Names = not a name\n"
		"PublicKey = " PUB_B "\n"
		"[Interface]\n"
		"ListenPort = 7\n");

	(void)state;
	assert_string_equal(c->iface.name, "tight");
	assert_string_equal(c->peers[0].name, "spaced out");
	assert_null(c->peers[1].name);
	assert_int_equal(c->iface.listen_port, 7);
	config_free(c);

	/* An empty file is an empty config, as for wg setconf. */
	c = parse_ok("");
	assert_false(c->has_interface);
	assert_int_equal(c->n_peers, 0);
	config_free(c);
	/* A last line without a newline still counts. */
	c = parse_ok("[Interface]\nListenPort = 9");
	assert_int_equal(c->iface.listen_port, 9);
	config_free(c);
}

static void test_tables_and_values(void **state)
{
	static const struct { const char *text; enum config_table table; uint32_t id; } cases[] = {
		{ "[Interface]\nTable = auto\n", CONFIG_TABLE_AUTO, 0 },
		{ "[Interface]\nTable =\n", CONFIG_TABLE_AUTO, 0 },
		{ "[Interface]\nTable = off\n", CONFIG_TABLE_OFF, 0 },
		{ "[Interface]\nTable = main\n", CONFIG_TABLE_ID, 254 },
		{ "[Interface]\nTable = 4294967295\n", CONFIG_TABLE_ID, 4294967295U },
	};
	struct config *c;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = parse_ok(cases[i].text);
		assert_int_equal(c->iface.table, cases[i].table);
		assert_int_equal(c->iface.table_id, cases[i].id);
		config_free(c);
	}
	c = parse_ok("[Interface]\nListenPort = ntp\n"); /* a service name, as getaddrinfo takes it */
	assert_int_equal(c->iface.listen_port, 123);
	config_free(c);
	c = parse_ok("[Interface]\nFwMark = 4294967295\nMTU =\n");
	assert_int_equal(c->iface.fwmark, 4294967295U);
	assert_int_equal(c->iface.mtu, 0);
	config_free(c);
	c = parse_ok("[Interface]\nFwMark = 0xffffffff\nListenPort = 0\n[Peer]\nPublicKey=" PUB_A
		     "\nPersistentKeepalive = 65535\nEndpoint = [::1]:0\n");
	assert_int_equal(c->iface.fwmark, 0xffffffffU);
	assert_true(c->iface.has_listen_port);
	assert_int_equal(c->peers[0].persistent_keepalive, 65535);
	config_free(c);
}

static void test_errors(void **state)
{
	static const struct { const char *text, *err; } cases[] = {
		{ "[Interface]\nFoo = bar\n", "t.conf:2: unknown key 'Foo' in [Interface]" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAddress = 10.0.0.1\n", "t.conf:3: unknown key 'Address' in [Peer]" },
		{ "[Interface]\nAllowedIps = 192.0.2.3/24\n", "t.conf:2: unknown key 'AllowedIps' in [Interface]" },
		{ "ListenPort = 1\n", "t.conf:1: 'ListenPort' is outside of an [Interface] or [Peer] section" },
		{ "[Interfaces]\n", "t.conf:1: unknown section '[Interfaces]': expected [Interface] or [Peer]" },
		{ "[Interface]\nListenPort\n", "t.conf:2: expected 'KEY = VALUE', found 'ListenPort'" },
		{ "[Interface]\nListenPort =\n", "t.conf:2: ListenPort has no value" },
		{ "[Interface]\nListenPort = 65536\n", "t.conf:2: invalid ListenPort '65536': must be a number from 0 to 65535 or a UDP service name" },
		{ "[Interface]\nListenPort = off\n", "t.conf:2: invalid ListenPort 'off': must be a number from 0 to 65535 or a UDP service name" },
		{ "[Interface]\nPrivateKey = abc\n", "t.conf:2: invalid PrivateKey: not a 44-character base64 WireGuard key" },
		{ "[Interface]\nFwMark = 0x100000000\n", "t.conf:2: invalid FwMark '0x100000000': neither 0/off nor 0-0xffffffff" },
		{ "[Interface]\nFwMark = 0X10\n", "t.conf:2: invalid FwMark '0X10': neither 0/off nor 0-0xffffffff" },
		{ "[Interface]\nAddress = 10.0.0.1/33\n", "t.conf:2: invalid Address '10.0.0.1/33': prefix length out of range" },
		{ "[Interface]\nAddress = 10.0.0.1,10.0.0.256\n", "t.conf:2: invalid Address '10.0.0.256': not an IPv4 address" },
		{ "[Interface]\nDNS = 1.1.1\n", "t.conf:2: invalid DNS '1.1.1': not an IPv4 or IPv6 address" },
		{ "[Interface]\nMTU = 1500b\n", "t.conf:2: invalid MTU '1500b': must be a number from 68 to 65535" },
		{ "[Interface]\nMTU = 67\n", "t.conf:2: invalid MTU '67': must be a number from 68 to 65535" },
		{ "[Interface]\nTable = Off\n", "t.conf:2: invalid Table 'Off': not off, auto, a number or a table name from rt_tables" },
		{ "[Interface]\nTable = 0\n", "t.conf:2: invalid Table '0': table number out of range 1-4294967295" },
		{ "[Interface]\nSaveConfig = yes\n", "t.conf:2: invalid SaveConfig 'yes': neither true nor false" },
		{ "[Peer]\nEndpoint = 1.2.3.4:51820\n", "t.conf:1: [Peer] has no PublicKey" },
		{ "[Peer]\nPublicKey = " PUB_A "\n[Peer]\n[Interface]\n", "t.conf:3: [Peer] has no PublicKey" },
		{ "[Peer]\nPublicKey = " PUB_A "x\n", "t.conf:2: invalid PublicKey '" PUB_A "x': not a 44-character base64 WireGuard key" },
		{ "[Peer]\nPublicKey = " PUB_A "\nPresharedKey = nope\n", "t.conf:3: invalid PresharedKey: not a 44-character base64 WireGuard key" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = 10.0.0.1/33\n", "t.conf:3: invalid AllowedIPs '10.0.0.1/33': prefix length out of range" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = 10.0.0.0/8,\n", "t.conf:3: invalid AllowedIPs '': empty entry" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = fd00::/129\n", "t.conf:3: invalid AllowedIPs 'fd00::/129': prefix length out of range" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = 10.0.0.0/x\n", "t.conf:3: invalid AllowedIPs '10.0.0.0/x': prefix length is not a number" },
		{ "[Peer]\nPublicKey = " PUB_A "\nAllowedIPs = fd00:::1/64\n", "t.conf:3: invalid AllowedIPs 'fd00:::1/64': not an IPv6 address" },
		{ "[Peer]\nPublicKey = " PUB_A "\nEndpoint = 1.2.3.4\n", "t.conf:3: invalid Endpoint '1.2.3.4': no port: expected HOST:PORT or [IPV6]:PORT" },
		{ "[Peer]\nPublicKey = " PUB_A "\nEndpoint = [fd00::1:51820\n", "t.conf:3: invalid Endpoint '[fd00::1:51820': no matching ']'" },
		{ "[Peer]\nPublicKey = " PUB_A "\nEndpoint = fd00::1:51820\n", "t.conf:3: invalid Endpoint 'fd00::1:51820': an IPv6 address needs brackets: [IPV6]:PORT" },
		{ "[Peer]\nPublicKey = " PUB_A "\nEndpoint = host:99999\n", "t.conf:3: invalid Endpoint 'host:99999': port must be a number from 0 to 65535" },
		{ "[Peer]\nPublicKey = " PUB_A "\nPersistentKeepalive = 65536\n", "t.conf:3: invalid PersistentKeepalive '65536': neither 0/off nor 1-65535" },
		{ "[Peer]\nPublicKey = " PUB_A "\nPersistentKeepalive = -1\n", "t.conf:3: invalid PersistentKeepalive '-1': neither 0/off nor 1-65535" },
		{ "[Interface]\nPrivateKey = " PRIV "\nPrivateKeyFile = /k\n", "t.conf:3: PrivateKeyFile conflicts with an earlier PrivateKey line: give the key one way only" },
		{ "[Interface]\nPrivateKeyCommand = cat /k\nPrivateKey = " PRIV "\n", "t.conf:3: PrivateKey conflicts with an earlier PrivateKeyCommand line: give the key one way only" },
		{ "[Interface]\nPrivateKeyFile =\n", "t.conf:2: PrivateKeyFile has no value" },
		{ "[Peer]\nPublicKey = " PUB_A "\nPresharedKeyFile = /a\nPresharedKeyCommand = b\n", "t.conf:4: PresharedKeyCommand conflicts with an earlier PresharedKeyFile line: give the key one way only" },
		{ "[Interface]\nPresharedKeyFile = /a\n", "t.conf:2: unknown key 'PresharedKeyFile' in [Interface]" },
		/* wg-quick only takes its own keys under an exact "[Interface]"; wg(8) then refuses them. */
		{ "[ Interface ]\nAddress = 10.0.0.1/24\n", "t.conf:2: 'Address' is a wg-quick key, but wg-quick reads it only after an exact [Interface] header" },
		{ "[Interface]\nPost Up = true\n", "t.conf:2: unknown key 'Post Up' in [Interface]" },
		{ "[Interface]\nListenPort = 1\n\n\n[Peer]\nPublicKey = " PUB_A "\nEndpoint = :1\n", "t.conf:7: invalid Endpoint ':1': empty host" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_parse_error(cases[i].text, cases[i].err);
}

static char tmpdir[64];

static char *write_file(const char *name, const char *content, mode_t mode)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int make_tmpdir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pa-unit-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) ? -1 : 0;
}

static int load(const char *text, struct config **c, char *err, size_t len)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), "%s/wg0.conf", tmpdir);
	assert_int_equal(config_parse(c, path, text, err, len), 0);
	ret = config_load_secrets(*c, err, len);
	return ret;
}

static void test_secrets(void **state)
{
	struct config *c;
	char err[512], text[1024], expect[512];
	const char *key;

	(void)state;
	write_file("psk.key", "  " PSK "  \n\n", 0400);
	key = write_file("priv.key", PRIV "\n", 0600); /* the last path written stays valid */
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = " PUB_A "\nPresharedKeyFile = psk.key\n"
		 "[Peer]\nPublicKey = " PUB_B "\nPresharedKeyCommand = printf '%%s\\n' '" PSK "'\n", key);
	assert_int_equal(load(text, &c, err, sizeof(err)), 0);
	assert_true(c->iface.has_private_key);
	assert_key(c->iface.private_key, PRIV);
	assert_true(c->peers[0].has_preshared_key);
	assert_key(c->peers[0].preshared_key, PSK);
	assert_key(c->peers[1].preshared_key, PSK);
	config_free(c);

	/* A key file others can read is refused, and nothing is loaded. */
	key = write_file("open.key", PRIV "\n", 0644);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", key);
	assert_int_equal(load(text, &c, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s/wg0.conf:2: PrivateKeyFile '%s': readable by group or others (mode 0644); chmod 600 it",
		 tmpdir, key);
	assert_string_equal(err, expect);
	assert_false(c->iface.has_private_key);
	config_free(c);

	key = write_file("group.key", PRIV "\n", 0640);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = " PRIV "\n[Peer]\nPublicKey = " PUB_A "\nPresharedKeyFile = %s\n", key);
	assert_int_equal(load(text, &c, err, sizeof(err)), -EINVAL);
	/* The line of the PresharedKeyFile key itself, not of its [Peer] header. */
	assert_non_null(strstr(err, ":5: PresharedKeyFile '"));
	assert_non_null(strstr(err, "(mode 0640)"));
	config_free(c);

	/* A key file another user owns (who could choose our key) is refused; so is a FIFO,
	 * at once rather than blocking until someone writes it. */
	if (geteuid() == 0) {
		key = write_file("theirs.key", PRIV "\n", 0600);
		assert_int_equal(chown(key, 65534, 65534), 0);
		snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", key);
		assert_int_equal(load(text, &c, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "owned by uid 65534"));
		config_free(c);
	}
	snprintf(text, sizeof(text), "%s/fifo.key", tmpdir);
	assert_int_equal(mkfifo(text, 0600), 0);
	assert_int_equal(load("[Interface]\nPrivateKeyFile = fifo.key\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "PrivateKeyFile 'fifo.key': not a regular file"));
	config_free(c);

	key = write_file("bad.key", "not a key\n", 0600);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", key);
	assert_int_equal(load(text, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not hold a 44-character base64 WireGuard key"));
	config_free(c);

	assert_int_equal(load("[Interface]\nPrivateKeyFile = missing.key\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "wg0.conf:2: PrivateKeyFile 'missing.key': No such file or directory"));
	config_free(c);

	assert_int_equal(load("[Interface]\nPrivateKeyCommand = exit 3\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: PrivateKeyCommand 'exit 3': exited with status 3"));
	config_free(c);

	assert_int_equal(load("[Interface]\nPrivateKeyCommand = echo hello\n", &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "did not print a 44-character base64 WireGuard key"));
	config_free(c);
}

static void test_parse_file(void **state)
{
	struct config *c;
	char err[512], expect[256];
	const char *path;

	(void)state;
	path = write_file("wg1.conf", "[Interface]\nListenPort = 5\n", 0600);
	assert_int_equal(config_parse_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c->iface.listen_port, 5);
	assert_string_equal(c->path, path);
	config_free(c);

	path = write_file("wg2.conf", "[Interface]\nListenPort = 5\nMTU = x\n", 0600);
	assert_int_equal(config_parse_file(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:3: invalid MTU 'x': must be a number from 68 to 65535", path);
	assert_string_equal(err, expect);
	assert_null(c);

	snprintf(expect, sizeof(expect), "%s/nope.conf", tmpdir);
	assert_int_equal(config_parse_file(&c, expect, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope.conf: No such file or directory"));
}

static void test_ifname_and_path(void **state)
{
	char path[256], ifname[16], err[256];

	(void)state;
	assert_true(config_valid_ifname("wg0"));
	assert_true(config_valid_ifname("a_b=c+d.e-f"));
	assert_true(config_valid_ifname("123456789012345"));
	assert_false(config_valid_ifname("1234567890123456"));
	assert_false(config_valid_ifname(""));
	assert_false(config_valid_ifname("wg 0"));
	assert_false(config_valid_ifname("wg/0"));

	assert_int_equal(config_resolve_path("wg0", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), 0);
	assert_string_equal(path, "/etc/wireguard/wg0.conf");
	assert_string_equal(ifname, "wg0");
	assert_int_equal(config_resolve_path("/tmp/x/pa1.conf", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), 0);
	assert_string_equal(path, "/tmp/x/pa1.conf");
	assert_string_equal(ifname, "pa1");
	assert_int_equal(config_resolve_path("./a.b.conf", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), 0);
	assert_string_equal(ifname, "a.b");
	assert_int_equal(config_resolve_path("/tmp/x/wg0.cfg", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "`/tmp/x/wg0.cfg': the config file must be a valid interface name, followed by .conf");
	assert_int_equal(config_resolve_path("/tmp/1234567890123456.conf", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), -EINVAL);
	assert_int_equal(config_resolve_path("/tmp/x/.conf", path, sizeof(path), ifname, sizeof(ifname), err, sizeof(err)), -EINVAL);
}

static void test_strip(void **state)
{
	static const char *in =
		"# comment stays\n"
		"  [Interface]  \n"
		"Address = 10.0.0.1/24\n"
		"  PrivateKey = " PRIV "   \n"
		"DNS=1.1.1.1\n"
		"mtu = 1420\n"
		"PostUp = echo %i\n"
		"PrivateKeyFile = /x\n"
		"\n"
		"[Peer]\n"
		"PublicKey=" PUB_A "\n"
		"PresharedKeyCommand = cat /y\n"
		"AllowedIPs = 0.0.0.0/0 # all\n"
		"\tEndpoint = 1.2.3.4:5";
	static const char *out =
		"# comment stays\n"
		"[Interface]\n"
		"PrivateKey = " PRIV "\n"
		"PrivateKeyFile = /x\n"
		"\n"
		"[Peer]\n"
		"PublicKey=" PUB_A "\n"
		"PresharedKeyCommand = cat /y\n"
		"AllowedIPs = 0.0.0.0/0 # all\n"
		"Endpoint = 1.2.3.4:5\n"
		"\n";
	char *s;

	(void)state;
	assert_int_equal(config_strip(in, NULL, &s), 0);
	assert_string_equal(s, out);
	config_text_free(s);
	assert_int_equal(config_strip("", NULL, &s), 0);
	assert_string_equal(s, "\n");
	config_text_free(s);
	/* A relative key file is made absolute: the stripped text is read from a pipe. */
	assert_int_equal(config_strip("[Interface]\n  privatekeyfile=k/wg0.key # mine\nPrivateKeyCommand = cat k\n"
				      "[Peer]\nPresharedKeyFile = /abs.psk\nPresharedKeyFile=p.psk\n",
				      "/etc/wireguard", &s), 0);
	assert_string_equal(s, "[Interface]\nprivatekeyfile = /etc/wireguard/k/wg0.key\nPrivateKeyCommand = cat k\n"
			       "[Peer]\nPresharedKeyFile = /abs.psk\nPresharedKeyFile = /etc/wireguard/p.psk\n\n");
	config_text_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_repeated_and_lists),
		cmocka_unit_test(test_case_and_spacing),
		cmocka_unit_test(test_names_and_sections),
		cmocka_unit_test(test_tables_and_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_ifname_and_path),
		cmocka_unit_test(test_strip),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}

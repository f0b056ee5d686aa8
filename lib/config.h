/* config.h — the wg-quick configuration file, parsed once into one struct that the CLI,
 * the daemon and the datapath share.
 *
 * The parser follows wg-quick and wg(8): sections [Interface] and [Peer], keys
 * case-insensitive, '#' starts a comment, repeated keys and comma lists accumulate for
 * Address, DNS, AllowedIPs and the hooks. A comment of the form "# Name = x" names the
 * section it is in. podwire extensions, secrets from files or commands: PrivateKeyFile,
 * PrivateKeyCommand, PresharedKeyFile, PresharedKeyCommand. Nothing is resolved while parsing: endpoints stay
 * text, key files and commands are read only by config_load_secrets(). */
#ifndef PODWIRE_CONFIG_H
#define PODWIRE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ipaddr.h"
#include "lib/key.h"

enum config_table {
	CONFIG_TABLE_AUTO, /* default: main table, or full-tunnel policy routing */
	CONFIG_TABLE_OFF,  /* no routes at all */
	CONFIG_TABLE_ID,   /* routes into table_id */
};

struct config_strings {
	char **v;
	size_t n;
};

struct config_interface {
	char *name;			  /* "# Name = x" comment, or NULL */
	struct ip_prefix *addresses;	  /* Address, in file order */
	size_t n_addresses;
	bool has_listen_port;
	uint16_t listen_port;
	bool has_private_key;		  /* key given inline */
	uint8_t private_key[WG_KEY_LEN];
	char *private_key_file;		  /* podwire extension */
	char *private_key_command;	  /* podwire extension */
	unsigned int private_key_source_line; /* line of PrivateKeyFile/Command, for messages */
	unsigned int wgquick_line;	  /* line of the first wg-quick key (Address, DNS, ...) */
	struct ip_addr *dns;		  /* DNS entries that are addresses */
	size_t n_dns;
	struct config_strings dns_search; /* DNS entries that are not addresses */
	enum config_table table;
	uint32_t table_id;
	char *table_text;		  /* Table value as written (wg-quick passes names to ip) */
	uint32_t mtu;			  /* 0: automatic */
	struct config_strings pre_up, post_up, pre_down, post_down; /* "%i" left in */
	bool has_fwmark;
	uint32_t fwmark;		  /* "off" is 0 */
	bool save_config;
};

struct config_peer {
	char *name;			  /* "# Name = x" comment, or NULL */
	unsigned int line;		  /* line of its [Peer] header */
	uint8_t public_key[WG_KEY_LEN];
	bool has_preshared_key;
	uint8_t preshared_key[WG_KEY_LEN];
	char *preshared_key_file;	  /* podwire extension */
	char *preshared_key_command;	  /* podwire extension */
	unsigned int preshared_key_source_line; /* line of PresharedKeyFile/Command */
	char *endpoint;			  /* "host:port" / "[v6]:port", unresolved; NULL if none */
	struct ip_prefix *allowed_ips;
	size_t n_allowed_ips;
	bool has_persistent_keepalive;
	uint16_t persistent_keepalive;	  /* "off" is 0 */
};

struct config {
	char *path;			  /* file it came from, for messages */
	bool has_interface;		  /* an [Interface] section was present */
	struct config_interface iface;
	struct config_peer *peers;
	size_t n_peers;
};

/* Parse @text (from @path, used in messages). On error returns -EINVAL and writes
 * "PATH:LINE: reason" into @err; *out is then NULL (nothing half-parsed escapes). */
int config_parse(struct config **out, const char *path, const char *text, char *err, size_t err_len);
/* Read and parse a file; errors as config_parse, or "PATH: strerror" when it cannot be read. */
int config_parse_file(struct config **out, const char *path, char *err, size_t err_len);
/* Read a whole config file into *text (NUL-terminated; a NUL byte inside is an error naming
 * its line). Free with config_text_free(), which wipes it: it may hold keys. */
int config_read_file(const char *path, char **text, char *err, size_t err_len);
void config_text_free(char *text);
/* Read PrivateKeyFile/PrivateKeyCommand/PresharedKey{File,Command} into the key fields.
 * Key files readable by group or others are refused. */
int config_load_secrets(struct config *conf, char *err, size_t err_len);
/* Wipe keys and free everything. */
void config_free(struct config *conf);

/* `wg-quick strip`: the lines of @text that wg(8) reads, as wg-quick prints them (each line
 * as `read -r` left it, then one more newline), without the keys wg-quick handles itself
 * (Address, DNS, MTU, Table, hooks, SaveConfig). podwire's key sources (PrivateKeyFile,
 * PrivateKeyCommand, PresharedKeyFile, PresharedKeyCommand) stay, as wg-quick keeps every line
 * it does not own: `podwirectl syncconf IF <(podwirectl strip IF)` then keeps the keys, where
 * dropping them would wipe the private key. A relative key file is written as @dir/FILE
 * (@dir: the config's directory, absolute), because the stripped text is read from elsewhere
 * (a pipe); with @dir NULL it stays as written. Nothing is read or run. @text should have
 * passed config_parse(). *out is malloc'd; returns 0 or -ENOMEM. */
int config_strip(const char *text, const char *dir, char **out);

/* Is @name a valid interface name for wg-quick: ^[a-zA-Z0-9_=+.-]{1,15}$ */
bool config_valid_ifname(const char *name);
/* Map "wg0" to "/etc/wireguard/wg0.conf"; an absolute path to itself (and its basename
 * without ".conf" into @ifname). As in wg-quick, a relative path ending in "/NAME.conf" is
 * taken as given too. Returns 0 or -EINVAL with a reason in @err. */
int config_resolve_path(const char *arg, char *path, size_t path_len, char *ifname, size_t ifname_len,
			char *err, size_t err_len);

#endif

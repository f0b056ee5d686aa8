/* device_config.h — a parsed wg-quick config (lib/config.h) as a device to set, the way
 * `wg setconf` turns a file into one netlink/UAPI set operation. */
#ifndef PODWIRE_DATAPATH_DEVICE_CONFIG_H
#define PODWIRE_DATAPATH_DEVICE_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "datapath/wgdevice.h"
#include "lib/config.h"

/* Build the device `wg setconf IFNAME` would send for @conf: WGDEVICE_REPLACE_PEERS and
 * HAS_PRIVATE_KEY/HAS_LISTEN_PORT/HAS_FWMARK always (what the file leaves out is reset, as
 * wg setconf does), every peer with HAS_PUBLIC_KEY and REPLACE_ALLOWEDIPS, HAS_PRESHARED_KEY
 * and HAS_PERSISTENT_KEEPALIVE_INTERVAL when given. Endpoints are resolved now. Key files
 * and commands must have been loaded with config_load_secrets() first. On error *out is
 * NULL and @err names the peer (and endpoint) and the reason. */
int device_from_config(struct wgdevice **out, const struct config *conf, const char *ifname,
		       char *err, size_t err_len);

/* Print the wg(8) part of @conf as a config `wg setconf` reads ([Interface] ListenPort,
 * FwMark, PrivateKey; [Peer] PublicKey, PresharedKey, AllowedIPs, Endpoint,
 * PersistentKeepalive), in the order and format of `wg showconf`. Keys are printed: write
 * it only where a private key may go. Returns 0 or -EIO. */
int device_config_print(FILE *f, const struct config *conf);

#endif

#!/bin/bash
# updown_iptables.sh — the full-tunnel configs of the parity set on a system without nft:
# wg-quick then writes its firewall rules with iptables-restore, and so must podwirectl.
# Same comparison as updown_parity.sh, with iptables-save/ip6tables-save in the snapshots.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/common.bash"
require_cmd iptables-restore ip6tables-restore
for c in tut_phone tut_peer1 full_fwmark full_v6; do ln -s "$here/../configs/updown/$c.conf" "$W/"; done
UPDOWN_NO_NFT=1 UPDOWN_CONFS=$W UPDOWN_MIN_CONFS=4 bash "$here/updown_parity.sh"

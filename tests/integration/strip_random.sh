#!/bin/bash
# strip_random: 150 generated configs (seeded, so a failure reproduces) mixing every key
# in random case, spacing, tabs, comments, "# Name" lines, CRLF line ends and missing final
# newlines: `podwirectl strip` must print exactly what `wg-quick strip` prints, stdout and
# stderr, for each of them.
set -euo pipefail
. "$(dirname "$0")/lib/common.bash"
ctl=$B/podwirectl
require_cmd wg-quick python3
[ "$(id -u)" -eq 0 ] || skip "needs root: wg-quick strip re-executes itself with sudo"
require_built podwirectl

python3 - "$W" <<'PY'
import random, sys
P = '8EiJC12a5foVNS1QM1gDwIYzw10tYX9oDbFAIXc+9m0='
U = 'RaqJRGbSmH67wov05zxx6uRbJJk3w3CU42pcQew7OHA='
iface = [('Address', '10.0.0.1/24, fd00::1/64'), ('Address', '10.1.0.1'), ('DNS', '1.1.1.1,example.com'),
	 ('MTU', '1420'), ('Table', 'off'), ('Table', '123'), ('Table', 'auto'), ('PreUp', 'echo a=b'),
	 ('PostUp', 'echo %i # x'), ('PreDown', 'true'), ('PostDown', 'echo "#"'), ('SaveConfig', 'true'),
	 ('SaveConfig', 'FALSE'), ('ListenPort', '51820'), ('PrivateKey', P), ('FwMark', '0x10'),
	 ('FwMark', 'off'), ('Listen Port', '1')]
peer = [('AllowedIPs', '10.0.0.0/8, fd00::/64'), ('Endpoint', '1.2.3.4:5'), ('Endpoint', '[fd00::1]:5'),
	('PersistentKeepalive', '25'), ('PresharedKey', P), ('Allowed IPs', '1.2.3.4/32')]
def case(s):
	r = random.random()
	return s.lower() if r < 0.2 else s.upper() if r < 0.3 else s
def sp():
	return random.choice(['', ' ', '  ', '\t', ' \t'])
for seed in range(1, 151):
	random.seed(seed)
	out = []
	for _ in range(random.randint(1, 4)):
		is_iface = random.random() < 0.5
		out.append(sp() + case('[Interface]' if is_iface else '[Peer]') + sp() + random.choice(['', '', ' # c']))
		if not is_iface:
			out.append(case('PublicKey') + sp() + '=' + sp() + U)
		for _ in range(random.randint(0, 6)):
			if random.random() < 0.15:
				out.append(random.choice(['# Name = x', '#comment', '', '   ', ' # a = b']))
			k, v = random.choice(iface if is_iface else peer)
			out.append(sp() + case(k) + sp() + '=' + sp() + v + sp() + random.choice(['', '', ' # t', '#t']))
	eol = random.choice(['\n', '\n', '\r\n'])
	with open('%s/pa%d.conf' % (sys.argv[1], seed), 'w', newline='') as f:
		f.write(eol.join(out) + random.choice(['', eol]))
PY

n=0
for f in "$W"/pa*.conf; do
	"$ctl" strip "$f" >"$W/ours" 2>"$W/ours.err" || fail "$f refused: $(cat "$W/ours.err")"$'\n'"$(cat -A "$f")"
	wg-quick strip "$f" >"$W/theirs" 2>"$W/theirs.err" || fail "wg-quick strip $f failed: $(cat "$W/theirs.err")"
	if ! cmp -s "$W/ours" "$W/theirs" || ! cmp -s "$W/ours.err" "$W/theirs.err"; then
		cat -A "$f"
		diff "$W/ours" "$W/theirs" || true
		fail "$f: podwirectl strip differs from wg-quick strip"
	fi
	n=$((n + 1))
done
[ $n -eq 150 ] || fail "generated $n configs, expected 150"
echo "$n generated configs: podwirectl strip == wg-quick strip"

#!/bin/bash
# `make deps` (hack/deps.sh) while another package manager holds apt's lock: the real apt-get,
# in a mount namespace of the test's own (a tmpfs over /var/lib/apt/lists, whose lock a
# python3 holds as apt would), with one package reported missing. deps.sh says that another
# package manager is running, names the lock and the process holding it, and does not blame
# Debian's archive; nothing is installed. The machine's own apt state is never touched.
source "$(dirname "$0")/lib/common.bash"
top=$(cd "$(dirname "$0")/../.." && pwd)
require_root
require_cmd unshare apt-get python3 dpkg-query

# dpkg-query that reports bc as not installed and asks the real one about everything else.
mkdir -p "$W/fake"
real=$(command -v dpkg-query)
cat >"$W/fake/dpkg-query" <<FAKE
#!/bin/sh
for a; do [ "\$a" = bc ] && { echo "deinstall ok config-files"; exit 0; }; done
exec $real "\$@"
FAKE
chmod +x "$W/fake/dpkg-query"

rc=0
unshare --mount --propagation private bash -s "$top" "$W" >"$W/out" 2>&1 <<'INNER' || rc=$?
set -u
top=$1 W=$2
mount -t tmpfs tmpfs /var/lib/apt/lists || exit 90
mkdir -p /var/lib/apt/lists/partial
# apt locks with fcntl(F_SETLK): so does lockf().
python3 -c '
import fcntl, sys, time
f = open("/var/lib/apt/lists/lock", "w")
fcntl.lockf(f, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)
' >"$W/holder.out" &
holder=$!
for _ in $(seq 50); do grep -q locked "$W/holder.out" 2>/dev/null && break; sleep 0.1; done
echo "holder $holder"
PATH=$W/fake:$PATH "$top/hack/deps.sh"
rc=$?
kill $holder
exit $rc
INNER
cat "$W/out"
[ $rc -ne 90 ] || skip "cannot mount a tmpfs over /var/lib/apt/lists"
[ $rc -eq 1 ] || fail "deps.sh exited $rc with the lock taken, want 1"
holder=$(sed -n 's/^holder //p' "$W/out")
grep -q "^deps.sh: installing bc" "$W/out" || fail "deps.sh did not try to install the missing bc (test setup)"
grep -q "^deps.sh: another package manager is running: the lock /var/lib/apt/lists/lock (held by process $holder, python3) is taken" "$W/out" ||
	fail "deps.sh did not name the lock and its holder $holder"
grep -q "archive reachable" "$W/out" && fail "deps.sh still blames Debian's archive"
ok "deps.sh with apt's lock taken: names /var/lib/apt/lists/lock and its holder (process $holder), exit 1"

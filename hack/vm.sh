#!/bin/bash
# hack/vm.sh CMD [ARGS...] — run CMD inside a throwaway qemu VM that has the WireGuard kernel
# module, and exit with CMD's status (its stdout+stderr are ours).
#
# The VM boots Debian's kernel (linux-image-amd64, which ships wireguard.ko) with this
# machine's / as its root: a read-only 9p share under a tmpfs overlay, so the VM can write
# anywhere (/tmp, /run, /var) and nothing reaches the host. CMD runs as root in the caller's
# working directory with stdin /dev/null; a CMD that is not executable runs with bash.
# Exit status: CMD's, 77 when no kernel with wireguard.ko is installed (tests/run counts a
# skip), 125 when the VM itself failed.
#
# Environment:
#   KERNEL   vmlinuz to boot (default: newest /boot/vmlinuz-VER with /lib/modules/VER/.../wireguard.ko)
#   VM_KVM   auto (default: try KVM for a few seconds, else software emulation) | 0 (TCG) | 1 (KVM).
#            Nested-virt hosts may expose a /dev/kvm whose guests hang: auto falls back to TCG.
#   VM_MEM (MiB, default 1536)  VM_CPUS (default 2)  VM_TIMEOUT (s, default 900)
#   VM_DEBUG=1  copy the whole console to stderr
# Passed into the VM when set: PODWIRE_BUILD BUILD ASAN_OPTIONS UBSAN_OPTIONS
#   WG_QUICK_USERSPACE_IMPLEMENTATION and every variable starting with PODWIRE_ or BENCH_.
set -euo pipefail

usage() { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
[ $# -ge 1 ] || usage

find_kernel() { # newest kernel whose modules include wireguard
	local k v
	for k in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V -r); do
		v=${k#/boot/vmlinuz-}
		if ls /lib/modules/"$v"/kernel/drivers/net/wireguard/wireguard.ko* >/dev/null 2>&1; then
			echo "$k"
			return 0
		fi
	done
	return 1
}

KERNEL=${KERNEL:-$(find_kernel || true)}
if [ ! -r "$KERNEL" ]; then
	echo "vm.sh: no kernel with wireguard.ko found (hack/deps.sh installs linux-image-amd64)"
	exit 77
fi
for tool in qemu-system-x86_64 busybox; do
	if ! command -v $tool >/dev/null; then
		echo "vm.sh: $tool not installed (hack/deps.sh)"
		exit 77
	fi
done
kver=${KERNEL##*/vmlinuz-}
work=$(mktemp -d /tmp/pd-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The initramfs: static busybox and the modules that mount a 9p root under an overlay,
# in dependency order (built-in modules print "builtin" and are skipped).
build_initramfs() {
	local f b
	mkdir -p "$work/ir/bin" "$work/ir/mods"
	cp "$(command -v busybox)" "$work/ir/bin/busybox"
	modprobe -S "$kver" --show-depends -a virtio_pci 9pnet_virtio 9p overlay 2>/dev/null |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
		while read -r f; do
			b=$(basename "${f%%.ko*}")
			echo "$b" >>"$work/ir/mods/order"
			case $f in
			*.xz) xz -dc "$f" ;;
			*.zst) zstd -qdc "$f" ;;
			*) cat "$f" ;;
			esac >"$work/ir/mods/$b.ko"
		done
	cat >"$work/ir/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /lower /rw /root
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /mods/order 2>/dev/null); do insmod /mods/$m.ko; done
die() { echo "vm.sh: $*"; dmesg | tail -15; echo o >/proc/sysrq-trigger; sleep 9; }
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /lower || die "9p mount failed"
mount -t tmpfs -o size=75% tmpfs /rw; mkdir -p /rw/u /rw/w
mount -t overlay -o lowerdir=/lower,upperdir=/rw/u,workdir=/rw/w overlay /root || die "overlay mount failed"
job=$(sed -n 's/.* vmjob=\([^ ]*\).*/\1/p' /proc/cmdline)
for d in proc sys dev; do mount --move /$d /root/$d; done
exec switch_root /root /bin/bash "$job"
INIT
	chmod +x "$work/ir/init"
	(cd "$work/ir" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"
}

# The job the VM runs after switch_root: a sane /run and /dev, CMD, then a marker line with
# CMD's status tagged by a nonce so CMD's own output cannot fake it.
tag=PODWIREVM$RANDOM$RANDOM
write_job() {
	local v
	{
		echo 'mount -t tmpfs tmpfs /run; mkdir -p /run/netns /run/lock /dev/pts /dev/shm'
		echo 'mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm; ln -sf /proc/self/fd /dev/fd'
		echo 'mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; ip link set lo up'
		echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb'
		for v in PODWIRE_BUILD BUILD ASAN_OPTIONS UBSAN_OPTIONS WG_QUICK_USERSPACE_IMPLEMENTATION \
			$(compgen -e | grep -E '^(PODWIRE_|BENCH_)' || true); do
			[ -n "${!v+x}" ] && echo "export $v=$(printf %q "${!v}")"
		done
		[ -n "${PODWIRE_BUILD:-}" ] && echo "export PATH=$(printf %q "$PODWIRE_BUILD"):\$PATH"
		local run
		run=$( { [ -x "$1" ] || command -v "$1" >/dev/null; } || printf 'bash '; printf '%q ' "$@")
		echo "cd $(printf %q "$PWD") && echo $tag-START && $run </dev/null 2>&1"
		echo "echo $tag-RC=\$?; echo o >/proc/sysrq-trigger; sleep 9"
	} >"$work/job"
}

# KVM when it really boots a guest here, else TCG (software, several times slower).
pick_accel() {
	local kvm="-enable-kvm -cpu host,arch-capabilities=off" tcg="-accel tcg,thread=multi -cpu max"
	case ${VM_KVM:-auto} in
	1) echo "$kvm" ;;
	0) echo "$tcg" ;;
	*)
		if [ -w /dev/kvm ] && timeout 4 qemu-system-x86_64 $kvm -nodefaults -display none -no-reboot \
			-serial stdio -kernel "$KERNEL" -append "console=ttyS0 panic=-1 root=/dev/null" </dev/null 2>/dev/null |
			grep -q -m1 'Linux version'; then
			echo "$kvm"
		else
			echo "$tcg"
		fi ;;
	esac
}

# mawk reads its input in blocks unless told otherwise; CMD's output should stream.
awk_stream=(awk)
awk -W version 2>&1 | grep -q mawk && awk_stream=(awk -W interactive)
build_initramfs
write_job "$@"
accel=$(pick_accel)
timeout "${VM_TIMEOUT:-900}" qemu-system-x86_64 $accel -m "${VM_MEM:-1536}" -smp "${VM_CPUS:-2}" \
	-nodefaults -display none -no-reboot -serial stdio \
	-kernel "$KERNEL" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 vmjob=$work/job" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	</dev/null 2>&1 | "${awk_stream[@]}" -v t="$tag" -v f="$work/rc" -v dbg="${VM_DEBUG:-0}" '
	# The serial console ends lines with CR LF. Stripping it here, not with tr, keeps the
	# output streaming (tr would buffer it in blocks).
	{ sub(/\r$/, "") }
	dbg == 1 { print > "/dev/stderr"; fflush("/dev/stderr") }
	$0 == t "-START" { on = 1; next }
	index($0, t "-RC=") == 1 { print substr($0, length(t) + 5) > f; on = 0; done = 1; next }
	on { print; fflush() }
	!on && !done && /(vm\.sh:|Kernel panic|qemu-system)/ { print > "/dev/stderr" }'
if [ ! -s "$work/rc" ]; then
	echo "vm.sh: the VM gave no exit status (crash or timeout)" >&2
	exit 125
fi
exit "$(cat "$work/rc")"

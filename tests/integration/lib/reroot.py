#!/usr/bin/python3
"""reroot.py CMD [ARG...]: run CMD in a private mount namespace whose root mount is the
caller's root directory, where a plain chroot (no pivot_root) left the machine's root there.

Why podman needs it: setns() into a mount namespace puts the process at the topmost mount on
that namespace's root, not at any chroot. runc makes a container's mount namespace as a copy
of its caller's and pivot_root()s the container's filesystem into the place of the caller's
root mount. Under a plain chroot that is a mount somewhere below the machine's root, so the
namespace's topmost root stays the machine's, and `runc exec` (`podman exec`, `podman
healthcheck run`) lands in the machine's files instead of the container's.

What it does, all in this one process (so no program of the outer root ever runs): open the
chroot's "/"; setns() into its own mount namespace, which moves this process to the topmost
root mount, and compare the two (mount id, device, inode). The same: go back (fchdir, chroot)
and exec CMD, nothing changed. Not the same (a chroot): fchdir back to the chroot's root,
unshare(CLONE_NEWNS) for a private copy, pivot_root(".", "."), which puts the chroot's root
mount in the place of the outer one, detach the outer one (umount2(".", MNT_DETACH)) and exec
CMD. Nothing of the outer root is read or written, and it stays as it is for everyone else.
CMD starts in the caller's working directory.
"""
import ctypes
import os
import platform
import sys

CLONE_NEWNS = 0x00020000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
# pivot_root has no glibc wrapper: its syscall number, per architecture.
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "i686": 217, "i386": 217,
                  "armv7l": 218, "ppc64le": 203, "s390x": 217}

libc = ctypes.CDLL(None, use_errno=True)


def check(rc, what):
    if rc != 0:
        err = ctypes.get_errno()
        sys.exit(f"reroot: {what}: {os.strerror(err)}")


def make_private():
    # pivot_root refuses shared mounts; nothing done here may propagate out of this namespace.
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make / private")


def mount_of(fd):
    """The (mount id, device, inode) an open directory is at: bind mounts share inodes."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        mnt = next(int(l.split()[1]) for l in f if l.startswith("mnt_id:"))
    st = os.fstat(fd)
    return mnt, st.st_dev, st.st_ino


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: reroot.py CMD [ARG...]")
    cwd = os.getcwd()
    here = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    ns = os.open("/proc/self/ns/mnt", os.O_RDONLY)
    check(libc.setns(ns, CLONE_NEWNS), "setns into its own mount namespace")
    os.close(ns)
    top = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    chrooted = mount_of(top) != mount_of(here)
    os.close(top)
    os.fchdir(here)
    if chrooted:
        # unshare() carries the working directory (the chroot's root) over to the copy.
        check(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        make_private()
        nr = SYS_PIVOT_ROOT.get(platform.machine())
        if nr is None:
            sys.exit(f"reroot: {platform.machine()}: pivot_root's syscall number is not known")
        check(libc.syscall(nr, b".", b"."), "pivot_root(\".\", \".\")")
        check(libc.umount2(b".", MNT_DETACH), "detach the outer root")
    os.chroot(".")
    os.chdir(cwd)
    os.close(here)
    os.execvp(sys.argv[1], sys.argv[1:])


main()

"""The seccomp filter every sandboxed process runs under.

Namespaces, a dropped uid and no capabilities already stop most escapes, but the
kernel still offers an unprivileged process a wide attack surface: it can make
its own user namespace (and with it mount, netfilter and every
CAP_SYS_ADMIN-gated code path), create keys that outlive the run in the uid's
persistent keyring, trace its siblings, or reach io_uring. None of that is
needed to run a test suite, so bwrap installs this filter (`--seccomp FD`) on
the process it starts, and every process below inherits it.

Default-allow with a deny list, like Docker's and Flatpak's profiles: a
test suite can do anything ordinary and nothing on the list. Denied calls
return EPERM, which programs already handle as "not allowed here"; `clone3`
returns ENOSYS so glibc falls back to `clone`, whose flags a filter can read
(clone3 passes them in memory, where seccomp cannot look).

`setpriv` runs after the filter (it drops to the run's uid) and needs
setresuid/setresgid/setgroups/capset/prctl: those stay allowed.

The BPF program is compiled by libseccomp (through `pyseccomp`, a ctypes
binding to the system's libseccomp.so.2) rather than written by hand here.
"""

from __future__ import annotations

import errno
import functools
import os
import socket

# Namespace flags of clone(2) (CLONE_NEWTIME is 0x80, which clone() reads as the exit signal: unshare covers it).
CLONE_NAMESPACE_FLAGS = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
}

# Refused outright, EPERM. Grouped by what they would give a hostile suite.
DENIED_SYSCALLS: tuple[str, ...] = (
    # new namespaces and joining others: the way to CAP_SYS_ADMIN inside a user namespace
    "unshare",
    "setns",
    # filesystem layout
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsmount",
    "fsconfig",
    "fspick",
    "mount_setattr",
    # kernel keyrings: keys persist per uid, past the run, into a later PR's run on the same uid
    "keyctl",
    "add_key",
    "request_key",
    # reading or steering other processes
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    # large, often-exploited kernel surfaces a test suite does not need
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    # the machine itself
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "swapon",
    "swapoff",
    "reboot",
    "acct",
    "quotactl",
    "quotactl_fd",
    "name_to_handle_at",
    "open_by_handle_at",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "vhangup",
    "lookup_dcookie",
    "nfsservctl",
)

# socket(AF_NETLINK, *, protocol) refused for these protocols: firewall and audit control.
NETLINK_NETFILTER = 12
NETLINK_AUDIT = 9
DENIED_NETLINK = (NETLINK_NETFILTER, NETLINK_AUDIT)


class SeccompUnavailable(RuntimeError):
    """libseccomp (or its Python binding) is missing: the host cannot install the filter."""


def _library():  # type: ignore[no-untyped-def]
    try:
        import pyseccomp
    except (ImportError, OSError) as exc:  # pyseccomp raises OSError when libseccomp.so.2 is absent
        raise SeccompUnavailable(f"libseccomp is not usable: {exc} (apt-get install libseccomp2)") from exc
    return pyseccomp


def build_filter():  # type: ignore[no-untyped-def]
    """The filter as a libseccomp object (export_pfc shows it as text for review)."""
    sc = _library()
    denied = sc.ERRNO(errno.EPERM)
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(denied, name)
        except (OSError, ValueError):  # a syscall this architecture does not have (e.g. umount on x86_64)
            continue
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACE_FLAGS.values():
        flt.add_rule(denied, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    for protocol in DENIED_NETLINK:
        flt.add_rule(denied, "socket", sc.Arg(0, sc.EQ, socket.AF_NETLINK), sc.Arg(2, sc.EQ, protocol))
    return flt


@functools.cache
def bpf_program() -> bytes:
    """The compiled BPF program bwrap's `--seccomp` reads (struct sock_filter[], native endian)."""
    flt = build_filter()
    fd = os.memfd_create("reviewbot-seccomp", os.MFD_CLOEXEC)
    with os.fdopen(fd, "w+b") as handle:
        flt.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def program_fd() -> int:
    """A fresh fd holding the program at offset 0, for one bwrap to read to EOF; the caller closes it.

    One fd per run: bwrap reads it from its current offset, so two runs must not share one.
    """
    data = bpf_program()
    fd = os.memfd_create("reviewbot-seccomp", os.MFD_CLOEXEC)
    try:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    except OSError:
        os.close(fd)
        raise
    return fd


def available() -> tuple[bool, str]:
    """Whether this host can build the filter, and what `doctor` should say about it."""
    try:
        size = len(bpf_program()) // 8
    except (SeccompUnavailable, OSError) as exc:
        return False, str(exc)
    return True, f"seccomp filter of {size} BPF instructions (deny list, libseccomp)"

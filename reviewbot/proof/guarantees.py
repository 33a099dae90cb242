"""What this host guarantees about a sandboxed run, and whether that is enough to run PR code.

Without a memory cgroup, memory is bounded per process only (RLIMIT_DATA): five
processes of 1.5 GiB each went through a 2 GiB limit. That may be acceptable on
a throwaway machine, but it must be the operator's decision, never a silent
fallback: the service and the CLI refuse to run PR code on such a host unless
REVIEWBOT_ALLOW_PER_PROCESS_LIMITS=1 (or `--allow-per-process-limits`) says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewbot.proof import disk_quota, seccomp_filter

if TYPE_CHECKING:  # the sandbox imports this module to refuse
    from reviewbot.proof.sandbox import HostSupport

SETTING = "REVIEWBOT_ALLOW_PER_PROCESS_LIMITS"
FLAG = "--allow-per-process-limits"


@dataclass(frozen=True)
class Guarantee:
    name: str
    held: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'yes' if self.held else 'NO'} - {self.detail}"


def refusal(host: HostSupport, allow_per_process_limits: bool) -> str | None:
    """Why PR code must not run on this host as configured, or None. Pure."""
    if host.cgroups.memory is not None or allow_per_process_limits:
        return None
    return (
        f"this host has no memory cgroup ({host.cgroups.describe()}), so a run's memory is bounded per "
        f"process only and a tree of processes can use more than its limit; refusing to run PR code. "
        f"Run as root on a host with the cgroup memory controller, or accept per-process limits with "
        f"{SETTING}=1 (or {FLAG})"
    )


def host_guarantees(host: HostSupport, disk_probe: tuple[bool, str] | None = None) -> list[Guarantee]:
    """Each guarantee the sandbox gives on this host; `disk_probe` is disk_quota.probe()'s answer."""
    seccomp_ok, seccomp_detail = seccomp_filter.available()
    if disk_probe is None:
        why_not = disk_quota.unsupported_reason()
        disk_probe = (not why_not, why_not or "root, loop devices and mkfs.ext4 are present")
    support = host.cgroups
    return [
        Guarantee("seccomp filter", seccomp_ok, seccomp_detail),
        Guarantee(
            "disk and inode quota",
            disk_probe[0],
            disk_probe[1]
            if disk_probe[0]
            else f"no quota is enforced ({disk_probe[1]}); only RLIMIT_FSIZE bounds each file",
        ),
        Guarantee(
            "process-tree limit (cgroup pids)",
            support.pids is not None,
            support.describe()
            if support.pids is not None
            else "RLIMIT_NPROC of the run's uid only" + ("" if host.root else ", shared with this user"),
        ),
        Guarantee(
            "memory limit for the whole tree (cgroup memory)",
            support.memory is not None,
            support.describe()
            if support.memory is not None
            else f"per process only (RLIMIT_DATA); PR code runs only with {SETTING}=1",
        ),
        Guarantee(
            "uid drop",
            host.root,
            "each run drops to its own unprivileged host uid"
            if host.root
            else "not root: runs keep this user's uid inside a user namespace",
        ),
    ]

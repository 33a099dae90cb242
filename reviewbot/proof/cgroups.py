"""Per-run control groups: the limits rlimits cannot give.

RLIMIT_NPROC counts processes per host uid and root ignores it, and RLIMIT_DATA
bounds one process, not a tree. A cgroup bounds the whole sandboxed tree and
lets us kill every member at once. Hosts differ (DESIGN.md, measured facts:
cgroup v2 here has no controllers while v1 `pids` and `memory` are writable),
so we detect what is offered and say so instead of assuming.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.proof.liveness import pid_alive

V1_ROOT = Path("/sys/fs/cgroup")
V2_CANDIDATES = (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified"))
PARENT = "reviewbot"


@dataclass(frozen=True)
class CgroupSupport:
    """Where per-run groups can be made for each controller we use."""

    pids: Path | None = None  # parent directory for pids groups
    memory: Path | None = None  # parent directory for memory groups
    version: str = "none"  # "v1", "v2" or "none"
    why_not: str = ""

    @property
    def available(self) -> bool:
        return self.pids is not None or self.memory is not None

    def describe(self) -> str:
        if not self.available:
            return f"no usable cgroup controllers ({self.why_not})"
        have = [name for name in ("pids", "memory") if getattr(self, name) is not None]
        return f"cgroup {self.version}: {', '.join(have)}"


def detect(base_v1: Path = V1_ROOT) -> CgroupSupport:
    """Find writable pids/memory controllers, v2 first, then v1."""
    for root in V2_CANDIDATES:
        found = _detect_v2(root)
        if found is not None:
            return found
    pids, memory = (
        base_v1 / name / PARENT
        if (base_v1 / name / "cgroup.procs").exists() and _ensure_dir(base_v1 / name / PARENT)
        else None
        for name in ("pids", "memory")
    )
    if pids or memory:
        return CgroupSupport(pids=pids, memory=memory, version="v1")
    return CgroupSupport(why_not="not root, or the host exposes no writable pids/memory controller")


def _detect_v2(root: Path) -> CgroupSupport | None:
    """A v2 hierarchy with pids/memory delegated to our parent group, or None."""
    try:
        offered = set((root / "cgroup.controllers").read_text().split()) & {"pids", "memory"}
    except OSError:
        return None
    parent = root / PARENT
    if not offered or not _ensure_dir(parent):
        return None
    wanted = " ".join(f"+{name}" for name in sorted(offered))
    for level in (root, parent):  # enable the controllers for the groups below each level
        with contextlib.suppress(OSError):
            (level / "cgroup.subtree_control").write_text(wanted)
    try:
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
    except OSError:
        return None
    pids = parent if "pids" in enabled else None
    memory = parent if "memory" in enabled else None
    return CgroupSupport(pids=pids, memory=memory, version="v2") if pids or memory else None


def _ensure_dir(path: Path) -> bool:
    try:
        path.mkdir(exist_ok=True)
        probe = path / f"probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
        return True
    except OSError:
        return False


@dataclass
class RunCgroup:
    """The groups of one sandbox run. `procs_files` is what the launcher joins."""

    support: CgroupSupport
    dirs: list[Path] = field(default_factory=list)

    @classmethod
    def create(cls, support: CgroupSupport, max_pids: int, memory_bytes: int) -> RunCgroup:
        group = cls(support)
        name = f"run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        if support.pids is not None:
            path = support.pids / name
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
            group.dirs.append(path)
        if support.memory is not None:
            path = support.memory / name
            if path not in group.dirs:
                path.mkdir()
                group.dirs.append(path)
            if support.version == "v1":
                (path / "memory.limit_in_bytes").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):  # absent without swap accounting
                    (path / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            else:
                (path / "memory.max").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (path / "memory.swap.max").write_text("0")
        return group

    @property
    def procs_files(self) -> list[str]:
        return [str(path / "cgroup.procs") for path in self.dirs]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for path in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(line) for line in (path / "cgroup.procs").read_text().split())
        return found

    def kill_all(self, settle_s: float = 5.0) -> None:
        """SIGKILL every member until the groups are empty (forks may race the first pass)."""
        deadline = time.monotonic() + settle_s
        pause = 0.0005
        while time.monotonic() < deadline:
            members = self.pids()
            if not members:
                return
            for pid in members:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def memory_exceeded(self) -> bool:
        """True when the kernel OOM-killed a member (hitting the limit alone is only reclaim)."""
        for path in self.dirs:
            for name in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError, ValueError):
                    counters = dict(line.split() for line in (path / name).read_text().splitlines())
                    if int(counters.get("oom_kill", 0)) > 0:
                        return True
        return False

    def pids_exceeded(self) -> bool:
        for path in self.dirs:
            events = path / "pids.events"
            with contextlib.suppress(OSError, ValueError):
                if events.exists():
                    counters = dict(line.split() for line in events.read_text().splitlines())
                    if int(counters.get("max", 0)) > 0:
                        return True
        return False

    def remove(self) -> None:
        self.kill_all()
        for path in self.dirs:
            pause = 0.0005
            for _ in range(60):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # members still exiting
                    time.sleep(pause)
                    pause = min(pause * 2, 0.05)


def remove_orphans(support: CgroupSupport) -> list[Path]:
    """Kill the members of, and remove, the run groups whose creator died (`run-<pid>-<id>`); returns them.

    A worker killed mid-run never reaches `RunCgroup.remove`. Its sandbox dies with it
    (`--die-with-parent`), but anything that slipped out is still in the group: killed here.
    """
    removed = []
    for parent in dict.fromkeys(p for p in (support.pids, support.memory) if p is not None):
        for path in sorted(parent.glob("run-*-*")):
            owner = path.name.split("-")[1]
            if not owner.isdigit() or pid_alive(int(owner)):
                continue
            RunCgroup(support, [path]).remove()
            removed.append(path)
    return removed

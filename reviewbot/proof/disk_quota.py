"""Per-run disk and inode quotas: a run's folder is its own small filesystem.

RLIMIT_FSIZE bounds one file, not a tree: a suite could write 5 GB in many
files, or 300,000 empty ones, into the worktree and fill the host's disk for
every other run and the bot itself. As root we give each proof's run folder
its own ext4 filesystem in a sparse file, mounted over the folder by loop: the
run can fill that filesystem and nothing else, and its size on the host is what
it really wrote. Unmounted and deleted on the way out, even on exceptions;
a worker killed mid-run leaves a mount that `recover` removes.

Without root, mkfs.ext4 or loop devices the folder is used as it is, and the
quota says why nothing is enforced (`reviewbot doctor` prints it).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewbot.proof.liveness import pid_alive

IMAGE_SUFFIX = ".quota-img"
# Under this much free space (or with no free inode) a run's filesystem counts as full:
# the write that failed with ENOSPC may have wanted more than what was left.
FULL_FREE_BYTES = 1024 * 1024
MOUNT_OPTIONS = "loop,nosuid,nodev,noinit_itable"  # not noexec: suites run scripts from their tree
TOOL_TIMEOUT_S = 60


@dataclass(frozen=True)
class Quota:
    """What `capped_dir` gave: an enforced filesystem, or the plain folder and the reason."""

    path: Path
    enforced: bool
    why_not: str = ""


def unsupported_reason() -> str:
    """Why this host cannot cap a folder ("" when it can)."""
    if os.geteuid() != 0:
        return "not running as root (loop mounts need it)"
    for tool in ("mkfs.ext4", "mount", "umount"):
        if shutil.which(tool, path="/usr/sbin:/sbin:/usr/bin:/bin") is None:
            return f"{tool} is missing (apt-get install e2fsprogs mount)"
    if not Path("/dev/loop-control").exists():
        return "no loop devices (/dev/loop-control is missing)"
    return ""


def image_for(path: Path) -> Path:
    """The sparse file behind a capped folder: a sibling, so it is never inside what it caps."""
    return path.with_name(path.name + IMAGE_SUFFIX)


@contextlib.contextmanager
def capped_dir(path: Path, max_bytes: int, max_inodes: int) -> Iterator[Quota]:
    """Mount a fresh `max_bytes` / `max_inodes` filesystem over the (empty) folder `path` while inside."""
    why_not = unsupported_reason()
    if why_not:
        yield Quota(path, enforced=False, why_not=why_not)
        return
    image = image_for(path)
    try:
        _make_filesystem(image, max_bytes, max_inodes)
        _tool("mount", "-t", "ext4", "-o", MOUNT_OPTIONS, str(image), str(path))
    except (OSError, subprocess.SubprocessError) as exc:
        image.unlink(missing_ok=True)
        yield Quota(path, enforced=False, why_not=f"could not mount a capped filesystem: {_failure(exc)}")
        return
    try:
        with contextlib.suppress(FileNotFoundError):
            (path / "lost+found").rmdir()  # mkfs's folder would otherwise look like part of the run
        yield Quota(path, enforced=True)
    finally:
        release(path)


def _make_filesystem(image: Path, max_bytes: int, max_inodes: int) -> None:
    with open(image, "wb") as handle:
        handle.truncate(max_bytes)  # sparse: the host only pays for what the run writes
    # No reserved blocks (the sandbox user is never root), no journal (a scratch filesystem
    # needs no crash recovery), inode tables left unzeroed (the sparse file already reads as zero).
    _tool(
        "mkfs.ext4",
        "-q",
        "-F",
        "-m",
        "0",
        "-N",
        str(max_inodes),
        "-O",
        "^has_journal",
        "-E",
        "lazy_itable_init=1,lazy_journal_init=1,nodiscard",
        str(image),
    )


def release(path: Path) -> None:
    """Unmount `path` if something is mounted there, and delete its image."""
    if os.path.ismount(path):
        try:
            _tool("umount", str(path))
        except subprocess.CalledProcessError:
            _tool("umount", "--lazy", str(path))  # a straggler holds a file open: detach now, free when it exits
    image_for(path).unlink(missing_ok=True)


def is_full(path: Path) -> bool:
    """True when the filesystem holding `path` has (almost) no free blocks or no free inodes."""
    try:
        stats = os.statvfs(path)
    except OSError:
        return False
    no_space = stats.f_blocks > 0 and stats.f_bavail * stats.f_frsize < FULL_FREE_BYTES
    no_inodes = stats.f_files > 0 and stats.f_favail == 0  # f_files is 0 where inodes are unlimited
    return no_space or no_inodes


def recover(runs_dir: Path) -> list[Path]:
    """Unmount and delete the capped filesystems of run folders whose process died; returns the folders."""
    released = []
    if not runs_dir.is_dir():
        return released
    for image in sorted(runs_dir.glob("*" + IMAGE_SUFFIX)):
        run = image.with_name(image.name[: -len(IMAGE_SUFFIX)])
        owner = _run_owner(run.name)
        if owner is not None and pid_alive(owner):
            continue
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            release(run)
            released.append(run)
    return released


def probe(scratch: Path | None = None) -> tuple[bool, str]:
    """Really cap a small folder once, for `doctor`: (enforced, what to print)."""
    with tempfile.TemporaryDirectory(dir=scratch) as parent:
        folder = Path(parent) / "probe"
        folder.mkdir()
        with capped_dir(folder, 16 * 1024 * 1024, 1024) as quota:
            if not quota.enforced:
                return False, quota.why_not
            return True, "each proof's run folder is its own ext4 filesystem (size and inode caps)"


def _run_owner(name: str) -> int | None:
    """The pid in a run folder's name (`<label>-<pid>-<8 hex>`, as Workspace.run_dir makes it)."""
    found = re.search(r"-(\d+)-[0-9a-f]{8}$", name)
    return int(found.group(1)) if found else None


def _tool(*argv: str) -> None:
    """Run a host tool; a failure says what the tool printed."""
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=TOOL_TIMEOUT_S,
        env={"PATH": "/usr/sbin:/sbin:/usr/bin:/bin", "LC_ALL": "C"},
    )
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, argv[0], done.stdout, done.stderr)


def _failure(exc: BaseException) -> str:
    detail = getattr(exc, "stderr", "") or ""
    return f"{exc} {detail.strip()}".strip()

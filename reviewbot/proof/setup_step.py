"""The setup step's shared state: package managers' download caches, filled only by trusted runs.

Caching installed trees (`.venv`, `node_modules`) gave head the tree base's
setup made: an editable install also writes into the source tree (a generated
`version.py`), which the cache did not hold, and a PR's setup could leave
anything in it for the next PR. So every side now runs its setup fresh, and
what is shared is only what package managers download (pip's, npm's, yarn's,
pnpm's, uv's caches), which makes a fresh install fast.

The cache is a trust boundary. A run gets a private copy of its repository's
shared cache; only a trusted run (setup on a base-branch commit exactly as
committed, before any PR file is laid over it) merges what it added back.
Nothing a PR's setup writes reaches another PR's review or the base run. The
merge keeps only regular files and directories, owned by the bot, with no
setuid, setgid or world-writable bit; caches are size-capped and evicted
least recently used first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

CACHE_MOUNT = "/reviewbot-cache"
# Where each package manager keeps its downloads, pointed into the run's cache copy.
DOWNLOAD_CACHE_ENV = {
    "PIP_CACHE_DIR": f"{CACHE_MOUNT}/pip",
    "UV_CACHE_DIR": f"{CACHE_MOUNT}/uv",
    "POETRY_CACHE_DIR": f"{CACHE_MOUNT}/poetry",
    "npm_config_cache": f"{CACHE_MOUNT}/npm",
    "npm_config_logs_dir": "/tmp/npm-logs",  # npm keeps its debug logs in the cache by default: not shared data
    "YARN_CACHE_FOLDER": f"{CACHE_MOUNT}/yarn",
    "npm_config_store_dir": f"{CACHE_MOUNT}/pnpm-store",
}
LAST_USED = ".last-used"
DEFAULT_MAX_BYTES = 4 * 1024**3
FILE_MODE, EXEC_MODE, DIR_MODE = 0o644, 0o755, 0o755


class DownloadCaches:
    """One download cache per repository under the data directory, size-capped in total."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)

    @contextlib.contextmanager
    def lease(self, repository: str, scratch: Path, trusted: bool) -> Iterator[Path]:
        """A private copy of the repository's cache for one setup run; a trusted run's additions are kept."""
        shared = self.root / _slug(repository)
        private = scratch / "download-cache"
        scratch.mkdir(parents=True, exist_ok=True)
        with self._locked(shared):
            if shared.is_dir():
                _copy_tree(shared, private)
        private.mkdir(exist_ok=True)
        yield private
        if trusted:
            with self._locked(shared):
                merge_trusted(private, shared)
                (shared / LAST_USED).touch()
            self.evict(keep=shared)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove the least recently used caches until the total fits the cap; returns what went."""
        entries = [(path, _last_used(path), _size(path)) for path in self.root.iterdir() if path.is_dir()]
        total = sum(size for _, _, size in entries)
        removed = []
        for path, _, size in sorted(entries, key=lambda entry: entry[1]):
            if total <= self.max_bytes:
                break
            if path == keep and total - size <= self.max_bytes and len(entries) > 1:
                continue
            with self._locked(path):
                shutil.rmtree(path, ignore_errors=True)
            total -= size
            removed.append(path)
        return removed

    @contextlib.contextmanager
    def _locked(self, shared: Path) -> Iterator[None]:
        with open(shared.with_name(shared.name + ".lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def merge_trusted(source: Path, shared: Path) -> None:
    """Copy what a trusted run added or changed into the shared cache, as plain bot-owned data.

    Read with lstat and never followed: symlinks, devices, fifos and sockets are
    dropped, modes are reset (no setuid, setgid, sticky or world-writable bit),
    and each file lands by rename so a concurrent copy never sees half of it.
    """
    shared.mkdir(parents=True, exist_ok=True)
    os.chmod(shared, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(source):
        relative = Path(dirpath).relative_to(source)
        target_dir = shared / relative
        for name in list(dirnames):
            info = os.lstat(os.path.join(dirpath, name))
            if not stat.S_ISDIR(info.st_mode):
                dirnames.remove(name)  # a symlink to a directory: not followed, not kept
                continue
            (target_dir / name).mkdir(mode=DIR_MODE, exist_ok=True)
            os.chmod(target_dir / name, DIR_MODE)
        for name in filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or name == LAST_USED:
                continue
            target = target_dir / name
            with contextlib.suppress(FileNotFoundError):
                known = os.lstat(target)
                if known.st_size == info.st_size and known.st_mtime_ns == info.st_mtime_ns:
                    continue
            staging = target_dir / f".{name}.{os.getpid()}.tmp"
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as reader, open(staging, "wb") as writer:
                shutil.copyfileobj(reader, writer)
            os.chmod(staging, EXEC_MODE if info.st_mode & stat.S_IXUSR else FILE_MODE)
            os.utime(staging, ns=(info.st_atime_ns, info.st_mtime_ns))
            os.replace(staging, target)


def _copy_tree(source: Path, target: Path) -> None:
    """`cp -a` (reflinks where the filesystem has them): a cache holds many small files."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["cp", "-a", "--reflink=auto", "--no-target-directory", str(source), str(target)],
        check=True,
        capture_output=True,
        timeout=600,
    )


def _last_used(path: Path) -> float:
    with contextlib.suppress(FileNotFoundError):
        return (path / LAST_USED).stat().st_mtime
    return 0.0


def _size(path: Path) -> int:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def _slug(repository: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "__", repository).strip("._") or "repository"

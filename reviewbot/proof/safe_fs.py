"""Read files of an untrusted tree without following symlinks out of it.

A PR can replace `package.json` or a JUnit report with a symlink to a host
file; the bot reads such files on the host, outside the sandbox, so every read
of PR-controlled content goes through here.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

MAX_READ = 16 * 1024 * 1024


def inside(tree: Path, relative: str) -> Path | None:
    """`tree/relative` when no component is `..`, absolute, or a symlink on the way; else None."""
    pure = PurePosixPath(relative)
    parts = pure.parts
    if not parts or pure.is_absolute() or ".." in parts:
        return None
    current = tree
    for part in parts[:-1]:
        current = current / part
        if current.is_symlink():
            return None
    return tree.joinpath(*parts)


def read_inside(tree: Path, relative: str, limit: int = MAX_READ) -> bytes | None:
    """A regular file's bytes (at most `limit`), or None if missing, a symlink, or not a file."""
    path = inside(tree, relative)
    if path is None:
        return None
    return read_regular(path, limit)


def read_regular(path: Path, limit: int = MAX_READ) -> bytes | None:
    """Open with O_NOFOLLOW and refuse anything but a regular file (no FIFOs that block)."""
    fd = _open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


def read_tail(path: Path, limit: int) -> bytes:
    """The last `limit` bytes of a regular file (for summary lines at the end of big logs)."""
    fd = _open_regular(path)
    if fd is None:
        return b""
    with os.fdopen(fd, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        handle.seek(max(0, size - limit))
        return handle.read(limit)


def _open_regular(path: Path) -> int | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd

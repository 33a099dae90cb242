"""The optional setup step (`npm ci`, `pip install ...`) and its cache.

Installing dependencies twice per review (head and base) would double the
slowest part of a run. The cache key is the hash of the setup command and the
lockfiles/manifests in the tree, so head and base share one install when the
PR does not touch dependencies, and a change to them is never served stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewbot.model import SandboxOutcome
from reviewbot.proof.changes import MANIFESTS
from reviewbot.proof.safe_fs import inside, read_inside
from reviewbot.repo_config import Setup

# What an install reads: the manifests the overlay knows, plus runtime requirements and
# other package managers' lockfiles. Sorted, so the key does not depend on set order.
AUTO_KEY_FILES = tuple(sorted(MANIFESTS | {"requirements.txt", "setup.py", "poetry.lock", "uv.lock", "Pipfile.lock"}))
COMPLETE = ".complete"


@dataclass(frozen=True)
class SetupResult:
    key: str
    cache_hit: bool
    outcome: SandboxOutcome | None  # None on a cache hit

    @property
    def ok(self) -> bool:
        return self.cache_hit or (self.outcome is not None and self.outcome.exit_code == 0)


def cache_key(setup: Setup, tree: Path, salt: str = "") -> str:
    """Hash of the command, the toolchain salt and each key file's path and bytes."""
    digest = hashlib.sha256()
    digest.update(setup.run.encode() + b"\0" + salt.encode() + b"\0")
    digest.update(("\0".join(setup.cache)).encode() + b"\0")
    for name in setup.cache_key or AUTO_KEY_FILES:
        data = read_inside(tree, name)
        if data is not None:
            digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()[:32]


class SetupCache:
    """Cached outputs of setup steps, one folder per key under the data directory."""

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        with open(self.root / f"{key}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def prepare(
        self,
        setup: Setup,
        tree: Path,
        run_setup: Callable[[], SandboxOutcome],
        salt: str = "",
    ) -> SetupResult:
        """Restore the cached outputs into `tree`, or run the step and cache what it made.

        Held under a per-key lock: when head and base share a key, the second
        waits for the first and then restores instead of installing again.
        """
        key = cache_key(setup, tree, salt)
        entry = self.root / key
        with self._locked(key):
            if (entry / COMPLETE).exists():
                for name in setup.cache:
                    _restore(entry / name, tree, name)
                return SetupResult(key=key, cache_hit=True, outcome=None)
            outcome = run_setup()
            if outcome.exit_code == 0 and setup.cache:
                staging = self.root / f".{key}-{uuid.uuid4().hex[:8]}"
                for name in setup.cache:
                    source = inside(tree, name)
                    if source is not None and source.is_dir() and not source.is_symlink():
                        shutil.copytree(source, staging / name, symlinks=True)
                staging.mkdir(exist_ok=True)
                (staging / COMPLETE).touch()
                shutil.rmtree(entry, ignore_errors=True)
                staging.rename(entry)
            return SetupResult(key=key, cache_hit=False, outcome=outcome)


def _restore(cached: Path, tree: Path, relative: str) -> None:
    target = inside(tree, relative)
    if target is None or not cached.is_dir():
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(cached, target, symlinks=True)

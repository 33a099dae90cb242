"""Git side of a proof: a bare mirror per repository, and one worktree per run.

A busy repository gets many reviews; cloning it for each would cost minutes and
bandwidth, so every repository has one bare mirror under the data directory,
fetched incrementally, and each run checks out a throwaway worktree from it.
Credentials are passed per fetch (`http.extraHeader` on the command line) and
never written to the mirror's config, so no token can reach a worktree.

A worker can die at any point (SIGKILL, OOM, a reboot). Every ref update and all
worktree bookkeeping in a mirror happen under the mirror's lock (an flock, which
dies with its holder), so whoever holds it next knows that any git lock file it
finds there was left by a killed git and removes it. A run folder carries its
owner's pid; `Workspace.recover()` removes the folders of dead owners and prunes
the worktrees they held.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git

from reviewbot.proof.liveness import pid_alive

FETCH_REFSPECS = (
    "+refs/heads/*:refs/heads/*",
    "+refs/tags/*:refs/tags/*",
    "+refs/pull/*/head:refs/pull/*/head",
)


class WorkspaceError(RuntimeError):
    """A git problem that stops the proof: unknown ref, unreachable remote."""


@dataclass(frozen=True)
class Revisions:
    head: str
    base_tip: str
    merge_base: str


class Mirror:
    """One repository's bare mirror: fetch, resolve, diff, read, check out."""

    def __init__(self, path: Path, source: str):
        self.path = path
        self.source = source
        self._lock_path = path.with_suffix(".lock")
        with self.locked():  # two workers meeting a new repository make one mirror
            if not (path / "HEAD").exists():
                path.mkdir(parents=True, exist_ok=True)
                git.Repo.init(path, bare=True)
        self.repo = git.Repo(path)
        self.git = self.repo.git

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise ref updates and worktree bookkeeping between threads and processes."""
        with open(self._lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> None:
        """Make the mirror usable after a killed git: stale lock files, worktrees whose folder is gone."""
        with self.locked():
            self._remove_stale_locks()
            for admin in (self.path / "worktrees").glob("*/"):
                gitdir = admin / "gitdir"  # `<worktree>/.git`; a worktree add killed midway stays "locked"
                target = Path(gitdir.read_text().strip()).parent if gitdir.is_file() else None
                if target is None or not target.exists():
                    (admin / "locked").unlink(missing_ok=True)
            with contextlib.suppress(git.GitCommandError):
                self.git.worktree("prune")

    def _remove_stale_locks(self) -> None:
        """Called with the mirror lock held: no live git is writing here, so a `*.lock` is a killed git's.

        Live worktrees' own locks (`worktrees/<name>/index.lock`) are theirs and are left alone.
        """
        candidates = [*self.path.glob("*.lock"), *(self.path / "refs").rglob("*.lock"),
                      *(self.path / "objects" / "info").glob("*.lock"), *(self.path / "objects" / "pack").glob("*.lock")]
        for lock in candidates:
            if lock.is_file():
                lock.unlink(missing_ok=True)

    def fetch(self, wanted: tuple[str, ...] = (), auth_header: str | None = None) -> None:
        """Incremental fetch of branches, tags and PR heads, then of any wanted ref still unknown.

        `wanted` may hold SHAs or names outside the standard refspecs
        (`origin/fix`); each costs a second fetch only when the first did not bring it.
        """
        config = ["-c", f"http.extraHeader={auth_header}"] if auth_header else []
        config += ["-c", "gc.autoDetach=false"]  # an auto gc packs refs under our lock, not after it
        with self.locked():
            self._remove_stale_locks()
            try:
                self.git.execute(["git", *config, "fetch", "--quiet", "--prune", "--no-tags",
                                  self.source, *FETCH_REFSPECS])
                for ref in wanted:
                    if not self._resolves(ref):
                        self.git.execute(["git", *config, "fetch", "--quiet", self.source,
                                          f"+{ref}:refs/reviewbot/extra/{_ref_slug(ref)}"])
            except git.GitCommandError as exc:
                raise WorkspaceError(f"git fetch from {self.source} failed: {_git_stderr(exc)}") from exc

    def _resolves(self, ref: str) -> bool:
        try:
            self.resolve(ref)
            return True
        except WorkspaceError:
            return False

    def resolve(self, ref: str) -> str:
        candidates = [ref, f"refs/heads/{ref}", f"refs/reviewbot/extra/{_ref_slug(ref)}"]
        for candidate in candidates:
            with contextlib.suppress(git.GitCommandError, ValueError):
                return self.git.rev_parse("--verify", "--quiet", f"{candidate}^{{commit}}")
        raise WorkspaceError(f"unknown revision {ref!r} in {self.source}")

    def revisions(self, base: str, head: str) -> Revisions:
        """Head, base tip, and the real merge-base (never GitHub's synthetic merge ref)."""
        head_sha, base_sha = self.resolve(head), self.resolve(base)
        try:
            merge_base = self.git.merge_base(base_sha, head_sha)
        except git.GitCommandError as exc:
            raise WorkspaceError(f"{base} and {head} share no history") from exc
        return Revisions(head=head_sha, base_tip=base_sha, merge_base=merge_base)

    def changed_files(self, merge_base: str, head: str) -> tuple[list[str], list[str]]:
        """(added or modified paths, deleted paths) between the merge-base and head; renames split."""
        output = self.git.diff("--name-status", "--no-renames", "-z", merge_base, head)
        parts = [part for part in output.split("\0") if part]
        changed, deleted = [], []
        for status, path in zip(parts[::2], parts[1::2]):
            (deleted if status.startswith("D") else changed).append(path)
        return sorted(changed), sorted(deleted)

    def diff(self, merge_base: str, head: str) -> str:
        """The unified diff of the PR (merge-base to head), as the lock scan reads it."""
        try:
            return self.git.diff("--no-color", "--no-ext-diff", "--no-renames", merge_base, head)
        except git.GitCommandError as exc:
            raise WorkspaceError(f"could not diff {merge_base[:12]}..{head[:12]}: {_git_stderr(exc)}") from exc

    def contains(self, descendant: str, ancestor: str) -> bool:
        """Whether `ancestor` is in the history of `descendant`."""
        try:
            self.git.merge_base("--is-ancestor", ancestor, descendant)
            return True
        except git.GitCommandError as exc:
            if exc.status == 1:
                return False
            raise WorkspaceError(f"could not compare {ancestor[:12]} and {descendant[:12]}: {_git_stderr(exc)}") from exc

    def conflicts(self, base: str, head: str) -> list[str]:
        """Files that conflict when `head` is merged into `base` (git merge-tree, no worktree needed)."""
        try:
            self.git.merge_tree("--write-tree", "--name-only", "--no-messages", base, head)
            return []
        except git.GitCommandError as exc:
            if exc.status != 1:  # 1: conflicts; anything else is a git problem
                raise WorkspaceError(f"could not merge-tree {head[:12]} into {base[:12]}: {_git_stderr(exc)}") from exc
            lines = (exc.stdout or "").strip().strip("'").splitlines()
            return [line.strip() for line in lines[1:] if line.strip()]

    def blob(self, sha: str, path: str) -> tuple[bytes, str] | None:
        """(bytes, git mode) of a file or symlink at a revision; None when absent or not a blob."""
        try:
            line = self.git.ls_tree(sha, "--", path)
        except git.GitCommandError:
            return None
        if not line:
            return None
        mode, kind, object_sha = line.split("\t", 1)[0].split(" ")
        if kind != "blob":
            return None
        return self.repo.odb.stream(bytes.fromhex(object_sha)).read(), mode

    def describe(self, sha: str) -> tuple[str | None, int]:
        """(nearest tag reachable from `sha`, commits since it); (None, 0) when no tag is reachable."""
        try:
            found = self.git.describe("--tags", "--long", "--abbrev=40", sha)
        except git.GitCommandError:
            return None, 0
        tag, distance, _ = found.rsplit("-", 2)
        return tag, int(distance)

    def read_file(self, sha: str, path: str) -> bytes | None:
        """A regular file's bytes at a revision; None when absent, a symlink or a directory."""
        found = self.blob(sha, path)
        return found[0] if found is not None and found[1] in ("100644", "100755") else None

    @contextlib.contextmanager
    def worktree(self, sha: str, root: Path, label: str) -> Iterator[Path]:
        """A detached worktree at `sha`, removed afterwards even when the run fails."""
        path = root / f"{label}-{uuid.uuid4().hex[:10]}"
        with self.locked():
            self._remove_stale_locks()
            try:
                self.git.worktree("add", "--detach", "--force", str(path), sha)
            except git.GitCommandError as exc:
                raise WorkspaceError(f"could not check out {sha[:12]}: {_git_stderr(exc)}") from exc
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)
            with self.locked(), contextlib.suppress(git.GitCommandError):
                self.git.worktree("prune")


class Workspace:
    """The data directory's mirrors and run folders."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.mirrors_dir = data_dir / "mirrors"
        self.runs_dir = data_dir / "runs"
        self.mirrors_dir.mkdir(parents=True, exist_ok=True)
        self.runs_dir.mkdir(parents=True, exist_ok=True)

    def mirror(self, source: str, key: str | None = None) -> Mirror:
        """The mirror for a remote URL or local path; `key` (e.g. "owner/name") names it."""
        if key is None:
            local = Path(source)
            source = str(local.resolve()) if local.exists() else source
            key = _source_key(source)
        path = self.mirrors_dir / (re.sub(r"[^A-Za-z0-9._-]+", "__", key) + ".git")
        return Mirror(path, source)

    def recover(self) -> list[Path]:
        """Remove the run folders of processes that died, then repair every mirror; returns what was removed."""
        removed = []
        for run in sorted(self.runs_dir.iterdir()):
            owner = _run_owner(run.name)
            if owner is not None and not pid_alive(owner):
                shutil.rmtree(run, ignore_errors=True)
                removed.append(run)
        for path in sorted(self.mirrors_dir.glob("*.git")):
            if (path / "HEAD").exists():
                Mirror(path, source="").recover()
        return removed

    @contextlib.contextmanager
    def run_dir(self, label: str) -> Iterator[Path]:
        path = self.runs_dir / f"{label}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def _run_owner(name: str) -> int | None:
    """The pid in a run folder's name (`<label>-<pid>-<8 hex>`), or None for folders not made by `run_dir`."""
    found = re.search(r"-(\d+)-[0-9a-f]{8}$", name)
    return int(found.group(1)) if found else None


def _source_key(source: str) -> str:
    name = re.sub(r"(\.git)?/*$", "", source).rsplit("/", 1)[-1] or "repo"
    return f"{name}-{hashlib.sha256(source.encode()).hexdigest()[:12]}"


def _ref_slug(ref: str) -> str:
    return re.sub(r"[^A-Za-z0-9._/-]+", "_", ref).strip("/") or "ref"


def _git_stderr(exc: git.GitCommandError) -> str:
    text = (exc.stderr or str(exc)).strip()
    return text.replace("stderr: ", "").strip(" '\n")[-500:]

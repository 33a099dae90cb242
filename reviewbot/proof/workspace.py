"""Git side of a proof: a bare mirror per repository, and one exported tree per run.

A busy repository gets many reviews; cloning it for each would cost minutes and
bandwidth, so every repository has one bare mirror under the data directory,
fetched incrementally with only the refs a review needs, and each run gets a
throwaway export of a commit. Every git call goes through `HostGit` (hardened
config, a timeout, credentials in the environment only; see host_git.py).

The export is a plain directory with no `.git` inside: the sandbox writes there,
so the host never runs git against it, and no host path leaks through a
worktree's `.git` file. It is made from a temporary index the bot owns
(`read-tree`, then `checkout-index`), not `git archive`, which would honour the
PR's `export-ignore`.

A worker can die at any point (SIGKILL, OOM, a reboot). Every ref update in a
mirror happens under the mirror's lock (an flock, which dies with its holder),
so whoever holds it next knows that any git lock file it finds there was left
by a killed git and removes it. A run folder carries its owner's pid;
`Workspace.recover()` removes the folders of dead owners.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reviewbot.proof.host_git import FETCH_TIMEOUT_S, GitFailed, HostGit, WorkspaceError
from reviewbot.proof.liveness import pid_alive

__all__ = ["Mirror", "Revisions", "Workspace", "WorkspaceError"]

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_DESCRIBED = re.compile(r"^(.*)-(\d+)-g[0-9a-f]+$")


@dataclass(frozen=True)
class Revisions:
    head: str
    base_tip: str
    merge_base: str


class Mirror:
    """One repository's bare mirror: fetch, resolve, diff, read, export."""

    def __init__(self, path: Path, source: str):
        self.path = path
        self.source = source
        self._lock_path = path.with_suffix(".lock")
        self.git = HostGit(path)
        with self.locked():  # two workers meeting a new repository make one mirror
            if not (path / "HEAD").exists():
                path.mkdir(parents=True, exist_ok=True)
                HostGit(path.parent).run("init", "--quiet", "--bare", str(path))

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Serialise ref updates between threads and processes."""
        with open(self._lock_path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def recover(self) -> None:
        """Make the mirror usable after a killed git: stale lock files."""
        with self.locked():
            self._remove_stale_locks()

    def _remove_stale_locks(self) -> None:
        """Called with the mirror lock held: no live git is writing here, so a `*.lock` is a killed git's."""
        candidates = [
            *self.path.glob("*.lock"),
            *(self.path / "refs").rglob("*.lock"),
            *(self.path / "objects" / "info").glob("*.lock"),
            *(self.path / "objects" / "pack").glob("*.lock"),
        ]
        for lock in candidates:
            if lock.is_file():
                lock.unlink(missing_ok=True)

    def fetch(self, wanted: tuple[str, ...] = (), auth_header: str | None = None) -> None:
        """Fetch just the revisions a review needs: each wanted branch, ref or SHA (and tags on their history).

        A SHA already in the mirror is not fetched again (it cannot change); a
        name (`main`, `refs/pull/7/head`, `origin/fix`) is fetched every time,
        into `refs/reviewbot/extra/<name>`, which `resolve` reads first. Never
        every `refs/pull/*` of a busy repository. Tags pointing into the fetched
        history come along (git's tag following), for `describe`.
        """
        specs = []
        for ref in dict.fromkeys(_split_revision(ref)[0] for ref in wanted):  # `main~1`: fetch `main`
            if _SHA.fullmatch(ref) and self._has_commit(ref):
                continue
            specs.append(f"+{ref}:refs/reviewbot/extra/{_ref_slug(ref)}")
        if not specs:
            return
        with self.locked():
            self._remove_stale_locks()
            try:
                self.git.run(
                    "fetch",
                    "--quiet",
                    "--no-write-fetch-head",
                    "--no-recurse-submodules",
                    "--",
                    self.source,
                    *specs,
                    auth_header=auth_header,
                    timeout=FETCH_TIMEOUT_S,
                )
            except GitFailed as exc:
                raise WorkspaceError(f"git fetch from {self.source} failed: {exc.stderr_text}") from exc
            self._gc()

    def _gc(self) -> None:
        """Auto gc, here under the lock only: every other call has it off, since it rewrites refs and packs."""
        with contextlib.suppress(GitFailed):
            self.git.run(
                "-c", "gc.auto=6700", "-c", "gc.autoDetach=false", "gc", "--auto", "--quiet", timeout=FETCH_TIMEOUT_S
            )

    def fetch_if_exists(self, ref: str, auth_header: str | None = None) -> str | None:
        """Fetch one full ref (`refs/heads/reviewbot/pr-7`) that may not exist; its SHA, or None when absent."""
        local = f"refs/reviewbot/extra/{_ref_slug(ref)}"
        with self.locked():
            self._remove_stale_locks()
            try:
                self.git.run(
                    "fetch",
                    "--quiet",
                    "--no-write-fetch-head",
                    "--no-recurse-submodules",
                    "--",
                    self.source,
                    f"+{ref}:{local}",
                    auth_header=auth_header,
                    timeout=FETCH_TIMEOUT_S,
                )
            except GitFailed as exc:
                if "couldn't find remote ref" not in exc.stderr_text:
                    raise WorkspaceError(f"git fetch from {self.source} failed: {exc.stderr_text}") from exc
                self.git.ok("update-ref", "-d", local)  # gone upstream: forget what an earlier fetch saw
                return None
        return self.resolve(ref)

    def _has_commit(self, sha: str) -> bool:
        return self.git.ok("cat-file", "-e", f"{sha}^{{commit}}")

    def resolve(self, ref: str) -> str:
        name, suffix = _split_revision(ref)
        candidates = [f"refs/reviewbot/extra/{_ref_slug(name)}{suffix}", ref, f"refs/heads/{name}{suffix}"]
        if ref.startswith("-"):
            candidates = candidates[:1]
        for candidate in candidates:
            with contextlib.suppress(GitFailed):
                sha = self.git.text("rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}")
                if _SHA.fullmatch(sha):
                    return sha
        raise WorkspaceError(f"unknown revision {ref!r} in {self.source}")

    def revisions(self, base: str, head: str) -> Revisions:
        """Head, base tip, and the real merge-base (never GitHub's synthetic merge ref)."""
        head_sha, base_sha = self.resolve(head), self.resolve(base)
        try:
            merge_base = self.git.text("merge-base", base_sha, head_sha)
        except GitFailed as exc:
            raise WorkspaceError(f"{base} and {head} share no history") from exc
        return Revisions(head=head_sha, base_tip=base_sha, merge_base=merge_base)

    def changed_files(self, merge_base: str, head: str) -> tuple[list[str], list[str]]:
        """(added or modified paths, deleted paths) between the merge-base and head; renames split."""
        output = self.git.text(
            "diff", "--name-status", "--no-renames", "--no-ext-diff", "--no-textconv", "-z", merge_base, head
        )
        parts = [part for part in output.split("\0") if part]
        changed, deleted = [], []
        for status, path in zip(parts[::2], parts[1::2], strict=False):
            (deleted if status.startswith("D") else changed).append(path)
        return sorted(changed), sorted(deleted)

    def diff(self, merge_base: str, head: str) -> str:
        """The unified diff of the PR (merge-base to head), as the lock scan reads it."""
        try:
            return self.git.text(
                "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames", merge_base, head
            )
        except GitFailed as exc:
            raise WorkspaceError(f"could not diff {merge_base[:12]}..{head[:12]}: {exc.stderr_text}") from exc

    def contains(self, descendant: str, ancestor: str) -> bool:
        """Whether `ancestor` is in the history of `descendant`."""
        try:
            self.git.run("merge-base", "--is-ancestor", ancestor, descendant)
            return True
        except GitFailed as exc:
            if exc.status == 1:
                return False
            raise WorkspaceError(f"could not compare {ancestor[:12]} and {descendant[:12]}: {exc.stderr_text}") from exc

    def conflicts(self, base: str, head: str) -> list[str]:
        """Files that conflict when `head` is merged into `base` (git merge-tree, no worktree needed)."""
        try:
            self.git.run("merge-tree", "--write-tree", "--name-only", "--no-messages", base, head)
            return []
        except GitFailed as exc:
            if exc.status != 1:  # 1: conflicts; anything else is a git problem
                raise WorkspaceError(f"could not merge-tree {head[:12]} into {base[:12]}: {exc.stderr_text}") from exc
            lines = exc.stdout_text.strip().splitlines()
            return [line.strip() for line in lines[1:] if line.strip()]

    def blob(self, sha: str, path: str) -> tuple[bytes, str] | None:
        """(bytes, git mode) of a file or symlink at a revision; None when absent or not a blob."""
        try:
            line = self.git.text("ls-tree", "--end-of-options", sha, "--", path)
        except GitFailed:
            return None
        if not line:
            return None
        mode, kind, object_sha = line.split("\t", 1)[0].split(" ")
        if kind != "blob":
            return None
        return self.git.run("cat-file", "blob", object_sha), mode

    def read_file(self, sha: str, path: str) -> bytes | None:
        """A regular file's bytes at a revision; None when absent, a symlink or a directory."""
        found = self.blob(sha, path)
        return found[0] if found is not None and found[1] in ("100644", "100755") else None

    def describe(self, sha: str) -> tuple[str | None, int]:
        """(nearest tag reachable from `sha`, commits since it); (None, 0) when no tag is reachable.

        Build backends that take their version from git (setuptools-scm, hatch-vcs)
        get it from here as a pretend version, since an export has no `.git`.
        """
        try:
            out = self.git.text("describe", "--tags", "--long", "--abbrev=40", "--end-of-options", sha)
        except GitFailed:
            return None, 0
        found = _DESCRIBED.match(out)
        return (found.group(1), int(found.group(2))) if found else (None, 0)

    @contextlib.contextmanager
    def worktree(self, sha: str, root: Path, label: str) -> Iterator[Path]:
        """A plain directory with the files of `sha` and no `.git`, removed afterwards even when the run fails.

        The index lives in a private temporary directory, never in what the
        sandbox can write; `checkout-index` runs before any PR code does.
        """
        path = root / f"{label}-{uuid.uuid4().hex[:10]}"
        root.mkdir(parents=True, exist_ok=True)
        path.mkdir()
        try:
            with tempfile.TemporaryDirectory(prefix="reviewbot-index-") as private:
                env = {"GIT_INDEX_FILE": str(Path(private) / "index"), "GIT_WORK_TREE": str(path)}
                try:
                    self.git.run("read-tree", "--end-of-options", sha, env=env)
                    self.git.run(
                        "-c",
                        "core.bare=false",
                        "-c",
                        "core.symlinks=true",
                        "checkout-index",
                        "--all",
                        "--force",
                        env=env,
                    )
                except GitFailed as exc:
                    raise WorkspaceError(f"could not check out {sha[:12]}: {exc.stderr_text}") from exc
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


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


def _split_revision(ref: str) -> tuple[str, str]:
    """`main~1` -> (`main`, `~1`): what to fetch, and the ancestry to walk from it locally."""
    found = re.match(r"([^~^]*)([~^].*)?$", ref)
    return (found.group(1), found.group(2) or "") if found and found.group(1) else (ref, "")


def _ref_slug(ref: str) -> str:
    return re.sub(r"[^A-Za-z0-9._/-]+", "_", ref).strip("/") or "ref"

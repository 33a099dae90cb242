"""The repository's `fix:` commands (formatters): run in the sandbox on a PR head, their changes committed.

The commands are the base branch's configuration but run over the PR's code, so
they get the same sandbox as any suite: no network, no secrets, limits. They
run on an export of the head (a plain directory, no `.git`). Afterwards that
directory is untrusted *data*: the host never runs git in it (a `.git` written
there could name an fsmonitor or hooks that git would run as the bot). The
host reads it with lstat, never following a symlink, takes regular files and
symlinks only, skips anything named `.git`, caps sizes, and compares it with
a snapshot taken before the commands ran. The commit is then built inside the
mirror by hardened git alone: blobs from stdin without filters, a temporary
index the bot owns, `write-tree`, `commit-tree`. `.gitignore` is honoured for
new files (by asking git about a shadow tree of empty files the bot writes),
as `git add -A` would.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.proof.branches import Identity, identity_env
from reviewbot.proof.host_git import GitFailed, HostGit, WorkspaceError
from reviewbot.proof.safe_fs import read_regular
from reviewbot.proof.sandbox import Limits, Sandbox, SandboxRequest
from reviewbot.proof.workspace import Mirror
from reviewbot.repo_config import FixCommand

MAX_FILE_BYTES = 100 * 1024 * 1024  # GitHub refuses larger files in a push
MAX_CHANGED_BYTES = 512 * 1024 * 1024  # all new or changed content of one fix commit
MAX_ENTRIES = 500_000  # files and symlinks in the tree
GITIGNORE_BYTES = 1024 * 1024
REGULAR, EXECUTABLE, SYMLINK, GITLINK = "100644", "100755", "120000", "160000"


@dataclass(frozen=True)
class FixResult:
    sha: str | None  # the fix commit; None when nothing changed or a command failed
    changed: list[str] = field(default_factory=list)
    failed: str = ""  # which command failed, and how


class UnreadableTree(WorkspaceError):
    """The fix commands left something the bot will not commit (too large, too many files)."""


def apply_fixes(
    sandbox: Sandbox,
    mirror: Mirror,
    head_sha: str,
    commands: list[FixCommand],
    scratch: Path,
    who: Identity,
    message: str,
) -> FixResult:
    scratch.mkdir(parents=True, exist_ok=True)
    with mirror.worktree(head_sha, scratch, "fix") as tree:
        before = snapshot(tree)
        for index, command in enumerate(commands):
            outcome = sandbox.run(
                SandboxRequest(
                    command=command.run,
                    worktree=tree,
                    out_dir=scratch / f"out{index}",
                    limits=Limits(wall_clock_s=command.timeout),
                )
            )
            if outcome.exit_code != 0 or outcome.limit_hit:
                why = f"hit the {outcome.limit_hit} limit" if outcome.limit_hit else f"exited {outcome.exit_code}"
                return FixResult(None, failed=f"`{command.run}` {why}")
        try:
            after = snapshot(tree)
            return commit_changes(mirror, head_sha, tree, before, after, who, message)
        except UnreadableTree as exc:
            return FixResult(None, failed=str(exc))
        except OSError as exc:  # a name or tree the bot cannot mirror; strerror, so no host path is shown
            return FixResult(None, failed=f"the fix commands left a tree the bot cannot read: {exc.strerror}")


# -- reading the tree as data ----------------------------------------------------------


def snapshot(tree: Path) -> dict[str, tuple[str, str]]:
    """path -> (git mode, blob id of the bytes as they are on disk), for regular files and symlinks.

    Anything named `.git` (directory or file, at any depth) is left out, and so
    is everything that is neither a regular file nor a symlink.
    """
    found: dict[str, tuple[str, str]] = {}
    pending = [""]
    while pending:
        relative = pending.pop()
        with os.scandir(tree / relative if relative else tree) as entries:
            for entry in entries:
                if entry.name == ".git":
                    continue
                path = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_symlink():
                    found[path] = (SYMLINK, _blob_id(os.fsencode(os.readlink(entry.path))))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif entry.is_file(follow_symlinks=False):
                    found[path] = _hash_file(Path(entry.path))
                if len(found) > MAX_ENTRIES:
                    raise UnreadableTree(f"the fix commands left more than {MAX_ENTRIES} files")
    return found


def read_entry(tree: Path, path: str, mode: str) -> bytes:
    """The bytes to store for `path`: a symlink's target, or a regular file's content (never followed)."""
    target = tree / path
    if mode == SYMLINK:
        return os.fsencode(os.readlink(target))
    data = read_regular(target, MAX_FILE_BYTES + 1)
    if data is None or len(data) > MAX_FILE_BYTES:
        raise UnreadableTree(f"the fix commands left `{path}` changing or larger than {MAX_FILE_BYTES >> 20} MiB")
    return data


def _hash_file(path: Path) -> tuple[str, str]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnreadableTree("the fix commands replaced a file while it was read")
        digest = hashlib.sha1(b"blob %d\0" % info.st_size)
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return (EXECUTABLE if info.st_mode & stat.S_IXUSR else REGULAR), digest.hexdigest()


def _blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


# -- building the commit in the mirror ---------------------------------------------------


def commit_changes(
    mirror: Mirror,
    head_sha: str,
    tree: Path,
    before: dict[str, tuple[str, str]],
    after: dict[str, tuple[str, str]],
    who: Identity,
    message: str,
) -> FixResult:
    """One commit on `head_sha` with what changed between the snapshots; FixResult(None) when nothing did."""
    touched = sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))
    if not touched:
        return FixResult(None)
    git = mirror.git
    original = _tree_entries(git, head_sha)
    entries = dict(original)
    gitlinks = [path for path, (mode, _) in original.items() if mode == GITLINK]
    new_files = [path for path in touched if path in after and path not in before]
    with tempfile.TemporaryDirectory(prefix="reviewbot-fix-") as private:
        ignored = _ignored(git, head_sha, new_files, tree, after, Path(private))
        budget = MAX_CHANGED_BYTES
        for path in touched:
            if path in ignored or any(path.startswith(f"{link}/") for link in gitlinks):
                continue
            if path not in after:
                entries.pop(path, None)
                continue
            mode = after[path][0]
            data = read_entry(tree, path, mode)
            budget -= len(data)
            if budget < 0:
                raise UnreadableTree(f"the fix commands changed more than {MAX_CHANGED_BYTES >> 20} MiB")
            oid = git.text("hash-object", "-w", "--stdin", "--no-filters", input=data)
            entries[path] = (mode, oid)
        changed = sorted(path for path in entries.keys() | original.keys() if entries.get(path) != original.get(path))
        if not changed:
            return FixResult(None)
        env = {"GIT_INDEX_FILE": str(Path(private) / "index")}
        records = b"".join(
            b"%s %s\t%s\0" % (mode.encode(), oid.encode(), os.fsencode(path))
            for path, (mode, oid) in sorted(entries.items())
        )
        git.run("update-index", "--add", "-z", "--index-info", input=records, env=env)
        tree_sha = git.text("write-tree", env=env)
    sha = git.text("commit-tree", tree_sha, "-p", head_sha, "-F", "-", input=message.encode(), env=identity_env(who))
    return FixResult(sha, changed)


def _tree_entries(git: HostGit, sha: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, object id) of every blob and gitlink in the commit's tree."""
    out = git.run("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", sha)
    entries = {}
    for record in out.split(b"\0"):
        if not record:
            continue
        meta, path = record.split(b"\t", 1)
        mode, _kind, oid = meta.decode().split(" ")
        entries[os.fsdecode(path)] = (mode, oid)
    return entries


def _ignored(
    git: HostGit, head_sha: str, new_files: list[str], tree: Path, after: dict[str, tuple[str, str]], private: Path
) -> set[str]:
    """The new files `.gitignore` excludes, asked of git on a shadow tree the bot writes (names only, no content).

    The shadow holds the `.gitignore` files as the commands left them and an
    empty file per new path, so `ls-files --others --exclude-standard` answers
    exactly what `git add -A` would have taken, without git touching the export.
    """
    if not new_files:
        return set()
    shadow = private / "shadow"
    shadow.mkdir()
    for path in [p for p in after if p.rsplit("/", 1)[-1] == ".gitignore" and after[p][0] != SYMLINK] + new_files:
        target = shadow / path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = read_regular(tree / path, GITIGNORE_BYTES) if path.endswith(".gitignore") else b""
        if not target.exists():
            target.write_bytes(data or b"")
    env = {"GIT_INDEX_FILE": str(private / "shadow-index"), "GIT_WORK_TREE": str(shadow)}
    try:
        git.run("read-tree", "--end-of-options", head_sha, env=env)
        out = git.run("-c", "core.bare=false", "ls-files", "-z", "--others", "--exclude-standard", env=env)
    except GitFailed as exc:
        raise WorkspaceError(f"could not read the ignore rules of {head_sha[:12]}: {exc.stderr_text}") from exc
    kept = {os.fsdecode(path) for path in out.split(b"\0") if path}
    return set(new_files) - kept

"""Plumbing on the fake's bare repositories, through the real `git` binary.

Everything the REST side needs from git (tips, merges, diffs, file contents) is done with
plumbing commands on bare repositories, so no worktree is needed except for rebase merges
(git 2.39's `merge-tree` cannot replay a single commit). The environment is isolated from the
machine's git configuration so the fake behaves the same everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ZERO_SHA = "0" * 40
GITHUB_IDENTITY = ("GitHub", "noreply@github.com")


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for git that ignores the user's and the system's configuration."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": tempfile.gettempdir(),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "TZ": "UTC",
    }
    if extra:
        env.update(extra)
    return env


class GitError(RuntimeError):
    """A git command failed; carries its stderr so callers can map it to an HTTP answer."""

    def __init__(self, args: list[str], returncode: int, stderr: str):
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: list[str]
    author_name: str
    author_email: str
    author_date: datetime
    committer_name: str
    committer_email: str
    committer_date: datetime
    message: str


@dataclass(frozen=True)
class FileChange:
    """One entry of a three-dot diff, the way GitHub's `pulls/N/files` describes it."""

    status: str  # added, removed, modified, renamed, copied, changed
    filename: str
    previous_filename: str | None
    sha: str | None  # blob sha on the head side (None when removed)
    additions: int
    deletions: int
    patch: str | None  # None for binary files


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    type: str  # blob, tree, commit
    sha: str
    path: str
    size: int


class BareRepo:
    """A bare repository on disk with the handful of operations the fake needs."""

    def __init__(self, path: Path):
        self.path = Path(path)

    # -- running git -------------------------------------------------------------------------

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        check: bool = True,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        cmd = ["git", "--git-dir", str(self.path), *args] if cwd is None else ["git", *args]
        proc = subprocess.run(cmd, input=input, capture_output=True, env=git_env(env), cwd=cwd, timeout=120)
        if check and proc.returncode != 0:
            raise GitError(list(args), proc.returncode, proc.stderr.decode(errors="replace"))
        return proc

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.decode(errors="replace").strip()

    # -- creation ----------------------------------------------------------------------------

    @classmethod
    def init(cls, path: Path, default_branch: str) -> BareRepo:
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["git", "init", "--bare", "-q", "-b", default_branch, str(path)],
            capture_output=True,
            env=git_env(),
        )
        if proc.returncode != 0:
            raise GitError(["init"], proc.returncode, proc.stderr.decode())
        repo = cls(path)
        repo.configure()
        return repo

    @classmethod
    def clone_bare(cls, source: Path, path: Path) -> BareRepo:
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["git", "clone", "--bare", "-q", "--no-local", str(source), str(path)],
            capture_output=True,
            env=git_env(),
        )
        if proc.returncode != 0:
            raise GitError(["clone"], proc.returncode, proc.stderr.decode())
        repo = cls(path)
        # A fork gets the branches and tags, never the parent's pull refs.
        for ref in repo.refs("refs/pull/"):
            repo.delete_ref(ref)
        repo.configure()
        return repo

    def configure(self) -> None:
        """Settings that make the bare repo behave like one of GitHub's over smart HTTP."""
        for key, value in (
            ("http.receivepack", "true"),
            ("http.uploadpack", "true"),
            # GitHub refuses pushes to refs/pull/*, but serves them to fetches.
            ("receive.hideRefs", "refs/pull"),
            ("receive.denyDeleteCurrent", "warn"),
            ("uploadpack.allowReachableSHA1InWant", "true"),
            ("uploadpack.allowFilter", "true"),
            ("core.logAllRefUpdates", "false"),
        ):
            self.run("config", key, value)

    def import_from(self, source: Path) -> None:
        """Copy every branch and tag of a local repository (what a first `git push --all --tags` does)."""
        self.run("fetch", "-q", "--no-tags", str(source), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")

    def set_head(self, branch: str) -> None:
        self.run("symbolic-ref", "HEAD", f"refs/heads/{branch}")

    # -- refs --------------------------------------------------------------------------------

    def rev_parse(self, rev: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def object_type(self, sha: str) -> str | None:
        proc = self.run("cat-file", "-t", sha, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def ref_sha(self, ref: str) -> str | None:
        proc = self.run("rev-parse", "--verify", "-q", ref, check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def refs(self, prefix: str = "refs/") -> dict[str, str]:
        text = self.out("for-each-ref", "--format=%(refname) %(objectname)", prefix)
        result: dict[str, str] = {}
        for line in text.splitlines():
            name, _, sha = line.partition(" ")
            result[name] = sha
        return result

    def update_ref(self, ref: str, new: str, old: str | None = None) -> None:
        args = ["update-ref", ref, new]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str) -> None:
        self.run("update-ref", "-d", ref)

    def resolve(self, ref: str) -> str | None:
        """A branch name, tag name, full ref or (abbreviated) sha, to a commit sha."""
        for candidate in (f"refs/heads/{ref}", f"refs/tags/{ref}", ref):
            sha = self.rev_parse(candidate)
            if sha:
                return sha
        return None

    def fetch_ref(self, source: Path, src_ref: str, dst_ref: str) -> None:
        self.run("fetch", "-q", "--no-tags", str(source), f"+{src_ref}:{dst_ref}")

    # -- history -----------------------------------------------------------------------------

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.run("merge-base", a, b, check=False)
        return proc.stdout.decode().strip() or None if proc.returncode == 0 else None

    def rev_list(self, exclude: str, include: str, limit: int | None = None) -> list[str]:
        args = ["rev-list", "--reverse", "--topo-order"]
        if limit is not None:
            args.append(f"--max-count={limit}")
        out = self.out(*args, include, f"^{exclude}")
        return [line for line in out.splitlines() if line]

    def commits(self, shas: list[str]) -> list[CommitInfo]:
        if not shas:
            return []
        fmt = "%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x1e"
        out = self.run("show", "-s", f"--format={fmt}", "--no-walk=unsorted", *shas).stdout.decode(errors="replace")
        infos = []
        for record in out.split("\x1e"):
            record = record.lstrip("\n")
            if not record:
                continue
            f = record.split("\x00")
            infos.append(
                CommitInfo(
                    sha=f[0],
                    tree=f[1],
                    parents=f[2].split() if f[2] else [],
                    author_name=f[3],
                    author_email=f[4],
                    author_date=datetime.fromtimestamp(int(f[5]), UTC),
                    committer_name=f[6],
                    committer_email=f[7],
                    committer_date=datetime.fromtimestamp(int(f[8]), UTC),
                    message=f[9].rstrip("\n"),
                )
            )
        return infos

    def commit(self, sha: str) -> CommitInfo:
        return self.commits([sha])[0]

    # -- merging -----------------------------------------------------------------------------

    def merge_tree(self, ours: str, theirs: str) -> tuple[bool, str | None]:
        """(clean, tree) of a real three-way merge, without touching any ref or worktree."""
        proc = self.run("merge-tree", "--write-tree", "--no-messages", ours, theirs, check=False)
        first = proc.stdout.decode().splitlines()[0].strip() if proc.stdout else ""
        if proc.returncode == 0:
            return True, first
        if proc.returncode == 1:
            return False, None
        raise GitError(["merge-tree", ours, theirs], proc.returncode, proc.stderr.decode())

    def commit_tree(
        self,
        tree: str,
        parents: list[str],
        message: str,
        author: tuple[str, str] = GITHUB_IDENTITY,
        committer: tuple[str, str] = GITHUB_IDENTITY,
        author_date: datetime | None = None,
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
        }
        if author_date is not None:
            env["GIT_AUTHOR_DATE"] = f"@{int(author_date.timestamp())} +0000"
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, input=message.encode(), env=env).stdout.decode().strip()

    def rebase_onto(self, onto: str, commits: list[str], committer: tuple[str, str]) -> str | None:
        """Replay `commits` onto `onto` like GitHub's rebase merge; None when a commit conflicts."""
        workdir = Path(tempfile.mkdtemp(prefix="fakegithub-rebase-"))
        env = {"GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]}
        try:
            self.run("worktree", "add", "-q", "--detach", str(workdir), onto)
            for sha in commits:
                proc = self.run(
                    "cherry-pick", "--allow-empty", "--keep-redundant-commits", sha, cwd=workdir, env=env, check=False
                )
                if proc.returncode != 0:
                    self.run("cherry-pick", "--abort", cwd=workdir, check=False)
                    return None
            return self.run("rev-parse", "HEAD", cwd=workdir).stdout.decode().strip()
        finally:
            self.run("worktree", "remove", "--force", str(workdir), check=False)
            shutil.rmtree(workdir, ignore_errors=True)
            self.run("worktree", "prune", check=False)

    def commit_files(
        self,
        parent: str | None,
        files: dict[str, str | bytes | None],
        message: str,
        author: tuple[str, str],
    ) -> str:
        """A commit on top of `parent` with `files` written (None deletes), via a scratch index."""
        with tempfile.TemporaryDirectory(prefix="fakegithub-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if parent:
                self.run("read-tree", parent, env=env)
            for path, content in files.items():
                if content is None:
                    self.run("update-index", "--force-remove", "--", path, env=env)
                    continue
                data = content.encode() if isinstance(content, str) else content
                blob = self.run("hash-object", "-w", "--stdin", input=data).stdout.decode().strip()
                self.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
            tree = self.out("write-tree", env=env)
        return self.commit_tree(tree, [parent] if parent else [], message, author=author, committer=author)

    # -- diffs and contents ------------------------------------------------------------------

    def diff_files(self, base: str, head: str) -> list[FileChange]:
        """The files a PR changes: `git diff base...head` with renames, counts and hunks."""
        raw = self.run("diff", "--raw", "-z", "-M", "--no-abbrev", base, head).stdout.decode(errors="replace")
        numstat = self.run("diff", "--numstat", "-z", "-M", base, head).stdout.decode(errors="replace")
        patch = self.run("diff", "-M", "--no-color", "--no-ext-diff", base, head).stdout.decode(errors="replace")

        entries: list[tuple[str, str, str | None, str]] = []  # (status letter, path, old path, new sha)
        parts = raw.split("\x00")
        i = 0
        while i < len(parts) and parts[i]:
            meta = parts[i].lstrip(":").split()
            letter = meta[4][0]
            if letter in "RC":
                entries.append((letter, parts[i + 2], parts[i + 1], meta[3]))
                i += 3
            else:
                entries.append((letter, parts[i + 1], None, meta[3]))
                i += 2

        counts: list[tuple[int | None, int | None]] = []
        parts = numstat.split("\x00")
        i = 0
        while i < len(parts) and parts[i]:
            added, deleted, path = parts[i].split("\t", 2)
            counts.append((None if added == "-" else int(added), None if deleted == "-" else int(deleted)))
            i += 3 if path == "" else 1

        hunks: list[str | None] = []
        for chunk in ("\n" + patch).split("\ndiff --git ")[1:]:
            at = chunk.find("\n@@")
            hunks.append(chunk[at + 1 :].rstrip("\n") if at >= 0 else None)

        names = {"A": "added", "D": "removed", "M": "modified", "R": "renamed", "C": "copied", "T": "changed"}
        changes = []
        for index, (letter, path, old, sha) in enumerate(entries):
            added, deleted = counts[index] if index < len(counts) else (0, 0)
            binary = added is None
            changes.append(
                FileChange(
                    status=names.get(letter, "modified"),
                    filename=path,
                    previous_filename=old,
                    sha=None if letter == "D" else sha,
                    additions=added or 0,
                    deletions=deleted or 0,
                    patch=None if binary else (hunks[index] if index < len(hunks) else None),
                )
            )
        return changes

    def tree_entry(self, rev: str, path: str) -> TreeEntry | None:
        out = self.run("ls-tree", "-l", "-z", rev, "--", path.rstrip("/"), check=False).stdout.decode(errors="replace")
        for item in out.split("\x00"):
            if item:
                meta, _, name = item.partition("\t")
                mode, kind, sha, size = meta.split()
                if name == path.rstrip("/"):
                    return TreeEntry(mode, kind, sha, name, 0 if size == "-" else int(size))
        return None

    def list_tree(self, rev: str, path: str) -> list[TreeEntry]:
        spec = f"{rev}:{path}" if path else f"{rev}^{{tree}}"
        out = self.run("ls-tree", "-l", "-z", spec, check=False).stdout.decode(errors="replace")
        entries = []
        prefix = f"{path.rstrip('/')}/" if path else ""
        for item in out.split("\x00"):
            if item:
                meta, _, name = item.partition("\t")
                mode, kind, sha, size = meta.split()
                entries.append(TreeEntry(mode, kind, sha, prefix + name, 0 if size == "-" else int(size)))
        return entries

    def blob(self, sha: str) -> bytes:
        return self.run("cat-file", "blob", sha).stdout

"""Sample git repositories: a PR branch off `main`, built for real, in milliseconds.

The demo and the test-suite need repositories that look like the ones the bot
reviews: a base branch, a PR branch that branches off it, and a base that has
moved on by one unrelated commit after the branch point, so the merge-base is
not main's tip (the bot must compare against the real merge-base).

Everything is deterministic: fixed identities and commit dates, so a builder
run twice gives the same commit SHAs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import git

BASE_BRANCH = "main"

MAINTAINER = ("Sample Maintainer", "maintainer@example.invalid")
CONTRIBUTOR = ("Sample Contributor", "contributor@example.invalid")

# 2024-06-03T09:00:00Z; every commit is one minute after the previous one.
_START_EPOCH = 1_717_405_200


@dataclass(frozen=True)
class SampleRepo:
    """A built repository and what a correct review of its PR concludes."""

    path: Path
    base: str  # base branch name, "main"
    head: str  # PR branch name
    expected_verdict: str  # the verdict a correct bot gives
    description: str
    title: str = ""  # a PR title, for demos that render a review
    body: str = ""  # the PR description, as a contributor wrote it


class RepoWriter:
    """Write files into a fresh git repository and commit them with fixed dates.

    Commits go through the git CLI (`git add -A`, so `.gitignore` is honoured,
    executable bits are kept) with the identity and dates in the environment.
    """

    def __init__(self, root: Path, *, start_epoch: int = _START_EPOCH):
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.repo = git.Repo.init(root, initial_branch=BASE_BRANCH)
        with self.repo.config_writer() as config:
            config.set_value("user", "name", MAINTAINER[0])
            config.set_value("user", "email", MAINTAINER[1])
            config.set_value("commit", "gpgsign", "false")
            config.set_value("core", "autocrlf", "false")
        self._clock = start_epoch

    # -- files -----------------------------------------------------------------

    def write(self, files: Mapping[str, str | bytes]) -> None:
        """Write files (relative POSIX paths) into the working tree."""
        for rel, content in files.items():
            target = self.root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8", newline="\n")

    def delete(self, paths: Iterable[str]) -> None:
        for rel in paths:
            (self.root / rel).unlink()

    def copy_tree(self, source: Path) -> list[str]:
        """Copy every file under `source` into the working tree; returns the paths.

        A leading `dot_` on a path component becomes `.` (`dot_github` ->
        `.github`), so dot-directories survive packaging as package data.
        """
        written = []
        for path in sorted(Path(source).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            rel_parts = [("." + p[4:]) if p.startswith("dot_") else p for p in path.relative_to(source).parts]
            rel = "/".join(rel_parts)
            target = self.root.joinpath(*rel_parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            written.append(rel)
        return written

    # -- history ---------------------------------------------------------------

    def commit(self, message: str, *, author: tuple[str, str] = MAINTAINER) -> str:
        """Stage everything and commit; returns the new commit SHA."""
        self._clock += 60
        date = f"{self._clock} +0000"
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": author[0],
            "GIT_COMMITTER_EMAIL": author[1],
            "GIT_COMMITTER_DATE": date,
        }
        self.repo.git.add("-A")
        self.repo.git.commit("-q", "--no-verify", "-m", message, env={**os.environ, **env})
        return self.repo.head.commit.hexsha

    def branch(self, name: str, start: str = BASE_BRANCH) -> None:
        """Create branch `name` at `start` and check it out."""
        self.repo.git.checkout("-q", "-b", name, start)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout("-q", name)

    def pull_request(
        self,
        *,
        head: str,
        base_files: Mapping[str, str | bytes] | None = None,
        base_message: str = "Initial import",
        pr_files: Mapping[str, str | bytes] | None = None,
        pr_message: str = "Fix lock handling",
        pr_deleted: Iterable[str] = (),
        followup_files: Mapping[str, str | bytes] | None = None,
        followup_message: str = "docs: unrelated follow-up on main",
    ) -> None:
        """The usual shape: base commit, PR commit on `head`, one unrelated commit on main.

        Leaves `main` checked out. Pass `base_files=None` when the base commit was
        already made (e.g. with `copy_tree`).
        """
        if base_files is not None:
            self.write(base_files)
            self.commit(base_message)
        self.branch(head)
        if pr_files:
            self.write(pr_files)
        self.delete(pr_deleted)
        self.commit(pr_message, author=CONTRIBUTOR)
        self.checkout(BASE_BRANCH)
        if followup_files:
            self.write(followup_files)
            self.commit(followup_message)

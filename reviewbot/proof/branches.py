"""The bot's own commits and pushes: merge a base into a head, push a branch. No worktree, no token on disk.

The merge is made from trees (`git merge-tree --write-tree`, then `commit-tree`)
inside the repository's mirror, so nothing is checked out and no PR code runs.
Pushes authenticate per command with `http.extraHeader` (in git's environment,
never its command line; see host_git.py), like fetches, and are
never forced: a refused push (no rights, or someone else moved the branch) is
an answer, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.proof.host_git import FETCH_TIMEOUT_S, GitFailed
from reviewbot.proof.workspace import Mirror, WorkspaceError


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


class MergeConflict(WorkspaceError):
    """The base cannot be merged into the head without a person resolving conflicts."""


def merge_commit(mirror: Mirror, head: str, base: str, message: str, who: Identity) -> str:
    """A merge commit of `base` into `head` (first parent: head), as `who`; its SHA."""
    try:
        tree = mirror.git.text("merge-tree", "--write-tree", "--no-messages", head, base).split()[0]
    except GitFailed as exc:
        if exc.status == 1:
            raise MergeConflict(f"{base[:12]} does not merge cleanly into {head[:12]}") from exc
        raise WorkspaceError(f"could not merge {base[:12]} into {head[:12]}: {exc.stderr_text}") from exc
    return mirror.git.text(
        "commit-tree", tree, "-p", head, "-p", base, "-F", "-", input=message.encode(), env=identity_env(who)
    )


def identity_env(who: Identity) -> dict[str, str]:
    """Author and committer for the bot's commits, as git's environment (no config needed)."""
    return {
        "GIT_AUTHOR_NAME": who.name,
        "GIT_AUTHOR_EMAIL": who.email,
        "GIT_COMMITTER_NAME": who.name,
        "GIT_COMMITTER_EMAIL": who.email,
    }


def push(mirror: Mirror, url: str, sha: str, branch: str, auth_header: str | None) -> bool:
    """Push `sha` to `branch` at `url` (fast-forward only); False when the server refuses it."""
    try:
        mirror.git.run(
            "push",
            "--quiet",
            "--no-verify",
            "--",
            url,
            f"{sha}:refs/heads/{branch}",
            auth_header=auth_header,
            timeout=FETCH_TIMEOUT_S,
        )
        return True
    except GitFailed:
        return False

"""The GitHub port: what the bot's behaviours read and do on GitHub, and nothing else.

Commands, automerge, replacement, review publishing and reconcile see GitHub only
through `GitHubPort` (one installation, or the token) and `GitHubPorts` (which
hands them a port per installation). The PyGithub edge implements it
(`reviewbot.github.adapter`), with its retries, circuit breaker and exactly-once
creates; tests use an in-memory fake that records every effect, so a behaviour is
tested in milliseconds without HTTP, git or a sandbox.

The port is small on purpose: a handful of reads (a PR snapshot, the bot's own
comments, labels, checks and the required ones, commit authors, a permission) and the effects (comment,
label, check, merge, update branch, open or close a PR). The few operations
made of several calls (the one status comment per intent, the one review comment,
label sync) are plain functions below, written once over the port, so the fake
runs the same logic the service does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from reviewbot.github.comments import MARKER_PREFIX, PLACEHOLDER, PLACEHOLDER_MARKER, BotComment
from reviewbot.github.labels import label_changes
from reviewbot.github.pulls import OpenPull, PullRequestInfo
from reviewbot.model import Check, Permission, Verdict


class GitHubPort(Protocol):
    """GitHub as one installation (or the token) sees it."""

    installation_id: int | None  # None for a token

    def bot_login(self) -> str: ...

    def git_auth_header(self) -> str:
        """`http.extraHeader` for git fetches and pushes as this installation."""
        ...

    # -- pull requests
    def pull_request(self, repo: str, number: int) -> PullRequestInfo: ...

    def open_pull_requests(self, repo: str) -> list[OpenPull]:
        """Every open PR, across all pages."""
        ...

    def create_pull_request(self, repo: str, title: str, head: str, base: str, body: str) -> tuple[int, str]:
        """Open a PR; its (number, html url)."""
        ...

    def close_pull_request(self, repo: str, number: int) -> None: ...

    def commit_authors(self, repo: str, number: int) -> list[tuple[str, str]]:
        """(name, email) of every commit's author in the PR, in order."""
        ...

    def update_branch(self, repo: str, number: int, head_sha: str) -> bool:
        """GitHub's update-branch; False when GitHub refuses (no push rights)."""
        ...

    def merge(self, repo: str, number: int, head_sha: str, method: str, title: str, message: str) -> tuple[bool, str]:
        """Merge with the head pinned: (merged, GitHub's message)."""
        ...

    # -- the bot's comments
    def bot_comments(self, repo: str, number: int, marker: str) -> list[BotComment]:
        """The bot's own comments carrying `marker`, oldest first."""
        ...

    def create_comment(self, repo: str, number: int, body: str, marker: str) -> int:
        """Create the bot's comment carrying `marker` exactly once (a lost answer is not a second comment)."""
        ...

    def edit_comment(self, repo: str, number: int, comment_id: int, body: str) -> None: ...

    def delete_comment(self, repo: str, number: int, comment_id: int) -> None:
        """Delete it; one already gone is fine."""
        ...

    def delete_placeholder(self, repo: str, number: int, comment_id: int) -> None:
        """Delete a "review started" note unless it is gone or now holds a review."""
        ...

    def acknowledge(self, repo: str, comment_id: int) -> None:
        """👀 on a command's comment."""
        ...

    # -- labels, checks, permissions
    def labels(self, repo: str, number: int) -> list[str]: ...

    def add_labels(self, repo: str, number: int, names: list[str]) -> None: ...

    def remove_label(self, repo: str, number: int, name: str) -> None: ...

    def publish_check(
        self, repo: str, head_sha: str, verdict: Verdict, title: str, summary: str, details_url: str | None = None
    ) -> None:
        """The proof as the head's one check run (App; edited when it exists) or a commit status (token)."""
        ...

    def checks(self, repo: str, sha: str) -> list[Check]:
        """Check runs and commit statuses on a head, as success / failure / pending."""
        ...

    def required_checks(self, repo: str, branch: str) -> list[str] | None:
        """The checks a merge into `branch` requires (rulesets and classic branch protection), or None when
        they cannot be read: then every other check counts, and the bot says so."""
        ...

    def permission(self, repo: str, login: str) -> Permission:
        """A login's permission on the repository (cached by the edge)."""
        ...


class GitHubPorts(Protocol):
    """Hands out the port of an installation; the bot's login is the same for all of them."""

    def bot_login(self) -> str: ...

    def port(self, installation_id: int | None) -> GitHubPort: ...


# --- operations made of several calls, written once over the port ---------------------------------


def find_review_comment(github: GitHubPort, repo: str, number: int) -> BotComment | None:
    """The bot's review comment on a PR (the newest), deleting older duplicates."""
    ours = github.bot_comments(repo, number, MARKER_PREFIX)
    for older in ours[:-1]:
        github.delete_comment(repo, number, older.id)
    return ours[-1] if ours else None


def keep_newest_review(github: GitHubPort, repo: str, number: int) -> tuple[int | None, list[BotComment]]:
    """After posting a review as a new comment: the newest review comment survives, older ones go.

    Two workers racing on one PR may each post one; both converge on the newest. "Review
    started" notes are not reviews: they are returned for their own job to remove.
    """
    ours = github.bot_comments(repo, number, MARKER_PREFIX)
    reviews = [c for c in ours if PLACEHOLDER_MARKER not in c.body]
    for older in reviews[:-1]:
        github.delete_comment(repo, number, older.id)
    notes = [c for c in ours if PLACEHOLDER_MARKER in c.body]
    return (reviews[-1].id if reviews else None), notes


def post_placeholder(github: GitHubPort, repo: str, number: int, head_sha: str) -> BotComment:
    body = PLACEHOLDER.format(head=head_sha[:12])
    marker = body.rstrip().rsplit("\n", 1)[-1]  # `<!-- reviewbot:review-started <head> -->`
    return BotComment(id=github.create_comment(repo, number, body, marker), body=body)


def publish_review_comment(github: GitHubPort, repo: str, number: int, body: str, existing: BotComment | None) -> int:
    """Edit the bot's comment in place (one PATCH), or create it when there is none; returns its id."""
    if existing is not None:
        github.edit_comment(repo, number, existing.id, body)
        return existing.id
    return github.create_comment(repo, number, body, MARKER_PREFIX)


def upsert_status_comment(
    github: GitHubPort, repo: str, number: int, marker: str, body: str, known: list[BotComment] | None = None
) -> int:
    """The bot's one comment for this intent (found by its marker), edited in place or created.

    `known`: the bot's comments the caller has already listed, so they are not listed twice.
    """
    mine = [c for c in (known if known is not None else github.bot_comments(repo, number, marker)) if marker in c.body]
    if mine:
        github.edit_comment(repo, number, mine[-1].id, body)
        return mine[-1].id
    return github.create_comment(repo, number, body, marker)


def post_answer_once(github: GitHubPort, repo: str, number: int, marker: str, body: str) -> int:
    """A new comment carrying `marker`, unless the bot already posted it (a job re-run after a crash).

    `marker` names what is answered (`reviewbot.review.answers.answer_marker`), so a command's
    answer is one comment however often its job runs.
    """
    posted = [c for c in github.bot_comments(repo, number, marker) if marker in c.body]
    if posted:
        return posted[0].id
    return github.create_comment(repo, number, body, marker)


def sync_labels(
    github: GitHubPort, repo: str, number: int, wanted: list[str], current: Sequence[str] | None = None
) -> None:
    """The review's labels on the PR; the bot's other families and everyone else's labels stay.

    `current`: the labels the caller's fresh read of the PR carried, so they are not listed again.
    """
    add, remove = label_changes(list(current) if current is not None else github.labels(repo, number), wanted)
    if add:
        github.add_labels(repo, number, add)
    for name in remove:
        github.remove_label(repo, number, name)

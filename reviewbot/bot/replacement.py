"""Narrow replacement PRs: when the bot must update a PR branch it cannot push to, it carries the work itself.

The branch `reviewbot/pr-<n>` in the base repository holds the PR's own commits
(authorship kept: they are the same commits) plus the bot's change as a separate
merge commit with `Co-authored-by` trailers for every source author. Pushes are
never forced, so a person's commits on that branch survive; a second run reuses
the branch and the PR and adds new commits when the source or the base moved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.github.client import Connection, GitHubEdge, calls_as
from reviewbot.github.comments import bot_comments, edit_comment, upsert_status_comment
from reviewbot.github.labels import is_managed
from reviewbot.github.merging import commit_authors
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import REPLACEMENT_MARKER_TAG, noreply_email
from reviewbot.proof.branches import Identity, MergeConflict, merge_commit, push
from reviewbot.proof.workspace import Workspace
from reviewbot.review import status_comments
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import Queue

BRANCH_PREFIX = "reviewbot/pr-"
MAX_OPEN_REPLACEMENTS = 10
WHY = "reviewbot could not update the source PR branch directly; GitHub did not grant push rights to this branch"
CLOSING = re.compile(r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s+#\d+\b", re.IGNORECASE)


@dataclass(frozen=True)
class Opened:
    number: int
    url: str
    head_sha: str


@dataclass
class Replacements:
    edge: GitHubEdge
    workspace: Workspace
    queue: Queue
    arm: Callable[[Connection, str, int, str], None]  # (connection, repo, number, armed_by)

    def replace(self, connection: Connection, pr: PullRequestInfo, armed_by: str,
                start: str | None = None) -> Opened | str:
        """Open (or refresh) the replacement of `pr`; a string says why it could not.

        `start` is a commit of the bot's on top of the PR's head (the `fix:` commands' changes) to carry too.
        """
        branch = f"{BRANCH_PREFIX}{pr.number}"
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        mirror.fetch(wanted=(pr.head_sha, pr.base_sha), auth_header=connection.git_auth_header())
        authors = _unique(commit_authors(connection, pr.repo, pr.number))
        bot = self.edge.bot_login()
        who = Identity(bot, noreply_email(bot))
        trailers = "\n".join(f"Co-authored-by: {name} <{email}>" for name, email in authors)
        tip = mirror.fetch_if_exists(f"refs/heads/{branch}", auth_header=connection.git_auth_header())
        try:
            head = tip or start or pr.head_sha
            for source in (start or pr.head_sha, pr.head_sha, pr.base_sha):  # bring in the source's new commits, then the base
                if not mirror.contains(head, source):
                    head = merge_commit(mirror, head, source, f"Merge {source[:12]} for #{pr.number} "
                                        f"(reviewbot)\n\n{WHY}.\n\n{trailers}\n", who)
        except MergeConflict as conflict:
            return f"the replacement branch cannot take the changes without conflicts ({conflict})"
        if head != tip and not push(mirror, pr.clone_url, head, branch, connection.git_auth_header()):
            return f"pushing `{branch}` was refused too (it moved, or the bot may not push to the base repository)"
        opened = self._pull_request(connection, pr, branch, authors, armed_by, head)
        if isinstance(opened, str):
            return opened
        self._tell_contributor(connection, pr, opened, authors, bot)
        self.arm(connection, pr.repo, opened.number, armed_by)
        self.queue.enqueue(JobSpec(kind=JobKind.REVIEW, repo=pr.repo, pr_number=opened.number, head_sha=head,
                                   installation_id=None if not connection.app_auth else _installation(connection),
                                   reason="replacement"))
        return opened

    def after_merge(self, connection: Connection, pr: PullRequestInfo, close: bool) -> int | None:
        """A merged replacement: tell its source (and close it when the repository asks); the source's number."""
        source = source_of(pr.body)
        if source is None:
            return None
        bot = self.edge.bot_login()
        with calls_as(connection.account):
            if close:
                connection.github.get_repo(pr.repo).get_pull(source).edit(state="closed")
        marker = status_comments.status_marker("replacement")
        for reef in bot_comments(connection, pr.repo, source, bot, marker):
            edit_comment(connection, pr.repo, source, reef.id, status_comments.reef_merged(reef.body, pr.number, close))
        return source

    def _pull_request(self, connection: Connection, pr: PullRequestInfo, branch: str,
                      authors: list[tuple[str, str]], armed_by: str, head: str) -> Opened | str:
        owner = pr.repo.split("/")[0]
        with calls_as(connection.account):
            repository = connection.github.get_repo(pr.repo)
            open_pulls = list(repository.get_pulls(state="open"))
            mine = [p for p in open_pulls if p.head.ref == branch]
            if mine:
                return Opened(mine[0].number, mine[0].html_url, head)
            if sum(1 for p in open_pulls if p.head.ref.startswith(BRANCH_PREFIX)) >= MAX_OPEN_REPLACEMENTS:
                return f"the repository already has {MAX_OPEN_REPLACEMENTS} open replacement PRs by reviewbot"
            created = repository.create_pull(title=f"{pr.title} (replaces #{pr.number})", head=f"{owner}:{branch}",
                                             base=pr.base_ref, body=replacement_body(pr, authors, armed_by))
            labels = [name for name in _labels(repository, pr.number) if not is_managed(name)]
            if labels:
                created.add_to_labels(*labels)
            return Opened(created.number, created.html_url, head)

    def _tell_contributor(self, connection: Connection, pr: PullRequestInfo, opened: Opened,
                          authors: list[tuple[str, str]], bot: str) -> None:
        upsert_status_comment(connection, pr.repo, pr.number, bot, status_comments.status_marker("replacement"),
                              status_comments.reef_update(pr.author, opened.url, opened.number,
                                                          [name for name, _ in authors], WHY))


def replacement_body(pr: PullRequestInfo, authors: list[tuple[str, str]], armed_by: str) -> str:
    closing = sorted(set(CLOSING.findall(pr.body or "")))
    lines = [f"Replaces #{pr.number} (the source PR).", "",
             f"Why: {WHY}.", "",
             "Original contributors: " + ", ".join(f"{name}" for name, _ in authors) + ".", ""]
    if closing:
        lines += ["Inherited from the source: " + ", ".join(closing) + ".", ""]
    lines.append(f"<!-- {REPLACEMENT_MARKER_TAG} source={pr.number} armed-by={armed_by} -->")
    return "\n".join(lines) + "\n"


def source_of(body: str | None) -> int | None:
    """The source PR a replacement's hidden marker names (only the bot writes that marker)."""
    found = re.search(rf"<!-- {re.escape(REPLACEMENT_MARKER_TAG)} source=(\d+) ", body or "")
    return int(found.group(1)) if found else None


def _unique(authors: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for author in authors:
        if author not in seen:
            seen.append(author)
    return seen


def _labels(repository, number: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [label.name for label in repository.get_issue(number).get_labels()]


def _installation(connection: Connection) -> int | None:
    return int(connection.account.split(":", 1)[1]) if connection.account.startswith("installation:") else None

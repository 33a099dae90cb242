"""Narrow replacement PRs: when the bot must update a PR branch it cannot push to, it carries the work itself.

The branch `reviewbot/pr-<n>` in the base repository holds the PR's own commits
(authorship kept: they are the same commits) plus the bot's change as a separate
merge commit with `Co-authored-by` trailers for every source author. Pushes are
never forced, so a person's commits on that branch survive; a second run reuses
the branch and the PR and adds new commits when the source or the base moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from reviewbot.bot.automerge_progress import AutomergeProgress
from reviewbot.github.labels import is_managed
from reviewbot.github.port import GitHubPort, upsert_status_comment
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.names import (
    AUTOMERGE_LABEL,
    HUMAN_REVIEW_LABEL,
    MERGED_VIA_REPLACEMENT_LABEL,
    REPLACEMENT_MARKER_TAG,
    noreply_email,
)
from reviewbot.proof.branches import Identity, MergeConflict, merge_commit, push
from reviewbot.proof.workspace import Workspace
from reviewbot.review import status_comments
from reviewbot.review.carried_description import carried_description
from reviewbot.review.markdown import escape_inline
from reviewbot.review.pr_state import AutomergeState
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


class ReplacementBranches(Protocol):
    """The git side: bring the source's commits (and the base) onto the replacement branch, never forced."""

    def carry(
        self, github: GitHubPort, pr: PullRequestInfo, branch: str, start: str | None, trailers: str
    ) -> tuple[str, bool] | str:
        """(the branch's new head, whether it was pushed), or why it could not."""
        ...


class MirrorBranches:
    """`ReplacementBranches` over the git mirror: merge commits made locally, pushed without force."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace

    def carry(
        self, github: GitHubPort, pr: PullRequestInfo, branch: str, start: str | None, trailers: str
    ) -> tuple[str, bool] | str:
        mirror = self.workspace.mirror(pr.clone_url, pr.repo)
        mirror.fetch(wanted=(pr.head_sha, pr.base_sha), auth_header=github.git_auth_header())
        bot = github.bot_login()
        who = Identity(bot, noreply_email(bot))
        tip = mirror.fetch_if_exists(f"refs/heads/{branch}", auth_header=github.git_auth_header())
        try:
            head = tip or start or pr.head_sha
            for source in (start or pr.head_sha, pr.head_sha, pr.base_sha):  # the source's new commits, then the base
                if not mirror.contains(head, source):
                    head = merge_commit(
                        mirror,
                        head,
                        source,
                        f"Merge {source[:12]} for #{pr.number} (reviewbot)\n\n{WHY}.\n\n{trailers}\n",
                        who,
                    )
        except MergeConflict as conflict:
            return f"the replacement branch cannot take the changes without conflicts ({conflict})"
        if head != tip and not push(mirror, pr.clone_url, head, branch, github.git_auth_header()):
            return f"pushing `{branch}` was refused too (it moved, or the bot may not push to the base repository)"
        return head, head != tip


@dataclass
class Replacements:
    branches: ReplacementBranches
    queue: Queue
    progress: AutomergeProgress  # arms the replacement the way its source was armed

    def replace(self, github: GitHubPort, pr: PullRequestInfo, armed_by: str, start: str | None = None) -> Opened | str:
        """Open (or refresh) the replacement of `pr`; a string says why it could not.

        `start` is a commit of the bot's on top of the PR's head (the `fix:` commands' changes) to carry too.
        """
        branch = f"{BRANCH_PREFIX}{pr.number}"
        authors = _unique(github.commit_authors(pr.repo, pr.number))
        trailers = "\n".join(f"Co-authored-by: {name} <{email}>" for name, email in authors)
        carried = self.branches.carry(github, pr, branch, start, trailers)
        if isinstance(carried, str):
            return carried
        head, _ = carried
        opened = self._pull_request(github, pr, branch, authors, armed_by, head)
        if isinstance(opened, str):
            return opened
        self._tell_contributor(github, pr, opened, authors)
        self.progress.arm_number(github, pr.repo, opened.number, armed_by)
        self.queue.enqueue(
            JobSpec(
                kind=JobKind.REVIEW,
                repo=pr.repo,
                pr_number=opened.number,
                head_sha=head,
                installation_id=github.installation_id,
                reason="replacement",
            )
        )
        return opened

    def after_merge(self, github: GitHubPort, pr: PullRequestInfo, close: bool) -> int | None:
        """A merged replacement: bring its source to a close; the source's number.

        The source's reef update, automerge comment (a final row: merged via the replacement)
        and labels all say where its work went, and it is closed when the repository asks.
        Only a PR the bot opened can name a source: anyone can write the marker into a body.
        """
        source = source_of(pr.body)
        if source is None or pr.author.lower() != github.bot_login().lower():
            return None
        if close:
            github.close_pull_request(pr.repo, source)
        marker = status_comments.status_marker("replacement")
        for reef in github.bot_comments(pr.repo, source, marker):
            github.edit_comment(pr.repo, source, reef.id, status_comments.reef_merged(reef.body, pr.number, close))
        source_pr = github.pull_request(pr.repo, source)
        self.progress.record(
            github,
            source_pr,
            self.progress.states.get(pr.repo, source),
            "merged via replacement",
            f"merged via #{pr.number}: this PR's work is in the base branch now"
            f"{', and this PR is closed' if close else ''}",
            automerge=AutomergeState.MERGED,
        )
        add, remove = merged_elsewhere_labels(github.labels(pr.repo, source))
        if add:
            github.add_labels(pr.repo, source, add)
        for name in remove:
            github.remove_label(pr.repo, source, name)
        return source

    def _pull_request(
        self,
        github: GitHubPort,
        pr: PullRequestInfo,
        branch: str,
        authors: list[tuple[str, str]],
        armed_by: str,
        head: str,
    ) -> Opened | str:
        owner = pr.repo.split("/")[0]
        open_pulls = github.open_pull_requests(pr.repo)
        mine = [p for p in open_pulls if p.head_ref == branch]
        if mine:
            return Opened(mine[0].number, mine[0].html_url, head)
        if sum(1 for p in open_pulls if p.head_ref.startswith(BRANCH_PREFIX)) >= MAX_OPEN_REPLACEMENTS:
            return f"the repository already has {MAX_OPEN_REPLACEMENTS} open replacement PRs by reviewbot"
        number, url = github.create_pull_request(
            pr.repo,
            f"{pr.title} (replaces #{pr.number})",
            f"{owner}:{branch}",
            pr.base_ref,
            replacement_body(pr, authors, armed_by),
        )
        labels = [name for name in github.labels(pr.repo, pr.number) if not is_managed(name)]
        if labels:
            github.add_labels(pr.repo, number, labels)
        return Opened(number, url, head)

    def _tell_contributor(
        self, github: GitHubPort, pr: PullRequestInfo, opened: Opened, authors: list[tuple[str, str]]
    ) -> None:
        upsert_status_comment(
            github,
            pr.repo,
            pr.number,
            status_comments.status_marker("replacement"),
            status_comments.reef_update(pr.author, opened.url, opened.number, [name for name, _ in authors], WHY),
        )


def replacement_body(pr: PullRequestInfo, authors: list[tuple[str, str]], armed_by: str) -> str:
    closing = sorted(set(CLOSING.findall(pr.body or "")))
    lines = [
        f"Replaces #{pr.number} (the source PR).",
        "",
        f"Why: {WHY}.",
        "",
        "Original contributors: " + ", ".join(escape_inline(name) for name, _ in authors) + ".",
        "",
    ]
    if closing:
        lines += ["Inherited from the source: " + ", ".join(closing) + ".", ""]
    # the marker before anything the contributor wrote: `source_of` reads the first one
    lines.append(f"<!-- {REPLACEMENT_MARKER_TAG} source={pr.number} armed-by={armed_by} -->")
    carried = carried_description(pr.number, pr.author, pr.body)
    if carried:
        lines += ["", carried]
    return "\n".join(lines) + "\n"


def merged_elsewhere_labels(current: list[str]) -> tuple[list[str], list[str]]:
    """(to add, to remove) on a source whose replacement merged.

    Its `status:` becomes `status: merged via replacement` (one fixed name, not one label per
    PR number; the reef update names the PR), automerge is no longer armed there, and nobody
    needs to decide anything; the proof, rating and priority of its last review stay as the
    record of what that review found.
    """
    remove = [
        name
        for name in current
        if (name.startswith("status: ") and name != MERGED_VIA_REPLACEMENT_LABEL)
        or name in (AUTOMERGE_LABEL, HUMAN_REVIEW_LABEL)
    ]
    return ([] if MERGED_VIA_REPLACEMENT_LABEL in current else [MERGED_VIA_REPLACEMENT_LABEL]), remove


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

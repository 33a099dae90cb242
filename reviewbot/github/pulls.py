"""A pull request's live state, as the review and every later mutation re-check it."""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.github.client import Connection, calls_as


@dataclass(frozen=True)
class PullRequestInfo:
    repo: str  # base repository, "owner/name"
    number: int
    title: str
    body: str
    author: str
    state: str  # "open" | "closed"
    merged: bool
    draft: bool
    head_sha: str
    head_ref: str
    head_repo: str | None  # the fork's full name (None when the fork was deleted)
    base_ref: str
    base_sha: str
    clone_url: str  # the base repository: `refs/pull/N/head` is fetched from it
    html_url: str
    maintainer_can_modify: bool
    mergeable: bool | None = None  # None while GitHub computes it
    mergeable_state: str = "unknown"
    private: bool = True  # the base repository's visibility (unknown counts as private: proof pages need a token)
    labels: tuple[str, ...] | None = None  # as GitHub listed them with the PR (None: not known, list them)

    @property
    def open(self) -> bool:
        return self.state == "open"


def get_pull_request(connection: Connection, repo: str, number: int) -> PullRequestInfo:
    with calls_as(connection.account):
        pr = connection.github.get_repo(repo).get_pull(number)
        head_repo = pr.head.repo
        return PullRequestInfo(
            repo=repo,
            number=pr.number,
            title=pr.title or "",
            body=pr.body or "",
            author=pr.user.login,
            state=pr.state,
            merged=bool(pr.merged),
            draft=bool(pr.draft),
            head_sha=pr.head.sha,
            head_ref=pr.head.ref,
            head_repo=head_repo.full_name if head_repo is not None else None,
            base_ref=pr.base.ref,
            base_sha=pr.base.sha,
            clone_url=pr.base.repo.clone_url,
            html_url=pr.html_url,
            maintainer_can_modify=bool(pr.maintainer_can_modify),
            mergeable=pr.mergeable,
            mergeable_state=pr.mergeable_state or "unknown",
            private=pr.base.repo.private is not False,
            labels=tuple(label.name for label in pr.labels),  # in the same answer: no call of their own
        )


@dataclass(frozen=True)
class OpenPull:
    number: int
    head_sha: str
    head_ref: str
    html_url: str


def open_pull_requests(connection: Connection, repo: str) -> list[OpenPull]:
    """Every open PR, across all pages."""
    with calls_as(connection.account):
        return [
            OpenPull(pr.number, pr.head.sha, pr.head.ref, pr.html_url)
            for pr in connection.github.get_repo(repo).get_pulls(state="open")
        ]

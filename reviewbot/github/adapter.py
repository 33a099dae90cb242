"""The GitHub port over PyGithub: each method is one of the edge's functions, as they always were.

Retries, the circuit breaker, call counting (`calls_as`) and the exactly-once creates
all stay in those functions and the connection under them; this class only binds a
connection (one installation, or the token) and the shared permission cache.
"""

from __future__ import annotations

import contextlib

from github import UnknownObjectException

from reviewbot.github.checks import publish_check
from reviewbot.github.client import Connection, GitHubEdge, calls_as
from reviewbot.github.comments import (
    BotComment,
    bot_comments,
    create_comment_once,
    delete_comment,
    delete_placeholder,
    edit_comment,
)
from reviewbot.github.merging import checks_on, commit_authors, merge, required_checks, update_branch
from reviewbot.github.permissions import PermissionCache
from reviewbot.github.port import GitHubPort
from reviewbot.github.pulls import OpenPull, PullRequestInfo, get_pull_request, open_pull_requests
from reviewbot.github.reactions import acknowledge
from reviewbot.model import Check, Permission, Verdict


class EdgePorts:
    """A port per installation over one `GitHubEdge`; all of them share one permission cache."""

    def __init__(self, edge: GitHubEdge, permissions: PermissionCache | None = None):
        self.edge = edge
        self.permissions = permissions if permissions is not None else PermissionCache()

    def bot_login(self) -> str:
        return self.edge.bot_login()

    def port(self, installation_id: int | None) -> GitHubPort:
        connection = self.edge.connection(installation_id)
        return EdgePort(self.edge, connection, self.permissions, installation_id if connection.app_auth else None)


class EdgePort:
    def __init__(
        self, edge: GitHubEdge, connection: Connection, permissions: PermissionCache, installation_id: int | None
    ):
        self.edge, self.connection, self.permissions = edge, connection, permissions
        self.installation_id = installation_id

    def bot_login(self) -> str:
        return self.edge.bot_login()

    def git_auth_header(self) -> str:
        return self.connection.git_auth_header()

    # -- pull requests
    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        return get_pull_request(self.connection, repo, number)

    def open_pull_requests(self, repo: str) -> list[OpenPull]:
        return open_pull_requests(self.connection, repo)

    def create_pull_request(self, repo: str, title: str, head: str, base: str, body: str) -> tuple[int, str]:
        with calls_as(self.connection.account):
            created = self.connection.github.get_repo(repo).create_pull(title=title, head=head, base=base, body=body)
            return created.number, created.html_url

    def close_pull_request(self, repo: str, number: int) -> None:
        with calls_as(self.connection.account):
            self.connection.github.get_repo(repo).get_pull(number).edit(state="closed")

    def commit_authors(self, repo: str, number: int) -> list[tuple[str, str]]:
        return commit_authors(self.connection, repo, number)

    def update_branch(self, repo: str, number: int, head_sha: str) -> bool:
        return update_branch(self.connection, repo, number, head_sha)

    def merge(self, repo: str, number: int, head_sha: str, method: str, title: str, message: str) -> tuple[bool, str]:
        return merge(self.connection, repo, number, head_sha, method, title, message)

    # -- the bot's comments
    def bot_comments(self, repo: str, number: int, marker: str) -> list[BotComment]:
        return bot_comments(self.connection, repo, number, self.bot_login(), marker)

    def create_comment(self, repo: str, number: int, body: str, marker: str) -> int:
        return create_comment_once(self.connection, repo, number, body, self.bot_login(), marker)

    def edit_comment(self, repo: str, number: int, comment_id: int, body: str) -> None:
        edit_comment(self.connection, repo, number, comment_id, body)

    def delete_comment(self, repo: str, number: int, comment_id: int) -> None:
        with contextlib.suppress(UnknownObjectException):  # a racing worker deleted it first
            delete_comment(self.connection, repo, number, comment_id)

    def delete_placeholder(self, repo: str, number: int, comment_id: int) -> None:
        delete_placeholder(self.connection, repo, number, comment_id)

    def acknowledge(self, repo: str, comment_id: int) -> None:
        acknowledge(self.connection, repo, comment_id)

    # -- labels, checks, permissions
    def labels(self, repo: str, number: int) -> list[str]:
        with calls_as(self.connection.account):
            return [label.name for label in self.connection.github.get_repo(repo).get_issue(number).get_labels()]

    def add_labels(self, repo: str, number: int, names: list[str]) -> None:
        with calls_as(self.connection.account):
            self.connection.github.get_repo(repo).get_issue(number).add_to_labels(*names)

    def remove_label(self, repo: str, number: int, name: str) -> None:
        with calls_as(self.connection.account):
            self.connection.github.get_repo(repo).get_issue(number).remove_from_labels(name)

    def publish_check(
        self, repo: str, head_sha: str, verdict: Verdict, title: str, summary: str, details_url: str | None = None
    ) -> None:
        publish_check(self.connection, repo, head_sha, verdict, title, summary, details_url)

    def checks(self, repo: str, sha: str) -> list[Check]:
        return checks_on(self.connection, repo, sha)

    def required_checks(self, repo: str, branch: str) -> list[str] | None:
        return required_checks(self.connection, repo, branch)

    def permission(self, repo: str, login: str) -> Permission:
        return self.permissions.permission(self.connection, repo, login)

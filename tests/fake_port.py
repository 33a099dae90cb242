"""An in-memory GitHub behind the bot's `GitHubPort`: PRs, comments, labels, checks and permissions as plain data.

Every effect is also appended to `effects` as a tuple, so a test can say what the bot
did and in which order. The operations made of several calls (the status comment per
intent, label sync) are the real ones from `reviewbot.github.port`, run over this fake.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from reviewbot.github.comments import PLACEHOLDER_MARKER, BotComment
from reviewbot.github.pulls import OpenPull, PullRequestInfo
from reviewbot.model import Check, Permission, Verdict

BOT = "reviewbot[bot]"


@dataclass
class Comment:
    id: int
    repo: str
    number: int
    author: str
    body: str


@dataclass
class FakeGitHub:
    """Implements both `GitHubPorts` (one shared state for every installation) and `GitHubPort`."""

    login: str = BOT
    installation_id: int | None = None
    pulls: dict[tuple[str, int], PullRequestInfo] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    label_sets: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    check_states: dict[tuple[str, str], list[Check]] = field(default_factory=dict)
    permissions: dict[tuple[str, str], Permission] = field(default_factory=dict)
    # (repo, base branch) -> the checks a merge requires; absent: branch protection cannot be read (None)
    required: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    authors: dict[tuple[str, int], list[tuple[str, str]]] = field(default_factory=dict)
    unreachable: set[str] = field(default_factory=set)  # repositories whose PRs cannot be listed
    can_update_branch: bool = True
    merge_answer: tuple[bool, str] = (True, "Pull Request successfully merged")
    effects: list[tuple] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    # -- GitHubPorts
    def port(self, installation_id: int | None) -> FakeGitHub:
        self.installation_id = installation_id
        return self

    def bot_login(self) -> str:
        return self.login

    def git_auth_header(self) -> str:
        return "AUTHORIZATION: basic fake"

    # -- setting the scene
    def open_pr(
        self,
        repo: str = "acme/locky",
        number: int = 7,
        *,
        head_sha: str = "a" * 40,
        author: str = "alice",
        **fields: object,
    ) -> PullRequestInfo:
        pr = PullRequestInfo(
            repo=repo,
            number=number,
            title="Release the lock file",
            body="",
            author=author,
            state="open",
            merged=False,
            draft=False,
            head_sha=head_sha,
            head_ref="fix/lock",
            head_repo=repo,
            base_ref="main",
            base_sha="b" * 40,
            clone_url=f"https://github.example/{repo}.git",
            html_url=f"https://github.example/{repo}/pull/{number}",
            maintainer_can_modify=True,
            mergeable=True,
            mergeable_state="clean",
        )
        self.pulls[(repo, number)] = pr = replace(pr, **fields)  # type: ignore[arg-type]
        return pr

    def update_pr(self, repo: str, number: int, **fields: object) -> PullRequestInfo:
        self.pulls[(repo, number)] = pr = replace(self.pulls[(repo, number)], **fields)  # type: ignore[arg-type]
        return pr

    def add_comment(self, repo: str, number: int, body: str, author: str) -> int:
        comment = Comment(next(self._ids), repo, number, author, body)
        self.comments[comment.id] = comment
        return comment.id

    def bodies(self, repo: str, number: int, marker: str = "") -> list[str]:
        """The bot's comments on a PR carrying `marker`, oldest first."""
        return [c.body for c in self.bot_comments(repo, number, marker)]

    def did(self, kind: str) -> list[tuple]:
        return [effect for effect in self.effects if effect[0] == kind]

    # -- GitHubPort: pull requests
    def pull_request(self, repo: str, number: int) -> PullRequestInfo:
        return self.pulls[(repo, number)]

    def open_pull_requests(self, repo: str) -> list[OpenPull]:
        if repo in self.unreachable:
            raise ConnectionError(f"{repo}: GitHub did not answer")
        return [
            OpenPull(pr.number, pr.head_sha, pr.head_ref, pr.html_url)
            for (r, _), pr in sorted(self.pulls.items())
            if r == repo and pr.open
        ]

    def create_pull_request(self, repo: str, title: str, head: str, base: str, body: str) -> tuple[int, str]:
        number = max([n for (r, n) in self.pulls if r == repo], default=0) + 1
        pr = self.open_pr(
            repo, number, title=title, body=body, head_ref=head.split(":", 1)[-1], base_ref=base, author=self.login
        )
        self.effects.append(("create_pull", repo, number, title))
        return number, pr.html_url

    def close_pull_request(self, repo: str, number: int) -> None:
        self.update_pr(repo, number, state="closed")
        self.effects.append(("close_pull", repo, number))

    def commit_authors(self, repo: str, number: int) -> list[tuple[str, str]]:
        return self.authors.get((repo, number), [("Sample Contributor", "contributor@example.invalid")])

    def update_branch(self, repo: str, number: int, head_sha: str) -> bool:
        self.effects.append(("update_branch", repo, number, head_sha))
        return self.can_update_branch

    def merge(self, repo: str, number: int, head_sha: str, method: str, title: str, message: str) -> tuple[bool, str]:
        self.effects.append(("merge", repo, number, head_sha, method, title, message))
        if self.merge_answer[0]:
            self.update_pr(repo, number, state="closed", merged=True)
        return self.merge_answer

    # -- GitHubPort: the bot's comments
    def bot_comments(self, repo: str, number: int, marker: str) -> list[BotComment]:
        return [
            BotComment(c.id, c.body)
            for c in sorted(self.comments.values(), key=lambda c: c.id)
            if (c.repo, c.number) == (repo, number) and c.author == self.login and marker in c.body
        ]

    def create_comment(self, repo: str, number: int, body: str, marker: str) -> int:
        comment_id = self.add_comment(repo, number, body, self.login)
        self.effects.append(("comment", repo, number, comment_id))
        return comment_id

    def edit_comment(self, repo: str, number: int, comment_id: int, body: str) -> None:
        self.comments[comment_id].body = body
        self.effects.append(("edit", repo, number, comment_id))

    def delete_comment(self, repo: str, number: int, comment_id: int) -> None:
        if self.comments.pop(comment_id, None) is not None:
            self.effects.append(("delete", repo, number, comment_id))

    def delete_placeholder(self, repo: str, number: int, comment_id: int) -> None:
        comment = self.comments.get(comment_id)
        if comment is not None and PLACEHOLDER_MARKER in comment.body:
            self.delete_comment(repo, number, comment_id)

    def acknowledge(self, repo: str, comment_id: int) -> None:
        self.effects.append(("react", repo, comment_id, "eyes"))

    # -- GitHubPort: labels, checks, permissions
    def labels(self, repo: str, number: int) -> list[str]:
        return list(self.label_sets.get((repo, number), []))

    def add_labels(self, repo: str, number: int, names: list[str]) -> None:
        current = self.label_sets.setdefault((repo, number), [])
        current += [name for name in names if name not in current]
        self.effects.append(("label+", repo, number, tuple(names)))

    def remove_label(self, repo: str, number: int, name: str) -> None:
        self.label_sets[(repo, number)].remove(name)
        self.effects.append(("label-", repo, number, name))

    def publish_check(
        self, repo: str, head_sha: str, verdict: Verdict, title: str, summary: str, details_url: str | None = None
    ) -> None:
        self.effects.append(("check", repo, head_sha, verdict, title))

    def checks(self, repo: str, sha: str) -> list[Check]:
        return list(self.check_states.get((repo, sha), []))

    def required_checks(self, repo: str, branch: str) -> list[str] | None:
        found = self.required.get((repo, branch))
        return list(found) if found is not None else None

    def permission(self, repo: str, login: str) -> Permission:
        self.effects.append(("permission", repo, login))
        return self.permissions.get((repo, login.lower()), Permission.NONE)

"""The bot's behaviours wired to the in-memory GitHub (tests/fake_port.py) and a real SQLite store.

What a fast behaviour test needs: the store (queue, pull states, published reviews) on one
SQLite file migrated once per session and emptied before each test, a base repository whose
config and conflicts are given rather than read with git, and each job built the way
`reviewbot.service.main.build_service` builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from reviewbot.bot.automerge import AutomergeJob
from reviewbot.bot.automerge_progress import AutomergeProgress
from reviewbot.bot.commands import CommandJob
from reviewbot.bot.replacement import Replacements
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.repo_config import ConfigError, RepoConfig
from reviewbot.store.db import Base
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import Job, PublishedReviews, Queue
from tests.fake_port import FakeGitHub

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Store:
    engine: Engine
    queue: Queue
    states: PullStates
    published: PublishedReviews

    @classmethod
    def emptied(cls, engine: Engine) -> Store:
        with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        return cls(engine, Queue(engine), PullStates(engine), PublishedReviews(engine))

    def queued(self, kind: JobKind | None = None) -> list[JobSpec]:
        return [spec for spec in (spec_of(row) for row in self.queue.jobs()) if kind is None or spec.kind == kind]


def spec_of(row) -> JobSpec:  # type: ignore[no-untyped-def]
    """A queued row as the job spec a worker would run."""
    return JobSpec(
        kind=JobKind(row.kind),
        repo=row.repo,
        pr_number=row.pr_number,
        head_sha=row.head_sha,
        installation_id=row.installation_id,
        reason=row.reason,
        payload=row.payload or {},
    )


@dataclass
class GivenBase:
    """`BaseFacts` as the test says they are: no git."""

    repo_config: RepoConfig | ConfigError = field(default_factory=RepoConfig)
    conflicting: list[str] = field(default_factory=list)
    is_behind: bool = False

    def config(self, pr: PullRequestInfo, auth) -> RepoConfig | ConfigError:  # type: ignore[no-untyped-def]
        return self.repo_config

    def conflicts(self, pr: PullRequestInfo, auth) -> list[str]:  # type: ignore[no-untyped-def]
        return list(self.conflicting)

    def behind(self, pr: PullRequestInfo, auth) -> bool:  # type: ignore[no-untyped-def]
        return self.is_behind


@dataclass
class GivenBranches:
    """`ReplacementBranches` without git: the branch's new head, or a refusal."""

    answer: tuple[str, bool] | str = ("c" * 40, True)
    carried: list[tuple[int, str, str | None]] = field(default_factory=list)

    def carry(
        self,
        github,
        pr: PullRequestInfo,
        branch: str,
        start: str | None,  # type: ignore[no-untyped-def]
        trailers: str,
    ) -> tuple[str, bool] | str:
        self.carried.append((pr.number, branch, start))
        return self.answer


@dataclass
class Bot:
    """The behaviours as the service wires them, over the fake GitHub."""

    github: FakeGitHub
    store: Store
    base: GivenBase = field(default_factory=GivenBase)
    branches: GivenBranches | None = None

    def __post_init__(self) -> None:
        self.progress = AutomergeProgress(self.store.states, self.base, now=lambda: NOW)
        replacements = Replacements(self.branches, self.store.queue, self.progress) if self.branches else None
        self.automerge = AutomergeJob(
            self.github,
            self.store.states,
            self.store.published,
            self.progress,
            self.base,
            replacements=replacements,
            queue=self.store.queue,
        )
        self.commands = CommandJob(
            self.github, self.store.queue, self.store.states, self.store.published, self.automerge
        )

    def command(
        self,
        body: str,
        author: str,
        *,
        repo: str = "acme/locky",
        number: int = 7,
        author_type: str = "User",
        comment_id: int | None = None,
    ) -> int:
        """A PR comment by `author`, and the command job the webhook would queue for it, run once."""
        comment_id = comment_id or self.github.add_comment(repo, number, body, author)
        spec = JobSpec(
            kind=JobKind.COMMAND,
            repo=repo,
            pr_number=number,
            installation_id=1,
            reason="comment",
            payload={"comment_body": body, "comment_id": comment_id, "author": author, "author_type": author_type},
        )
        self.commands(Job(id=comment_id, spec=spec, attempts=1, max_attempts=4), _never())
        return comment_id

    def step(self, repo: str = "acme/locky", number: int = 7) -> None:
        """One automerge job, as a webhook or reconcile queues it."""
        spec = JobSpec(kind=JobKind.AUTOMERGE, repo=repo, pr_number=number, installation_id=1, reason="test")
        self.automerge(Job(id=0, spec=spec, attempts=1, max_attempts=4), _never())


def _never():  # type: ignore[no-untyped-def]
    import threading

    return threading.Event()

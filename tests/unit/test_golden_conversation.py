"""Golden conversations: every comment the bot writes in each flow, raw markdown, in order.

Each flow is driven over the in-memory GitHub (the same behaviours the worker runs) and
written as a transcript: after each person's action, the comments it created or edited,
the PRs it opened and the labels it changed. The files under tests/golden/conversation/ are
read as a maintainer and a contributor would read the thread; a change in any word shows up
in review. Regenerate with `REVIEWBOT_UPDATE_GOLDEN=1` and read the diff.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reviewbot.bot.review import ReviewJob
from reviewbot.model import Check, Permission
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import Job, JobState
from tests.behaviours import NOW, Bot, GivenBranches, Store, spec_of
from tests.builders import PROVEN, proof_of
from tests.fake_port import FakeGitHub
from tests.unit.test_review_publishing import GivenEngine

GOLDEN = Path(__file__).parents[1] / "golden" / "conversation"
REPO, NUMBER, HEAD = "acme/locky", 7, "c" * 40
CONTRIBUTOR, MAINTAINER, OTHER_MAINTAINER = "alice", "mona", "wes"


@dataclass
class Transcript:
    github: FakeGitHub
    parts: list[str] = field(default_factory=list)

    def step(self, title: str, action: Callable[[], object]) -> None:
        """Run one person's (or GitHub's) action and write down what the bot did about it."""
        start = len(self.github.effects)
        action()
        self.parts.append(f"## {title}\n")
        for effect in self.github.effects[start:]:
            kind = effect[0]
            if kind in ("comment", "edit"):
                _, repo, number, comment_id = effect
                verb = "new comment" if kind == "comment" else "edited comment"
                if comment_id not in self.github.comments:
                    self.parts.append(f"### {verb} {comment_id} on #{number}, deleted later in this step\n")
                    continue
                body = _shortened(self.github.comments[comment_id].body)
                self.parts.append(f"### {verb} {comment_id} on #{number}\n\n{body.rstrip()}\n")
            elif kind == "create_pull":
                _, repo, number, title_ = effect
                self.parts.append(f"### new PR #{number}: {title_}\n\n{self.github.pull_request(repo, number).body}")
            elif kind in ("label+", "label-", "merge", "close_pull", "update_branch", "check", "delete"):
                shown = [str(part) for part in effect[1:] if not (isinstance(part, str) and "\n" in part)]
                self.parts.append(f"- {kind}: {', '.join(shown)}\n")

    def text(self) -> str:
        return "\n".join(self.parts)


def _shortened(body: str) -> str:
    """A review comment by its decision block only: the whole comment has its own goldens (tests/golden/*.md)."""
    if "<!-- reviewbot:review " not in body:
        return body
    decision = body.split("\n### ", 1)[0].rstrip()
    return f"{decision}\n\n(… the rest of the review comment)"


def check(name: str, transcript: Transcript) -> None:
    path = GOLDEN / f"{name}.md"
    text = transcript.text()
    if os.environ.get("REVIEWBOT_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run with REVIEWBOT_UPDATE_GOLDEN=1 and read it"
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture
def github() -> FakeGitHub:
    fake = FakeGitHub()
    fake.open_pr(REPO, NUMBER, head_sha=HEAD, author=CONTRIBUTOR)
    for login in (MAINTAINER, OTHER_MAINTAINER):
        fake.permissions[(REPO, login)] = Permission.WRITE
    return fake


def review_job(github: FakeGitHub, store: Store, bot: Bot, tmp_path: Path) -> ReviewJob:
    return ReviewJob(
        github,
        GivenEngine(proof_of(*PROVEN), tmp_path),
        store.published,
        store.states,  # type: ignore[arg-type]
        queue=store.queue,
        automerge=bot.automerge,
        now=lambda: NOW,
    )


def run_queued_review(job: ReviewJob, store: Store, number: int = NUMBER) -> None:
    """The worker taking the PR's one queued review, as it would."""
    [row] = [
        row for row in store.queue.jobs(JobState.QUEUED) if row.kind == JobKind.REVIEW.value and row.pr_number == number
    ]
    job(Job(id=row.id, spec=spec_of(row), attempts=1, max_attempts=4), threading.Event())


def test_commands(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    bot = Bot(github, store)
    transcript = Transcript(github)
    job = review_job(github, store, bot, tmp_path)
    transcript.step(
        "the PR is opened and reviewed",
        lambda: (
            store.queue.enqueue(
                JobSpec(
                    kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD, installation_id=1, reason="opened"
                )
            ),
            run_queued_review(job, store),
        ),
    )
    transcript.step("a passer-by asks `@reviewbot status`", lambda: bot.command("@reviewbot status", "passer-by"))
    transcript.step(
        "a passer-by writes `@reviewbot frobnicate`", lambda: bot.command("@reviewbot frobnicate", "passer-by")
    )
    transcript.step(
        "the contributor asks `@reviewbot automerge`", lambda: bot.command("Ready! @reviewbot automerge", CONTRIBUTOR)
    )
    transcript.step("a maintainer says `@reviewbot stop`", lambda: bot.command("@reviewbot stop", MAINTAINER))
    transcript.step("a maintainer says `@reviewbot resume`", lambda: bot.command("@reviewbot resume", MAINTAINER))
    transcript.step(
        "a maintainer says `@reviewbot approve` again", lambda: bot.command("@reviewbot approve", MAINTAINER)
    )
    check("commands", transcript)


def test_re_review(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    bot = Bot(github, store)
    transcript = Transcript(github)
    job = review_job(github, store, bot, tmp_path)
    transcript.step(
        "the PR is opened and reviewed",
        lambda: (
            store.queue.enqueue(
                JobSpec(
                    kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD, installation_id=1, reason="opened"
                )
            ),
            run_queued_review(job, store),
        ),
    )
    transcript.step(
        "a maintainer asks for a re-review with a focus",
        lambda: bot.command("@reviewbot re-review\nThe error path.", MAINTAINER),
    )
    transcript.step(
        "another maintainer asks too",
        lambda: bot.command("Thanks! @reviewbot: re-review\nThe retry loop.", OTHER_MAINTAINER),
    )
    transcript.step("the worker runs the re-review", lambda: run_queued_review(job, store))
    check("re_review", transcript)


def test_automerge_states(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    bot = Bot(github, store)
    transcript = Transcript(github)
    job = review_job(github, store, bot, tmp_path)
    transcript.step(
        "the PR is opened and reviewed",
        lambda: (
            store.queue.enqueue(
                JobSpec(
                    kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD, installation_id=1, reason="opened"
                )
            ),
            run_queued_review(job, store),
        ),
    )
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "pending")]
    transcript.step(
        "a maintainer arms automerge while CI runs",
        lambda: (bot.command("@reviewbot automerge", MAINTAINER), bot.step()),
    )
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "failure")]
    transcript.step("CI fails", bot.step)
    transcript.step("a maintainer pauses the PR", lambda: (bot.command("@reviewbot stop", MAINTAINER), bot.step()))
    github.check_states[(REPO, HEAD)] = [Check("ci/build", "success")]
    transcript.step(
        "CI passes on a re-run and a maintainer resumes",
        lambda: (bot.command("@reviewbot resume", MAINTAINER), bot.step()),
    )
    check("automerge_states", transcript)


def test_replacement(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    bot = Bot(github, store, branches=GivenBranches(answer=("d" * 40, True)))
    transcript = Transcript(github)
    job = review_job(github, store, bot, tmp_path)
    github.update_pr(
        REPO,
        NUMBER,
        head_repo=f"{CONTRIBUTOR}/locky",
        maintainer_can_modify=False,
        body="Fixes #12\n\n## Test plan\n\n- `python -m pytest tests/test_lock.py`: 3 passed\n",
    )
    transcript.step(
        "the fork's PR is opened and reviewed",
        lambda: (
            store.queue.enqueue(
                JobSpec(
                    kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD, installation_id=1, reason="opened"
                )
            ),
            run_queued_review(job, store),
        ),
    )
    github.update_pr(REPO, NUMBER, mergeable_state="behind")
    transcript.step(
        "a maintainer arms automerge; the fork is behind and not writable",
        lambda: (bot.command("@reviewbot automerge", MAINTAINER), bot.step()),
    )
    replacement = max(number for (repo, number) in github.pulls if repo == REPO)
    github.update_pr(REPO, replacement, head_sha="d" * 40)
    transcript.step(
        "the replacement is reviewed and automerge merges it",
        lambda: (run_queued_review(job, store, replacement), bot.step(number=replacement)),
    )
    check("replacement", transcript)

"""`reviewbot review --pr owner/repo#N`: one PR reviewed straight from GitHub, without the service.

For GitHub Actions (workflows/review.yml) and a maintainer's terminal. The PR's facts come
from the API with a token, head and base are fetched as the worker fetches them, and with
`publish` the service's own `ReviewJob` publishes the comment (edited in place), the commit
status and the labels, so a workflow's review is the service's review. What the service
keeps between runs lives in a SQLite file in the data dir, and what was published is read
from its `published_reviews` table, as the service reads it; the comment's hidden marker
carries the earlier cycles a later run's review builds on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from reviewbot.bot.review import ReviewJob, pull_request_facts, review_pull_request
from reviewbot.github.port import GitHubPort, find_review_comment
from reviewbot.llm.assist import ModelReviewer
from reviewbot.model import Verdict
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.review.comment import render_comment
from reviewbot.review.markers import parse_marker
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import Job

PR_REFERENCE = re.compile(r"(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)#(?P<number>[0-9]+)")


def parse_pr_reference(text: str) -> tuple[str, int]:
    """`owner/repo#123` -> ("owner/repo", 123); anything else is a usage error with the expected form."""
    match = PR_REFERENCE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a pull request; write it as owner/repo#NUMBER")
    return match["repo"], int(match["number"])


@dataclass(frozen=True)
class LiveReview:
    head_sha: str
    comment: str  # the review comment as published, or as it would be
    verdict: Verdict | None
    skipped: str = ""  # why nothing was reviewed


NEEDS_TOKEN = (
    "--pr needs a token (REVIEWBOT_TOKEN, e.g. a workflow's GITHUB_TOKEN): "
    "an App answers for an installation, which a one-off review does not have"
)


def review_live_pr(
    github: GitHubPort,
    engine: ProofEngine,
    repo: str,
    number: int,
    *,
    expect_head: str = "",
    publisher: Callable[[], ReviewJob] | None = None,
    model: ModelReviewer | None = None,
    progress: Callable[[str], None] | None = None,
) -> LiveReview:
    """`github` is the token's port; with a `publisher` (the service's review job, made when needed) it publishes."""
    pr = github.pull_request(repo, number)
    if expect_head and pr.head_sha != expect_head:
        return LiveReview(
            pr.head_sha,
            "",
            None,
            skipped=f"the PR's head moved from {expect_head[:12]} to {pr.head_sha[:12]}; its own run reviews it",
        )
    if not pr.open:
        return LiveReview(pr.head_sha, "", None, skipped="the PR is closed")
    if publisher is not None:
        return _publish(github, publisher(), repo, number, pr.head_sha)
    existing = find_review_comment(github, repo, number)
    previous = parse_marker(existing.body) if existing else None
    request = ProofRequest(
        source=pr.clone_url, base=pr.base_ref, head=pr.head_sha, mirror_key=repo, auth_header=github.git_auth_header()
    )
    review = review_pull_request(
        engine,
        request,
        pull_request_facts(pr),
        previous=previous,
        model=model,
        on_step=progress,
        previous_comment=existing.body if previous else "",
    )
    return LiveReview(pr.head_sha, render_comment(review), review.proof.verdict)


def _publish(github: GitHubPort, job: ReviewJob, repo: str, number: int, head_sha: str) -> LiveReview:
    """The worker's review job, run once as its last attempt (an infrastructure failure is published, not retried)."""
    spec = JobSpec(kind=JobKind.REVIEW, repo=repo, pr_number=number, head_sha=head_sha, reason="one-shot")
    job(Job(id=0, spec=spec, attempts=1, max_attempts=1), threading.Event())
    published = job.published.get(repo, number)
    comment = find_review_comment(github, repo, number)
    if comment is None or published is None or published.head_sha != head_sha or published.comment_id != comment.id:
        return LiveReview(
            head_sha,
            comment.body if comment else "",
            None,
            skipped="nothing was published: the PR closed or moved on while it was reviewed",
        )
    return LiveReview(head_sha, comment.body, Verdict(published.verdict))

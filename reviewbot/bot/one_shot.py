"""`reviewbot review --pr owner/repo#N`: one PR reviewed straight from GitHub, without the service.

For GitHub Actions (workflows/review.yml) and a maintainer's terminal. The PR's facts come
from the API with a token, head and base are fetched as the worker fetches them, and with
`publish` the service's own `ReviewJob` publishes the comment (edited in place), the commit
status and the labels, so a workflow's review is the service's review. What the service
keeps between runs lives in a SQLite file in the data dir; the comment's hidden marker
carries what a later run needs (earlier cycles, the reviewed head).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewbot.bot.review import ReviewJob, pull_request_facts, review_pull_request
from reviewbot.github.client import GitHubConfigError, GitHubEdge
from reviewbot.github.comments import find_review_comment
from reviewbot.github.pulls import get_pull_request
from reviewbot.llm.assist import ModelReviewer
from reviewbot.model import Verdict
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.review.comment import render_comment
from reviewbot.review.markers import parse_marker
from reviewbot.store.db import make_engine
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import Job, PublishedReviews

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


def review_live_pr(edge: GitHubEdge, engine: ProofEngine, repo: str, number: int, *, data_dir: Path,
                   expect_head: str = "", publish: bool = False, model: ModelReviewer | None = None,
                   progress: Callable[[str], None] | None = None) -> LiveReview:
    if edge.is_app:
        raise GitHubConfigError("--pr needs a token (REVIEWBOT_TOKEN, e.g. a workflow's GITHUB_TOKEN): "
                                "an App answers for an installation, which a one-off review does not have")
    connection = edge.connection(None)
    pr = get_pull_request(connection, repo, number)
    if expect_head and pr.head_sha != expect_head:
        return LiveReview(pr.head_sha, "", None, skipped=f"the PR's head moved from {expect_head[:12]} to "
                                                         f"{pr.head_sha[:12]}; its own run reviews it")
    if not pr.open:
        return LiveReview(pr.head_sha, "", None, skipped="the PR is closed")
    if publish:
        return _publish(edge, engine, repo, number, pr.head_sha, data_dir, model)
    existing = find_review_comment(connection, repo, number, edge.bot_login())
    previous = parse_marker(existing.body) if existing else None
    request = ProofRequest(source=pr.clone_url, base=pr.base_ref, head=pr.head_sha, mirror_key=repo,
                           auth_header=connection.git_auth_header())
    review = review_pull_request(engine, request, pull_request_facts(pr), previous=previous, model=model,
                                 on_step=progress, previous_comment=existing.body if previous else "")
    return LiveReview(pr.head_sha, render_comment(review), review.proof.verdict)


def _publish(edge: GitHubEdge, engine: ProofEngine, repo: str, number: int, head_sha: str, data_dir: Path,
             model: ModelReviewer | None) -> LiveReview:
    """The worker's review job, run once as its last attempt (an infrastructure failure is published, not retried)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    database = make_engine(f"sqlite:///{data_dir / 'one-shot.db'}")
    job = ReviewJob(edge=edge, engine=engine, published=PublishedReviews(database), states=PullStates(database),
                    model=model)
    spec = JobSpec(kind=JobKind.REVIEW, repo=repo, pr_number=number, head_sha=head_sha, reason="one-shot")
    job(Job(id=0, spec=spec, attempts=1, max_attempts=1), threading.Event())
    comment = find_review_comment(edge.connection(None), repo, number, edge.bot_login())
    marker = parse_marker(comment.body) if comment else None
    if comment is None or marker is None or marker.head != head_sha:
        return LiveReview(head_sha, comment.body if comment else "", None,
                          skipped="nothing was published: the PR closed or moved on while it was reviewed")
    return LiveReview(head_sha, comment.body, Verdict(marker.verdict))

"""The review behaviour: prove a PR head, read its patch and history, decide, render, publish.

The only place that sequences the proof engine (I/O), the review core (pure)
and the GitHub edge. The service's worker (`ReviewJob`) and `reviewbot review`
(`review_pull_request`) both come through here, so a local review and a
published one are the same review.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from reviewbot import __version__
from reviewbot.bot.automerge import AutomergeJob, queue_step
from reviewbot.github.comments import MARKER_PREFIX, PLACEHOLDER_MARKER, REVIEW_MARKER, BotComment, comment_url
from reviewbot.github.port import (
    GitHubPort,
    GitHubPorts,
    find_review_comment,
    keep_newest_review,
    post_answer_once,
    post_placeholder,
    publish_review_comment,
    sync_labels,
)
from reviewbot.github.pulls import PullRequestInfo
from reviewbot.llm.assist import ModelReviewer
from reviewbot.model import Proof, PullRequest, RelatedPerson, Verdict
from reviewbot.pages.access import ProofLinks
from reviewbot.proof.engine import ProofEngine, ProofRequest
from reviewbot.proof.people import related_people
from reviewbot.proof.workspace import WorkspaceError
from reviewbot.review import answers, status_comments
from reviewbot.review.build import Review, ReviewInput, build_review
from reviewbot.review.check_run import check_run
from reviewbot.review.comment import render_comment
from reviewbot.review.markdown import code_span
from reviewbot.review.markers import Marker, parse_marker
from reviewbot.review.pr_body import parse_pr_body
from reviewbot.review.rereview_requests import RereviewRequests
from reviewbot.store.jobs import Cancelled, JobKind, JobSpec
from reviewbot.store.metrics import Metrics
from reviewbot.store.proof_store import ProofStore
from reviewbot.store.pull_state import PullStates
from reviewbot.store.queue import REREVIEW, Job, PublishedReviews, Queue

log = logging.getLogger("reviewbot.review")
MAX_DIFF_BYTES = 4 * 1024 * 1024  # the lock scan reads at most this much of a patch
ENGINE = f"reviewbot {__version__} · deterministic review (no model)"


def review_pull_request(
    engine: ProofEngine,
    request: ProofRequest,
    pr: PullRequest,
    previous: Marker | None = None,
    cancel: threading.Event | None = None,
    now: datetime | None = None,
    focus: str = "",
    on_step: Callable[[str], None] | None = None,
    model: ModelReviewer | None = None,
    previous_comment: str = "",
) -> Review:
    """Run the proof (with the PR body's claimed commands) and build the review of its head.

    `focus` is a maintainer's note from `@reviewbot re-review`: shown as context, never acted on.
    With a `model`, the finished review gains its advisory view (`previous_comment`, the bot's
    own last comment, tells a re-review what to verify); any model failure is a note, not an error.
    """
    body = parse_pr_body(pr.body)  # read once: the proof runs its claimed commands, the review compares them
    proof = engine.prove(replace(request, claimed_commands=tuple(body.commands)), cancel, on_step)
    if not proof.head_sha and re.fullmatch(r"[0-9a-f]{40}", request.head):
        proof.head_sha = request.head  # a proof that failed before resolving head is still about this head
    diff, people = _patch_facts(engine, request, proof)
    reviewed_at = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    review = build_review(
        ReviewInput(
            pr=pr,
            proof=proof,
            diff=diff,
            reviewed_at=reviewed_at,
            people=tuple(people),
            previous=previous,
            engine=ENGINE,
            focus=focus,
            body=body,
        )
    )
    if model is not None:
        review = model.apply(review, diff, previous, previous_comment)
    return review


def _patch_facts(engine: ProofEngine, request: ProofRequest, proof: Proof) -> tuple[str, list[RelatedPerson]]:
    """The PR's diff and who last wrote the lines it touches; nothing when the proof never got that far."""
    if proof.verdict == Verdict.ERROR and not proof.head_sha:
        return "", []
    mirror = engine.workspace.mirror(request.source, request.mirror_key)
    try:
        diff = mirror.diff(proof.merge_base_sha, proof.head_sha)
    except WorkspaceError as exc:
        proof.notes.append(f"The lock scan was skipped: {code_span(str(exc))}")
        return "", []
    if len(diff) > MAX_DIFF_BYTES:
        proof.notes.append(
            f"The patch is larger than {MAX_DIFF_BYTES // (1024 * 1024)} MiB; the lock scan read its first part only."
        )
        diff = diff[:MAX_DIFF_BYTES].rsplit("\ndiff --git ", 1)[0]
    people = related_people(mirror.path, proof.merge_base_sha, proof.head_sha)
    return diff, people


class InfrastructureError(RuntimeError):
    """The proof could not run; the job is retried, and only its last attempt publishes the failure."""


@dataclass
class ReviewJob:
    """The review behaviour as the worker runs it: live state in, one comment, one check, labels out.

    Every mutation re-checks live state first: a closed PR or a moved head publishes nothing
    (the newer head has its own job), and a cancelled job stops before it writes anything.
    """

    github: GitHubPorts
    engine: ProofEngine
    published: PublishedReviews
    states: PullStates
    queue: Queue | None = None  # to advance an armed automerge once a review is published
    automerge: AutomergeJob | None = None  # to pause it when someone without write pushes
    public_url: str = ""
    metrics: Metrics | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    model: ModelReviewer | None = None  # model-assisted review (REVIEWBOT_MODEL / OPENAI_BASE_URL), advisory
    proof_store: ProofStore | None = None  # the proof pages' full proofs and logs (REVIEWBOT_PAGES)
    proof_links: ProofLinks = field(default_factory=ProofLinks)  # where the comment and check link to them

    def recover(self) -> None:
        """At a worker's start: clean what a killed worker left in the workspace and the sandbox."""
        self.engine.recover()

    def __call__(self, job: Job, cancel: threading.Event) -> None:
        spec = job.spec
        github = self.github.port(spec.installation_id)
        pr = github.pull_request(spec.repo, spec.pr_number)
        progress = RereviewProgress.from_job(github, pr, spec.payload, job.id, spec.head_sha)
        if not pr.open or (spec.head_sha and pr.head_sha != spec.head_sha):
            if not self._carry_requests(spec, pr, progress):
                progress.superseded(pr)
            return
        if self.automerge is not None and spec.payload.get("pushed_by"):
            self.automerge.check_push(github, pr, str(spec.payload["pushed_by"]))
        asked = spec.reason == REREVIEW or bool(progress.requested_by)  # a push may carry a request it replaced
        if not asked and self.states.get(spec.repo, spec.pr_number).paused:
            return  # a maintainer said stop: only an explicit re-review runs until they approve
        existing = find_review_comment(github, spec.repo, spec.pr_number)
        previous = parse_marker(existing.body) if existing else None
        previous_comment = existing.body if existing and previous else ""
        placeholder = None
        if existing is None:
            existing = placeholder = post_placeholder(github, spec.repo, spec.pr_number, pr.head_sha)
        published = False
        try:
            request = ProofRequest(
                source=pr.clone_url,
                base=pr.base_ref,
                head=pr.head_sha,
                mirror_key=spec.repo,
                auth_header=github.git_auth_header(),
            )
            review = review_pull_request(
                self.engine,
                request,
                pull_request_facts(pr),
                previous=previous,
                cancel=cancel,
                now=self.now(),
                focus=progress.focus,
                on_step=progress.tick,
                model=self.model,
                previous_comment=previous_comment,
            )
            self._count_runs(review.proof)
            if cancel.is_set():
                raise Cancelled
            if review.proof.verdict == Verdict.ERROR and not job.last_attempt:
                raise InfrastructureError(review.proof.reason)
            progress.tick("analysis")
            comment_id = self._publish(github, pr, review, existing, cancel)
            published = comment_id is not None
            if comment_id is not None:
                progress.tick("review comment updated", comment_url(pr.html_url, comment_id))
                progress.done_note(review, comment_url(pr.html_url, comment_id))
                if self.queue is not None:
                    queue_step(
                        self.queue, self.states, spec.repo, spec.pr_number, spec.installation_id, "review published"
                    )
        except Cancelled:
            progress.superseded(github.pull_request(spec.repo, spec.pr_number))
            raise
        finally:
            if placeholder is not None and not published:  # this job's own "review started" note, never a review
                github.delete_placeholder(spec.repo, spec.pr_number, placeholder.id)

    def _carry_requests(self, spec: JobSpec, pr: PullRequestInfo, progress: RereviewProgress) -> bool:
        """The head moved before this requested review started: ask for the live head's review in its place.

        The push's own job may already have run (or its delivery may still be on the way), so
        the requests would otherwise be lost; the new job takes them and the tracker along.
        """
        if self.queue is None or not pr.open or not progress.requested_by:
            return False
        self.queue.enqueue(
            JobSpec(
                kind=JobKind.REVIEW,
                repo=spec.repo,
                pr_number=spec.pr_number,
                head_sha=pr.head_sha,
                installation_id=spec.installation_id,
                reason=REREVIEW,
                payload=spec.payload,
            )
        )
        return True

    def _publish(
        self,
        github: GitHubPort,
        pr: PullRequestInfo,
        review: Review,
        existing: BotComment | None,
        cancel: threading.Event,
    ) -> int | None:
        """Publish unless the PR closed, moved on, or the job was cancelled meanwhile; the comment id if it did."""
        live = github.pull_request(pr.repo, pr.number)
        if not live.open or live.head_sha != pr.head_sha:
            return None
        if cancel.is_set():
            raise Cancelled
        page_id, proof_url = self._store_proof(pr, review)
        body = render_comment(review, proof_url=proof_url)
        if existing is not None and PLACEHOLDER_MARKER in existing.body:
            comment_id = self._post_first_review(github, pr, body, existing)
        else:
            comment_id = publish_review_comment(github, pr.repo, pr.number, body, existing)
        if review.proof.head_sha:
            run = check_run(review, comment_url(pr.html_url, comment_id), proof_url)
            github.publish_check(
                pr.repo,
                review.proof.head_sha,
                review.proof.verdict,
                run.title,
                run.summary,
                proof_url or self.public_url or None,
            )
        sync_labels(github, pr.repo, pr.number, [label.name for label in review.labels], live.labels)
        if page_id is not None and self.proof_store is not None:
            self.proof_store.set_comment_url(page_id, comment_url(pr.html_url, comment_id))
        self.published.record(
            pr.repo,
            pr.number,
            pr.head_sha,
            comment_id,
            review.proof.verdict,
            review.outcome.kind,
            review.rating.overall.tier.value,
            review.outcome.next_step,
        )
        return comment_id

    @staticmethod
    def _post_first_review(github: GitHubPort, pr: PullRequestInfo, body: str, note: BotComment) -> int:
        """A PR's first review is a new comment, not an edit of its "review started" note: GitHub notifies
        people of a new comment and of no edit, so the review itself is what they hear about.

        A worker racing on the same PR may post one too: both keep the newest and delete the rest.
        """
        mine = github.create_comment(pr.repo, pr.number, body, REVIEW_MARKER)  # a lost answer: found by this
        survivor, notes = keep_newest_review(github, pr.repo, pr.number)
        for stale in notes:
            if stale.id == note.id:  # this job's note (or a dead attempt's it took over); others belong to their jobs
                github.delete_comment(pr.repo, pr.number, stale.id)
        return survivor or mine

    def _store_proof(self, pr: PullRequestInfo, review: Review) -> tuple[int | None, str]:
        """Keep the full proof for its page before the comment links to it; a store failure only loses the link."""
        if self.proof_store is None:
            return None, ""
        try:
            page_id = self.proof_store.save(review, public=not pr.private)
        except Exception:
            log.exception("storing the proof page of %s#%d failed", pr.repo, pr.number)
            return None, ""
        if page_id is None:
            return None, ""
        return page_id, self.proof_links.url(pr.repo, pr.number, review.proof.head_sha, public_repo=not pr.private)

    def _count_runs(self, proof: Proof) -> None:
        if self.metrics is None:
            return
        statuses = [
            run.status for pair in proof.suites for side in (pair.base, pair.head) if side for run in side.runs
        ] + [claim.status for claim in proof.claims if claim.status]
        for status in statuses:
            self.metrics.sandbox_runs.labels(status=status.value).inc()

    def dead_letter(self, job: Job, error: str) -> None:
        """After the last attempt: tell the PR the review did not complete, and how to retry."""
        spec = job.spec
        github = self.github.port(spec.installation_id)
        pr = github.pull_request(spec.repo, spec.pr_number)
        if not pr.open:
            return
        existing = find_review_comment(github, spec.repo, spec.pr_number)
        proof = Proof(
            verdict=Verdict.ERROR,
            head_sha=pr.head_sha,
            reason=f"The review failed {job.attempts} times; the last error was {code_span(error[:300])}.",
        )
        review = build_review(
            ReviewInput(
                pr=pull_request_facts(pr),
                proof=proof,
                diff="",
                reviewed_at=self.now().strftime("%Y-%m-%d %H:%M UTC"),
                previous=parse_marker(existing.body) if existing else None,
                engine=ENGINE,
            )
        )
        comment_id = self._publish(github, pr, review, existing, threading.Event())
        if comment_id is not None:  # whoever asked for this review hears that it did not complete
            progress = RereviewProgress.from_job(github, pr, spec.payload, job.id, pr.head_sha)
            progress.done_note(review, comment_url(pr.html_url, comment_id))


@dataclass
class RereviewProgress:
    """A re-review's progress tracker, ticked as steps complete, and the note that tells its requesters it is done.

    The tracker is edited in place (GitHub notifies nobody of an edit); the done note is a new
    comment that mentions every requester, posted once per job however often the job runs.
    """

    github: GitHubPort
    pr: PullRequestInfo
    head_sha: str  # the head this job reviews (the PR's live head may have moved on)
    comment_id: int | None = None
    requested_by: tuple[str, ...] = ()
    focus: str = ""
    job_id: int | None = None
    done: list[str] = field(default_factory=lambda: ["queued"])
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_job(
        cls, github: GitHubPort, pr: PullRequestInfo, payload: dict, job_id: int | None = None, head_sha: str = ""
    ) -> RereviewProgress:
        requests = RereviewRequests.from_payload(payload)
        comment_id = payload.get("status_comment_id")
        return cls(
            github,
            pr,
            head_sha or pr.head_sha,
            int(comment_id) if comment_id else None,
            requests.requested_by,
            requests.focus_text(),
            job_id,
        )

    def tick(self, step: str, review_url: str = "") -> None:
        if self.comment_id is None:
            return
        with self.lock:  # head and base finish on two threads
            if step not in self.done:
                self.done.append(step)
            body = status_comments.rereview(self.requested_by, self.head_sha, self.done, review_url, self.focus)
            self.github.edit_comment(self.pr.repo, self.pr.number, self.comment_id, body)

    def superseded(self, live: PullRequestInfo) -> None:
        """This job stopped before publishing: say where the work went on (`live`: the PR as it is now)."""
        if self.comment_id is None:
            return
        continued_in = ""
        if live.open and live.head_sha != self.head_sha:
            review = self.github.bot_comments(live.repo, live.number, MARKER_PREFIX)
            continued_in = f"the review of head {code_span(live.head_sha[:12])}" + (
                f", in the review comment {comment_url(live.html_url, review[-1].id)}" if review else ""
            )
        self.github.edit_comment(
            self.pr.repo,
            self.pr.number,
            self.comment_id,
            status_comments.rereview(
                self.requested_by,
                self.head_sha,
                self.done,
                superseded=True,
                continued_in=continued_in,
                closed=not live.open,
            ),
        )

    def done_note(self, review: Review, review_url: str) -> None:
        """Mention every requester once: the review they asked for is published, and how it came out."""
        if not self.requested_by or self.job_id is None:
            return
        key = f"re-review-{self.job_id}"
        body = answers.rereview_done(
            self.head_sha,
            review.outcome.kind.value,
            review.proof.verdict.value,
            review.rating.overall.tier.value,
            review_url,
        )
        post_answer_once(
            self.github,
            self.pr.repo,
            self.pr.number,
            answers.answer_marker(key),
            answers.addressed(self.requested_by, body, key),
        )


def pull_request_facts(pr: PullRequestInfo) -> PullRequest:
    """What the review core needs to know of a live PR."""
    return PullRequest(repo=pr.repo, number=pr.number, title=pr.title, body=pr.body, author=pr.author, url=pr.html_url)

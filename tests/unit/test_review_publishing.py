"""The review job publishing over the in-memory GitHub port: one comment, one check, labels, one table row.

The proof engine is given (a fixed proof): what is tested is the job around it, the live
re-checks before every write, the placeholder, retries, pauses and what automerge reads next.
The e2e layer (tests/e2e/test_service.py) proves real heads in the sandbox behind the HTTP fake.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reviewbot.bot.review import ENGINE, InfrastructureError, ReviewJob
from reviewbot.model import Permission, Proof, Verdict
from reviewbot.proof.engine import ProofRequest
from reviewbot.review.markers import parse_marker
from reviewbot.store.jobs import Cancelled, JobKind, JobSpec
from reviewbot.store.queue import REREVIEW, Job, JobState
from tests.behaviours import NOW, Bot, Store
from tests.builders import PROVEN, proof_of
from tests.fake_port import FakeGitHub

REPO, NUMBER = "acme/locky", 7
HEAD = "c" * 40  # the head tests/builders.py proves


@dataclass
class GivenMirror:
    path: Path

    def diff(self, base: str, head: str) -> str:
        return ""


@dataclass
class GivenEngine:
    """The proof engine with its answer given; `during` runs while it "proves" (a push, a close)."""

    proof: Proof
    path: Path
    during: list = field(default_factory=list)
    requests: list[ProofRequest] = field(default_factory=list)

    @property
    def workspace(self) -> GivenEngine:
        return self

    def mirror(self, source: str, key: str | None) -> GivenMirror:
        return GivenMirror(self.path / "no-such-mirror")

    def prove(self, request: ProofRequest, cancel: threading.Event | None = None, on_step=None) -> Proof:  # type: ignore[no-untyped-def]
        self.requests.append(request)
        for action in self.during:
            action()
        if on_step is not None:
            on_step("suites on head")
        return self.proof.model_copy(deep=True)


@pytest.fixture
def github() -> FakeGitHub:
    fake = FakeGitHub()
    fake.open_pr(REPO, NUMBER, head_sha=HEAD)
    return fake


def review_job(github: FakeGitHub, store: Store, engine: GivenEngine) -> ReviewJob:
    bot = Bot(github, store)
    return ReviewJob(
        github,
        engine,
        store.published,
        store.states,
        queue=store.queue,  # type: ignore[arg-type]
        automerge=bot.automerge,
        now=lambda: NOW,
    )


def run(
    job: ReviewJob,
    *,
    head: str = HEAD,
    reason: str = "opened",
    attempts: int = 1,
    max_attempts: int = 4,
    payload: dict | None = None,
    cancel: threading.Event | None = None,
) -> None:
    spec = JobSpec(
        kind=JobKind.REVIEW,
        repo=REPO,
        pr_number=NUMBER,
        head_sha=head,
        installation_id=1,
        reason=reason,
        payload=payload or {},
    )
    job(Job(id=1, spec=spec, attempts=attempts, max_attempts=max_attempts), cancel or threading.Event())


def proven(tmp_path: Path) -> GivenEngine:
    return GivenEngine(proof_of(*PROVEN), tmp_path)


def test_a_review_is_one_comment_one_check_labels_and_the_table_row(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    engine = proven(tmp_path)
    run(review_job(github, store, engine))
    [comment] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    marker = parse_marker(comment.body)
    assert marker is not None and (marker.head, marker.verdict) == (HEAD, "proven")
    assert comment.body.startswith("## ✅ reviewbot: passed")
    # the first review is a new comment (GitHub notifies of a new comment, never of an edit); its note goes
    [note, posted, deleted] = [effect for effect in github.effects if effect[0] in ("comment", "edit", "delete")]
    assert (note[0], posted[0], deleted[0]) == ("comment", "comment", "delete")
    assert posted[3] == comment.id and deleted[3] == note[3]
    [(_, _, head, verdict, title)] = github.did("check")
    assert (head, verdict) == (HEAD, "proven") and title.startswith("passed · proof proven · rank ")
    assert {"status: passed", "proof: proven"} <= set(github.labels(REPO, NUMBER))
    row = store.published.get(REPO, NUMBER)
    assert row is not None and (row.head_sha, row.comment_id, row.verdict, row.outcome) == (
        HEAD,
        comment.id,
        "proven",
        "passed",
    )
    assert row.rank == marker.rank  # the table and the marker say the same
    [request] = engine.requests
    assert (request.head, request.mirror_key, request.auth_header) == (HEAD, REPO, github.git_auth_header())


def test_the_next_review_edits_the_same_comment_and_keeps_the_history(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    job = review_job(github, store, proven(tmp_path))
    run(job)
    [first] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    job.engine.proof.head_sha = "d" * 40  # type: ignore[attr-defined]
    github.update_pr(REPO, NUMBER, head_sha="d" * 40)
    run(job, head="d" * 40, reason="synchronize")
    [second] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    marker = parse_marker(second.body)
    assert second.id == first.id and marker is not None and marker.head == "d" * 40
    assert [entry.head for entry in marker.history] == [HEAD[:12], "d" * 12]
    assert store.published.head_of(REPO, NUMBER) == "d" * 40


def test_duplicate_review_comments_converge_on_the_newest(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    older = github.add_comment(REPO, NUMBER, "<!-- reviewbot:review-started aaaaaaaaaaaa -->", github.login)
    newer = github.add_comment(REPO, NUMBER, "<!-- reviewbot:review-started bbbbbbbbbbbb -->", github.login)
    run(review_job(github, store, proven(tmp_path)))
    [review] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")  # notes a dead attempt left are gone
    assert review.id not in (older, newer) and review.body.startswith("## ✅ reviewbot: passed")
    assert {("delete", REPO, NUMBER, older), ("delete", REPO, NUMBER, newer)} <= set(github.effects)


def test_two_workers_posting_a_first_review_converge_on_the_newest(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    engine = proven(tmp_path)
    rival: list[int] = []  # a second worker's review of the same head, posted while this one proves
    engine.during.append(
        lambda: rival.append(
            github.add_comment(REPO, NUMBER, "## ✅ reviewbot: passed\n\n<!-- reviewbot:review {} -->", github.login)
        )
    )
    run(review_job(github, store, engine))
    [review] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    assert review.id > rival[0] and ("delete", REPO, NUMBER, rival[0]) in github.effects
    assert store.published.get(REPO, NUMBER).comment_id == review.id  # type: ignore[union-attr]


def test_a_push_during_the_proof_publishes_nothing(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    engine = proven(tmp_path)
    engine.during.append(lambda: github.update_pr(REPO, NUMBER, head_sha="d" * 40))
    run(review_job(github, store, engine))
    assert github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review") == []  # the placeholder is gone too
    assert github.did("check") == [] and github.labels(REPO, NUMBER) == []
    assert store.published.get(REPO, NUMBER) is None


def test_a_closed_pr_or_an_older_head_is_not_reviewed(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    engine = proven(tmp_path)
    job = review_job(github, store, engine)
    run(job, head="0" * 40)  # the PR moved on since this job was queued
    github.update_pr(REPO, NUMBER, state="closed")
    run(job)
    assert engine.requests == [] and github.effects == []


def test_a_cancelled_job_writes_nothing(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    cancel = threading.Event()
    engine = proven(tmp_path)
    engine.during.append(cancel.set)
    with pytest.raises(Cancelled):
        run(review_job(github, store, engine), cancel=cancel)
    assert github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review") == [] and github.did("check") == []


def test_an_infrastructure_error_is_retried_and_only_the_last_attempt_publishes_it(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    engine = GivenEngine(Proof(verdict=Verdict.ERROR, reason="git fetch failed"), tmp_path)
    job = review_job(github, store, engine)
    with pytest.raises(InfrastructureError):
        run(job, attempts=1, max_attempts=2)
    assert github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review") == [] and github.did("check") == []
    run(job, attempts=2, max_attempts=2)
    [comment] = github.bodies(REPO, NUMBER, "<!-- reviewbot:review")
    assert comment.startswith("## 🛠️ reviewbot: did not complete") and "@reviewbot re-review" in comment
    assert [effect[3] for effect in github.did("check")] == ["error"]
    assert github.labels(REPO, NUMBER) == ["status: did not complete"]


def test_a_dead_letter_says_on_the_pr_that_the_review_did_not_complete(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    job = review_job(github, store, proven(tmp_path))
    spec = JobSpec(kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=HEAD, installation_id=1)
    job.dead_letter(Job(id=1, spec=spec, attempts=4, max_attempts=4), "RuntimeError: boom")
    [comment] = github.bodies(REPO, NUMBER, "<!-- reviewbot:review")
    assert "The review failed 4 times" in comment and "boom" in comment
    assert store.published.get(REPO, NUMBER).verdict == "error"  # type: ignore[union-attr]


def test_labels_of_an_earlier_review_are_replaced_and_peoples_labels_kept(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    github.label_sets[(REPO, NUMBER)] = ["bug", "status: needs changes", "proof: fails"]
    run(review_job(github, store, proven(tmp_path)))
    labels = github.labels(REPO, NUMBER)
    assert "bug" in labels and "status: passed" in labels and "proof: proven" in labels
    assert "status: needs changes" not in labels and "proof: fails" not in labels


def test_a_paused_pr_is_reviewed_only_on_request_and_the_request_is_ticked(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    engine = proven(tmp_path)
    job = review_job(github, store, engine)
    store.states.update(REPO, NUMBER, paused=True)
    run(job, reason="synchronize")
    assert engine.requests == [] and github.effects == []
    github.permissions[(REPO, "mona")] = Permission.WRITE
    Bot(github, store).command("@reviewbot re-review", "mona")
    [queued] = store.queued(JobKind.REVIEW)
    run(job, reason=REREVIEW, payload=queued.payload)
    assert len(engine.requests) == 1
    [progress] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert "- [x] suites on head" in progress and "- [x] review comment updated" in progress
    assert "#issuecomment-" in progress


def test_a_published_review_moves_an_armed_automerge_along(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    store.states.update(REPO, NUMBER, automerge="armed", armed_by="mona", armed_head=HEAD)
    run(review_job(github, store, proven(tmp_path)))
    [step] = store.queued(JobKind.AUTOMERGE)
    assert (step.pr_number, step.installation_id, step.reason) == (NUMBER, 1, "review published")


def test_a_push_by_someone_without_write_pauses_automerge_before_the_review(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    store.states.update(REPO, NUMBER, automerge="armed", armed_by="mona", armed_head="0" * 40)
    run(review_job(github, store, proven(tmp_path)), payload={"pushed_by": "drive-by"})
    assert store.states.get(REPO, NUMBER).automerge == "paused"
    assert store.queued(JobKind.AUTOMERGE) == []  # paused: the published review does not move it


def test_the_engine_line_names_the_deterministic_review(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    run(review_job(github, store, proven(tmp_path)))
    [comment] = github.bodies(REPO, NUMBER, "<!-- reviewbot:review")
    assert ENGINE.split(" · ")[0] in comment


def asked_by_two(github: FakeGitHub, store: Store) -> JobSpec:
    """Two maintainers ask for a re-review of the same head, each with a focus note; the queued job."""
    for login in ("mona", "wes"):
        github.permissions[(REPO, login)] = Permission.WRITE
    bot = Bot(github, store)
    bot.command("@reviewbot re-review\nThe error path.", "mona")
    bot.command("@reviewbot re-review\nThe retry loop.", "wes")
    [row] = store.queue.jobs(JobState.QUEUED)
    return JobSpec(
        kind=JobKind.REVIEW,
        repo=REPO,
        pr_number=NUMBER,
        head_sha=row.head_sha,
        installation_id=1,
        reason=row.reason,
        payload=row.payload,
    )


def test_a_finished_re_review_mentions_every_requester_once(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    spec = asked_by_two(github, store)
    job = review_job(github, store, proven(tmp_path))
    run(job, reason=REREVIEW, payload=spec.payload)
    [review] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    assert "mona: The error path." in review.body and "wes: The retry loop." in review.body  # both foci
    rank = store.published.get(REPO, NUMBER).rank  # type: ignore[union-attr]
    [note] = github.bodies(REPO, NUMBER, "<!-- reviewbot:answer to=re-review-1 -->")
    assert note.startswith(
        f"@mona @wes: re-review of `cccccccccccc` done: **passed** (proof `proven`, rank {rank})"
        f" → https://github.example/{REPO}/pull/{NUMBER}#issuecomment-{review.id}\n"
    )
    run(job, reason=REREVIEW, payload=spec.payload)  # the same job again: a crash before it was marked done
    assert len(github.bodies(REPO, NUMBER, "<!-- reviewbot:answer to=re-review-1 -->")) == 1


def test_a_review_nobody_asked_for_mentions_nobody(github: FakeGitHub, store: Store, tmp_path: Path) -> None:
    run(review_job(github, store, proven(tmp_path)), reason="synchronize")
    assert github.bodies(REPO, NUMBER, "<!-- reviewbot:answer") == []


def test_a_push_over_a_waiting_re_review_keeps_its_requesters_focus_and_tracker(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    asked_by_two(github, store)
    [tracker] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    new_head = "d" * 40
    github.update_pr(REPO, NUMBER, head_sha=new_head)
    store.queue.enqueue(
        JobSpec(
            kind=JobKind.REVIEW, repo=REPO, pr_number=NUMBER, head_sha=new_head, installation_id=1, reason="synchronize"
        )
    )
    store.states.update(REPO, NUMBER, paused=True)  # a push alone would not be reviewed; the request it carries is
    [row] = store.queue.jobs(JobState.QUEUED)
    engine = proven(tmp_path)
    engine.proof.head_sha = new_head
    run(review_job(github, store, engine), head=new_head, reason=row.reason, payload=row.payload)
    [review] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:review")
    assert "mona: The error path." in review.body and "wes: The retry loop." in review.body
    [note] = github.bodies(REPO, NUMBER, "<!-- reviewbot:answer to=re-review-1 -->")
    assert note.startswith("@mona @wes: re-review of `dddddddddddd` done: **passed**")
    [moved] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert moved.id == tracker.id and "Re-review of head `dddddddddddd`" in moved.body  # the tracker followed the job
    assert "- [x] review comment updated" in moved.body


def test_a_re_review_stopped_by_a_push_says_where_it_continues(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    spec = asked_by_two(github, store)
    cancel = threading.Event()
    engine = proven(tmp_path)
    engine.during += [lambda: github.update_pr(REPO, NUMBER, head_sha="d" * 40), cancel.set]
    with pytest.raises(Cancelled):
        run(review_job(github, store, engine), reason=REREVIEW, payload=spec.payload, cancel=cancel)
    [tracker] = github.bodies(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert tracker.startswith("🦞✅ This re-review was superseded")
    assert "it continues in the review of head `dddddddddddd`" in tracker
    assert "<!-- reviewbot:status re-review cccccccccccc -->" in tracker


def test_a_re_review_that_never_completed_still_tells_its_requester(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    job = review_job(github, store, proven(tmp_path))
    spec = JobSpec(
        kind=JobKind.REVIEW,
        repo=REPO,
        pr_number=NUMBER,
        head_sha=HEAD,
        installation_id=1,
        reason=REREVIEW,
        payload={"requested_by": "mona"},
    )  # a row queued before requests were lists
    job.dead_letter(Job(id=9, spec=spec, attempts=4, max_attempts=4), "RuntimeError: boom")
    [note] = github.bodies(REPO, NUMBER, "<!-- reviewbot:answer to=re-review-9 -->")
    assert note.startswith("@mona: re-review of `cccccccccccc` done: **did not complete** (proof `error`")


def test_a_requested_review_that_finds_the_head_moved_hands_its_requests_to_the_live_head(
    github: FakeGitHub, store: Store, tmp_path: Path
) -> None:
    spec = asked_by_two(github, store)
    github.update_pr(REPO, NUMBER, head_sha="d" * 40)  # pushed, and the push's own review may already be done
    engine = proven(tmp_path)
    run(review_job(github, store, engine), reason=REREVIEW, payload=spec.payload)
    assert engine.requests == []  # the old head is not reviewed
    [handed] = store.queue.jobs(JobState.QUEUED)
    assert (handed.head_sha, handed.reason) == ("d" * 40, REREVIEW)
    assert handed.payload["requested_by"] == ["mona", "wes"] and len(handed.payload["focus"]) == 2
    [tracker] = github.bot_comments(REPO, NUMBER, "<!-- reviewbot:status re-review")
    assert handed.payload["status_comment_id"] == tracker.id and "superseded" not in tracker.body

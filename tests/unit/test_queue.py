"""The durable queue on real databases (SQLite in WAL mode, and PostgreSQL), with a clock the tests move."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.store.db import make_engine
from reviewbot.store.jobs import Cancel, Enqueue, Ignore, JobKind, JobSpec
from reviewbot.store.queue import Control, JobState, PublishedReviews, Queue, backoff


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(database_url: str):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def queue(engine, clock: Clock) -> Queue:
    return Queue(engine, clock=clock, max_attempts=3)


def review(head: str, pr: int = 1, repo: str = "o/r") -> JobSpec:
    return JobSpec(kind=JobKind.REVIEW, repo=repo, pr_number=pr, head_sha=head, reason="synchronize")


def command(comment_id: int, body: str) -> JobSpec:
    return JobSpec(
        kind=JobKind.COMMAND, repo="o/r", pr_number=1, payload={"comment_id": comment_id, "comment_body": body}
    )


def test_same_head_coalesces_and_a_newer_head_supersedes(queue: Queue) -> None:
    first, created = queue.enqueue(review("a" * 40))
    again, created_again = queue.enqueue(review("a" * 40))
    assert created and not created_again and again == first
    newer, _ = queue.enqueue(review("b" * 40))
    assert queue.state_of(first) == JobState.SUPERSEDED and queue.state_of(newer) == JobState.QUEUED
    assert queue.enqueue(review("c" * 40, pr=2))[1]  # another PR is independent
    assert queue.state_of(newer) == JobState.QUEUED


def test_twenty_synchronizes_leave_one_job_for_the_last_head(queue: Queue) -> None:
    ids = [queue.enqueue(review(f"{i:040x}"))[0] for i in range(20)]
    assert [queue.state_of(i) for i in ids].count(JobState.QUEUED) == 1
    assert queue.state_of(ids[-1]) == JobState.QUEUED
    job = queue.claim("w1", lease_s=60)
    assert job is not None and job.spec.head_sha == f"{19:040x}" and queue.claim("w1", 60) is None


def test_a_running_review_of_an_older_head_is_asked_to_stop(queue: Queue) -> None:
    queue.enqueue(review("a" * 40))
    job = queue.claim("w1", lease_s=60)
    assert job is not None and queue.heartbeat(job.id, "w1", 60) == Control.CONTINUE
    queue.enqueue(review("b" * 40))
    assert queue.heartbeat(job.id, "w1", 60) == Control.CANCEL
    assert queue.cancelled(job.id, "w1") and queue.state_of(job.id) == JobState.CANCELLED
    assert queue.claim("w2", 60).spec.head_sha == "b" * 40  # type: ignore[union-attr]


def test_closing_a_pr_cancels_queued_and_running_work(queue: Queue) -> None:
    queue.enqueue(review("a" * 40))
    running = queue.claim("w1", 60)
    queued, _ = queue.enqueue(command(5, "@reviewbot status"))
    assert queue.cancel_pr("o/r", 1, "closed") == 2
    assert queue.state_of(queued) == JobState.CANCELLED
    assert queue.heartbeat(running.id, "w1", 60) == Control.CANCEL  # type: ignore[union-attr]


def test_an_expired_lease_is_claimed_again_and_the_old_worker_loses_it(queue: Queue, clock: Clock) -> None:
    queue.enqueue(review("a" * 40))
    first = queue.claim("crashed", lease_s=30)
    assert first is not None and queue.claim("w2", 30) is None
    clock.advance(31)
    second = queue.claim("w2", 30)
    assert second is not None and second.id == first.id and second.attempts == 2
    assert queue.heartbeat(first.id, "crashed", 30) == Control.LOST
    assert not queue.complete(first.id, "crashed") and queue.complete(second.id, "w2")
    assert queue.state_of(first.id) == JobState.DONE


def test_failures_back_off_then_dead_letter(queue: Queue, clock: Clock) -> None:
    job_id, _ = queue.enqueue(review("a" * 40))
    for attempt in (1, 2):
        job = queue.claim("w", 60)
        assert job is not None and job.attempts == attempt
        failure = queue.fail(job.id, "w", "git fetch failed")
        assert failure is not None and failure.state == JobState.QUEUED
        assert queue.claim("w", 60) is None  # not before the backoff
        clock.advance(backoff(attempt).total_seconds() + 1)
    job = queue.claim("w", 60)
    assert job is not None and job.last_attempt
    failure = queue.fail(job.id, "w", "git fetch failed")
    assert failure is not None and failure.state == JobState.DEAD and queue.state_of(job_id) == JobState.DEAD
    assert queue.retry_dead("o/r", 1) == 1 and queue.claim("w", 60).attempts == 1  # type: ignore[union-attr]


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4, 9)] == [15, 60, 240, 600, 600]


def test_commands_are_deduplicated_by_comment_and_body(queue: Queue) -> None:
    first, created = queue.enqueue(command(7, "@reviewbot re-review"))
    same, again = queue.enqueue(command(7, "@reviewbot re-review"))
    edited, edited_new = queue.enqueue(command(7, "@reviewbot automerge"))
    assert created and not again and same == first and edited_new and edited != first


def test_a_delivery_is_accepted_once_with_its_jobs(queue: Queue) -> None:
    actions = [Enqueue(job=review("a" * 40)), Ignore(reason="nothing")]
    assert queue.delivery_jobs("d-1") is None
    duplicate, job_ids, cancelled, ignored = queue.accept_delivery("d-1", "pull_request", "o/r#1", actions)
    assert not duplicate and len(job_ids) == 1 and cancelled == 0 and ignored == ["nothing"]
    assert queue.accept_delivery("d-1", "pull_request", "o/r#1", actions) == (True, job_ids, 0, [])
    assert queue.delivery_jobs("d-1") == job_ids and len(queue.jobs()) == 1
    closed = queue.accept_delivery("d-2", "pull_request", "o/r#1", [Cancel(repo="o/r", pr_number=1, reason="closed")])
    assert closed == (False, [], 1, []) and queue.state_of(job_ids[0]) == JobState.CANCELLED


def test_published_reviews_remember_the_head(engine) -> None:
    published = PublishedReviews(engine)
    assert published.head_of("o/r", 1) is None
    published.record("o/r", 1, "a" * 40, 99, "proven", "passed", "S")
    published.record("o/r", 1, "b" * 40, 99, "weak", "needs real behavior proof", "D")
    assert published.head_of("o/r", 1) == "b" * 40


def test_two_workers_racing_never_claim_the_same_job(database_url: str) -> None:
    url = database_url
    producer = Queue(make_engine(url))
    for i in range(40):
        producer.enqueue(review(f"{i:040x}", pr=i))
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}

    def work(name: str) -> None:
        queue = Queue(make_engine(url))  # its own engine, as a separate process would have
        while (job := queue.claim(name, 60)) is not None:
            claimed[name].append(job.id)
            queue.complete(job.id, name)

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = claimed["w1"] + claimed["w2"]
    assert sorted(everything) == sorted(set(everything)) and len(everything) == 40
    assert producer.counts()["done"] == 40


def test_a_re_review_request_is_always_new_and_replaces_waiting_reviews(queue: Queue) -> None:
    automatic, _ = queue.enqueue(review("a" * 40))
    asked = JobSpec(
        kind=JobKind.REVIEW,
        repo="o/r",
        pr_number=1,
        head_sha="a" * 40,
        reason="re-review",
        payload={"status_comment_id": 5},
    )
    first, created = queue.enqueue(asked)
    second, created_again = queue.enqueue(asked)
    assert created and created_again and second != first
    assert queue.state_of(automatic) == JobState.SUPERSEDED and queue.state_of(first) == JobState.SUPERSEDED
    assert queue.state_of(second) == JobState.QUEUED
    assert queue.enqueue(review("a" * 40)) == (second, False)  # a push for the same head joins the request


def rereview(head: str, by: str, focus: str = "", tracker: int | None = None) -> JobSpec:
    payload: dict = {"requested_by": [by], "focus": [[by, focus]] if focus else []}
    if tracker is not None:
        payload["status_comment_id"] = tracker
    return JobSpec(kind=JobKind.REVIEW, repo="o/r", pr_number=1, head_sha=head, reason="re-review", payload=payload)


def payload_of(queue: Queue, job_id: int) -> dict:
    return next(row.payload for row in queue.jobs() if row.id == job_id)


def test_coalesced_re_review_requests_keep_every_requester_and_focus(queue: Queue) -> None:
    # a row queued before requests were merged: one requester as a string, their focus as text
    old_form = JobSpec(
        kind=JobKind.REVIEW,
        repo="o/r",
        pr_number=1,
        head_sha="a" * 40,
        reason="re-review",
        payload={"status_comment_id": 5, "requested_by": "alice", "focus": "the error path"},
    )
    queue.enqueue(old_form)
    queue.enqueue(rereview("a" * 40, "bob", "the retry loop", tracker=5))
    last, _ = queue.enqueue(rereview("a" * 40, "Alice", tracker=5))  # asks again: named once
    assert payload_of(queue, last) == {
        "status_comment_id": 5,
        "requested_by": ["alice", "bob"],
        "focus": [["alice", "the error path"], ["bob", "the retry loop"]],
    }
    assert [row.state for row in queue.jobs()].count(JobState.QUEUED) == 1


def test_a_push_keeps_the_requests_and_tracker_of_a_waiting_re_review(queue: Queue) -> None:
    queue.enqueue(rereview("a" * 40, "alice", "the error path", tracker=5))
    pushed, _ = queue.enqueue(review("b" * 40))
    assert payload_of(queue, pushed) == {
        "status_comment_id": 5,
        "requested_by": ["alice"],
        "focus": [["alice", "the error path"]],
    }


def test_a_push_keeps_the_requests_of_a_running_re_review_but_not_its_tracker(queue: Queue) -> None:
    queue.enqueue(rereview("a" * 40, "alice", "the error path", tracker=5))
    running = queue.claim("w1", lease_s=60)
    assert running is not None
    pushed, _ = queue.enqueue(review("b" * 40))
    assert queue.heartbeat(running.id, "w1", 60) == Control.CANCEL  # its worker says it was superseded
    assert payload_of(queue, pushed) == {"requested_by": ["alice"], "focus": [["alice", "the error path"]]}


def test_a_push_over_reviews_nobody_asked_for_carries_nothing(queue: Queue) -> None:
    queue.enqueue(review("a" * 40))
    pushed, _ = queue.enqueue(review("b" * 40))
    assert payload_of(queue, pushed) == {}


def _race(count: int, work: Callable[[int], object]) -> list[object]:
    """Run `work(0..count-1)` on `count` threads released together; their results in order."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - a thread's exception must fail the test, not warn
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_service_instances_racing_on_one_delivery_accept_it_once(database_url: str) -> None:
    """Two `reviewbot serve` instances behind a load balancer get GitHub's redelivery at the same moment."""
    instances = [Queue(make_engine(database_url)) for _ in range(2)]
    for attempt in range(15):
        head = f"{attempt:040x}"
        answers = _race(
            2,
            lambda i, attempt=attempt, head=head: instances[i].accept_delivery(
                f"delivery-{attempt}", "pull_request", "synchronize", [Enqueue(job=review(head, pr=attempt))]
            ),
        )
        assert sorted(duplicate for duplicate, *_ in answers) == [False, True]
        assert answers[0][1] == answers[1][1] and len(answers[0][1]) == 1
    assert instances[0].counts()["queued"] == 15


def test_deliveries_racing_for_one_head_make_one_review(database_url: str) -> None:
    """Different deliveries naming the same head (a push and its check suite) coalesce even when concurrent."""
    instances = [Queue(make_engine(database_url)) for _ in range(3)]
    for attempt in range(10):
        head = f"{attempt:040x}"
        answers = _race(
            3,
            lambda i, attempt=attempt, head=head: instances[i].accept_delivery(
                f"delivery-{attempt}-{i}", "pull_request", "synchronize", [Enqueue(job=review(head))]
            ),
        )
        assert len({tuple(job_ids) for _, job_ids, *_ in answers}) == 1
    active = instances[0].jobs(JobState.QUEUED)
    assert [job.head_sha for job in active] == [f"{9:040x}"]  # each newer head superseded the one before


def test_published_reviews_racing_on_a_new_pr_keep_one_row(database_url: str) -> None:
    stores = [PublishedReviews(make_engine(database_url)) for _ in range(2)]
    for pr in range(10):
        _race(2, lambda i, pr=pr: stores[i].record("o/r", pr, f"{i:040x}", 7, "proven", "passed", "S"))
        assert stores[0].head_of("o/r", pr) in {f"{0:040x}", f"{1:040x}"}


def test_reconcile_never_walks_a_name_github_would_not_allow(database_url: str) -> None:
    """Rows stored before deliveries were validated may hold such names; each would become a URL and a log line."""
    queue = Queue(make_engine(database_url))
    for repo in ("acme/locky", "acme/bad\x01name", "o/" + "n" * 150):
        queue.enqueue(JobSpec(kind=JobKind.AUTOMERGE, repo=repo, pr_number=0, installation_id=3))
    assert queue.known_repositories() == [("acme/locky", 3)]

"""The worker loop on a real SQLite queue: success, retries to a dead letter, cancellation mid-run."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.service.worker import Worker
from reviewbot.store.db import make_engine
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import Job, JobState, Queue


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    return Queue(make_engine(f"sqlite:///{tmp_path / 'q.db'}"), max_attempts=2)


def review(head: str = "a" * 40) -> JobSpec:
    return JobSpec(kind=JobKind.REVIEW, repo="o/r", pr_number=1, head_sha=head)


def test_a_successful_job_is_done(queue: Queue) -> None:
    seen: list[str] = []
    worker = Worker(queue, {JobKind.REVIEW: lambda job, cancel: seen.append(job.spec.head_sha)}, lease_s=5)
    job_id, _ = queue.enqueue(review())
    assert worker.run_once() and not worker.run_once()
    assert seen == ["a" * 40] and queue.state_of(job_id) == JobState.DONE


def test_failures_retry_then_reach_the_dead_letter(queue: Queue) -> None:
    dead: list[tuple[int, str]] = []

    def broken(job: Job, cancel: threading.Event) -> None:
        raise RuntimeError("github answered 502")

    worker = Worker(queue, {JobKind.REVIEW: broken}, lease_s=5, on_dead=lambda job, error: dead.append((job.id, error)))
    job_id, _ = queue.enqueue(review())
    assert worker.run_once() and queue.state_of(job_id) == JobState.QUEUED and dead == []
    queue.clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # past the backoff
    assert worker.run_once() and queue.state_of(job_id) == JobState.DEAD
    assert dead == [(job_id, "RuntimeError: github answered 502")]


def test_closing_the_pr_cancels_the_running_job(queue: Queue) -> None:
    started, observed = threading.Event(), threading.Event()

    def slow(job: Job, cancel: threading.Event) -> None:
        started.set()
        if cancel.wait(10):
            observed.set()

    worker = Worker(queue, {JobKind.REVIEW: slow}, lease_s=1)
    job_id, _ = queue.enqueue(review())
    runner = threading.Thread(target=worker.run_once)
    runner.start()
    assert started.wait(5)
    queue.cancel_pr("o/r", 1, "closed")
    runner.join(10)
    assert observed.is_set() and queue.state_of(job_id) == JobState.CANCELLED

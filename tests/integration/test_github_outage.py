"""GitHub down for a while, then back: the breaker opens, work waits without burning attempts, then resumes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.github.breaker import CallCancelled, CircuitBreaker, GitHubUnavailable, cancel_on, reset_breakers
from reviewbot.github.client import GitHubEdge, default_retry
from reviewbot.service.main import build_service
from reviewbot.service.worker import Worker
from reviewbot.settings import Settings
from reviewbot.store.jobs import JobKind, JobSpec
from reviewbot.store.queue import JobState
from tests.fakegithub import FakeGitHub


def get_repo(edge: GitHubEdge, repo: str) -> dict:
    """One real GET through PyGithub, its retries and the breaker."""
    return edge.connection(None).github.requester.requestJsonAndCheck("GET", f"/repos/{repo}")[1]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_breaker_opens_after_repeated_failures_and_closes_on_an_answer() -> None:
    now = [0.0]
    breaker = CircuitBreaker("ghe.example", threshold=3, cooldown_s=10, max_cooldown_s=40, clock=lambda: now[0])
    assert not breaker.failure() and not breaker.failure() and breaker.retry_in() is None
    breaker.success()  # a success in between: the count starts again
    assert not breaker.failure() and not breaker.failure()
    assert breaker.failure() and breaker.retry_in() == 10
    now[0] = 10.5
    assert breaker.retry_in() is None  # half open: one call may go out
    assert breaker.failure() and breaker.retry_in() == 20  # the probe failed: twice as long
    breaker.success()
    assert not breaker.is_open and breaker.retry_in() is None and breaker.opened_count == 1


@pytest.fixture
def outage(tmp_path: Path):  # type: ignore[no-untyped-def]
    reset_breakers()
    fake = FakeGitHub(root=tmp_path / "github").start()
    fake.add_org("acme")
    repo = fake.create_repo("acme", "locky")
    token = fake.add_user("lock-review-bot")
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'svc.db'}",
        webhook_secrets=["s"],
        github_api_url=fake.url,
        token=token,
        bot_login="lock-review-bot",
        reconcile_interval_s=3600,
        workers=0,
    )
    edge = GitHubEdge.from_settings(
        settings, retry=default_retry(total=6, backoff_factor=0.01, max_wait_s=2), throttle=False
    )
    edge.breaker.base_cooldown_s = edge.breaker.cooldown_s = 0.3
    service = build_service(settings, edge=edge)
    clock = Clock()
    service.queue.clock = clock
    try:
        yield fake, repo, edge, service, clock
    finally:
        fake.stop()
        reset_breakers()


def test_github_down_defers_jobs_skips_reconcile_and_everything_resumes(outage) -> None:  # type: ignore[no-untyped-def]
    fake, repo, edge, service, clock = outage
    calls: list[str] = []

    def handler(job, cancel) -> None:  # type: ignore[no-untyped-def]
        calls.append(get_repo(edge, repo)["full_name"])

    worker = Worker(service.queue, {JobKind.REVIEW: handler}, name="w", metrics=service.metrics, github=edge.breaker)
    job_id, _ = service.queue.enqueue(JobSpec(kind=JobKind.REVIEW, repo=repo, pr_number=1, head_sha="a" * 40))

    ticks = [0.0]
    edge.breaker.clock = lambda: ticks[0]  # the cool-down ends when the test says so
    down = fake.faults.add("5xx", status=503, times=None)
    assert worker.run_once()  # the call fails until the breaker opens: the job is deferred, not failed
    assert fake.count(status=503) == edge.breaker.threshold  # the open breaker ended the retries
    [row] = service.queue.jobs()
    assert (row.state, row.attempts) == (JobState.QUEUED.value, 0) and "not answering" in row.last_error
    assert edge.breaker.is_open
    assert service.reconcile_round() is None  # skipped: no call made
    assert service.github_status()["state"] == "unreachable"
    metrics = service.metrics.render().decode()
    assert 'reviewbot_jobs_deferred_total{kind="review"} 1.0' in metrics
    assert "reviewbot_reconcile_skipped_total 1.0" in metrics
    assert f'reviewbot_github_circuit_open{{host="{edge.breaker.host}"}} 1.0' in metrics

    clock.now += timedelta(minutes=1)
    assert worker.run_once()  # still open (cool-down not over): deferred again without a call to GitHub
    before = fake.count()
    assert service.queue.jobs()[0].attempts == 0 and fake.count() == before

    fake.faults.remove(down)  # GitHub is back
    ticks[0] += edge.breaker.cooldown_s + 0.01  # the cool-down ends: the next call is the probe
    clock.now += timedelta(minutes=1)
    assert worker.run_once() and calls == [repo]
    assert service.queue.state_of(job_id) == JobState.DONE and not edge.breaker.is_open
    assert service.reconcile_round() == []
    assert f'reviewbot_github_circuit_open{{host="{edge.breaker.host}"}} 0.0' in service.metrics.render().decode()


def test_cancelling_a_job_interrupts_its_wait_to_retry(outage) -> None:  # type: ignore[no-untyped-def]
    fake, repo, edge, _, _ = outage
    fake.faults.add("5xx", status=503, times=2)
    edge.retry = default_retry(total=6, backoff_factor=30, max_wait_s=60).new(breaker=edge.breaker)
    edge._connections.clear()
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(CallCancelled), cancel_on(cancel):
        get_repo(edge, repo)
    assert time.monotonic() - started < 5  # not the 30 s+ backoff


def test_an_open_breaker_ends_a_calls_retries_at_once(outage) -> None:  # type: ignore[no-untyped-def]
    fake, repo, edge, _, _ = outage
    fake.faults.add("drop", times=None)
    with pytest.raises(GitHubUnavailable, match="not answering"):
        get_repo(edge, repo)
    assert fake.count() <= edge.breaker.threshold + 1

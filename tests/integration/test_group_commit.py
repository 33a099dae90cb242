"""Group commit on a real SQLite queue: deliveries that arrive together share one transaction.

Each is still answered only after its own commit, is recorded exactly once, and a replay that
lands in the same batch as its original is answered as the duplicate it is.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
import pytest

from reviewbot.service.app import create_app
from reviewbot.service.signature import sign
from reviewbot.store.db import make_engine
from reviewbot.store.group_commit import GroupCommit
from reviewbot.store.jobs import Enqueue, JobKind, JobSpec
from reviewbot.store.queue import Accepted, Intake, JobState, Queue
from tests.live_server import live_server
from tests.waiting import wait_until

SECRET = "webhook-secret"
EXAMPLE = Path(__file__).parents[1] / "data" / "webhooks" / "pull_request.synchronize.1.json"
BURST = 24  # distinct deliveries, each also sent a second time: 48 waiting, within one batch (MAX_BATCH 64)
PRS = range(1, BURST + 1)


class GatedQueue(Queue):
    """A real queue whose first group commit waits for the test, so the next batch gathers the burst."""

    def __init__(self, *args: object, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.batches: list[list[str]] = []
        self.gate = threading.Event()

    def accept_deliveries(self, batch: list[Intake]) -> list[Accepted | Exception]:
        self.batches.append([delivery_id for delivery_id, *_ in batch])
        if len(self.batches) == 1:
            assert self.gate.wait(30), "the test never opened the gate"
        return super().accept_deliveries(batch)


@pytest.fixture
def queue(tmp_path: Path) -> GatedQueue:
    return GatedQueue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))


def signed(pr: int, delivery: str) -> tuple[bytes, dict[str, str]]:
    payload = json.loads(EXAMPLE.read_text())
    payload["installation"] = {"id": 7}
    payload["number"] = payload["pull_request"]["number"] = pr
    payload["pull_request"]["head"]["sha"] = f"{pr:040x}"
    body = json.dumps(payload).encode()
    return body, {
        "X-Hub-Signature-256": sign(SECRET, body),
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


def test_a_burst_is_recorded_once_each_and_a_replay_in_the_same_batch_is_a_duplicate(queue: GatedQueue) -> None:
    app = create_app(queue.engine, [SECRET], queue=queue)
    writer = app.state.service.writer
    assert writer is not None  # SQLite: deliveries go through the group commit
    answers: dict[str, list[httpx.Response]] = {}
    lock = threading.Lock()

    def send(port: int, pr: int, delivery: str) -> None:
        body, headers = signed(pr, delivery)
        response = httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers, timeout=60)
        with lock:
            answers.setdefault(delivery, []).append(response)

    with live_server(app) as port:
        first = threading.Thread(target=send, args=(port, 1000, "first"))
        first.start()
        wait_until(lambda: queue.batches, "the first delivery reached the writer")
        burst = [threading.Thread(target=send, args=(port, pr, f"d-{pr}")) for pr in PRS for _ in range(2)]
        for thread in burst:
            thread.start()
        wait_until(lambda: writer.waiting() == 2 * BURST, "the burst waits for the writer")
        assert not answers, "nothing is answered before its commit"
        queue.gate.set()
        for thread in [first, *burst]:
            thread.join(60)

    assert queue.batches[0] == ["first"] and len(queue.batches) == 2
    assert sorted(queue.batches[1]) == sorted(f"d-{pr}" for pr in PRS for _ in range(2))
    for pr in PRS:
        original, replay = sorted(answers[f"d-{pr}"], key=lambda response: response.status_code, reverse=True)
        assert original.status_code == 202 and len(original.json()["jobs"]) == 1
        assert replay.status_code == 200 and replay.json() == {"duplicate": True, "jobs": original.json()["jobs"]}
    jobs = queue.jobs()
    assert len(jobs) == BURST + 1 and {job.state for job in jobs} == {JobState.QUEUED.value}
    assert sorted(job.pr_number for job in jobs) == [*PRS, 1000]
    assert all(queue.delivery_jobs(f"d-{pr}") for pr in PRS)


def test_one_failing_delivery_fails_alone_and_the_rest_of_its_batch_commits(tmp_path: Path) -> None:
    """A batch whose shared transaction fails is retried one delivery at a time, so only the bad one errs."""
    queue = Queue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))
    review = JobSpec(kind=JobKind.REVIEW, repo="o/r", pr_number=1, head_sha="a" * 40, reason="synchronize")
    unstorable = JobSpec(
        kind=JobKind.REVIEW,
        repo="o/r",
        pr_number=2,
        head_sha="b" * 40,
        reason="synchronize",
        payload={"not json": object()},
    )
    answers = queue.accept_deliveries(
        [
            ("ok-1", "pull_request", "", [Enqueue(job=review)]),
            ("bad", "pull_request", "", [Enqueue(job=unstorable)]),
            ("ok-1", "pull_request", "", [Enqueue(job=review)]),
        ]
    )
    assert answers[0][0] is False and isinstance(answers[1], TypeError)
    assert answers[2] == (True, answers[0][1], 0, [])  # the replay, answered from the committed original
    assert queue.delivery_jobs("bad") is None and [job.pr_number for job in queue.jobs()] == [1]


def test_the_writer_thread_ends_when_idle_and_starts_again() -> None:
    batches: list[list[int]] = []
    writer: GroupCommit[int, int] = GroupCommit(lambda batch: batches.append(batch) or [item * 2 for item in batch])
    assert writer.submit(21).result(10) == 42
    wait_until(lambda: not writer._running, "the idle writer ended", timeout=10)
    assert writer.submit(4).result(10) == 8 and batches == [[21], [4]]

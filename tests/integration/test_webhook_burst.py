"""A burst of concurrent deliveries, each sent twice, through a real uvicorn server on a real SQLite queue.

Every delivery is recorded exactly once with its job, and of the two copies racing in, one is
accepted and the other answered as the duplicate it is, with the same job.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

from reviewbot.service.app import create_app
from reviewbot.service.signature import sign
from reviewbot.store.db import make_engine
from reviewbot.store.queue import JobState, Queue
from tests.live_server import live_server

SECRET = "webhook-secret"
EXAMPLE = Path(__file__).parents[1] / "data" / "webhooks" / "pull_request.synchronize.1.json"
PRS = range(1, 25)


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


def test_a_burst_is_recorded_once_each_and_every_racing_copy_is_a_duplicate(tmp_path: Path) -> None:
    queue = Queue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))
    answers: dict[str, list[httpx.Response]] = {}
    lock = threading.Lock()
    start = threading.Barrier(2 * len(PRS))

    def send(port: int, pr: int) -> None:
        body, headers = signed(pr, f"d-{pr}")
        start.wait(30)  # every copy of every delivery leaves at once
        response = httpx.post(f"http://127.0.0.1:{port}/webhook", content=body, headers=headers, timeout=60)
        with lock:
            answers.setdefault(f"d-{pr}", []).append(response)

    with live_server(create_app(queue.engine, [SECRET], queue=queue)) as port:
        threads = [threading.Thread(target=send, args=(port, pr)) for pr in PRS for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    for pr in PRS:
        original, replay = sorted(answers[f"d-{pr}"], key=lambda response: response.status_code, reverse=True)
        assert original.status_code == 202 and len(original.json()["jobs"]) == 1
        assert replay.status_code == 200 and replay.json() == {"duplicate": True, "jobs": original.json()["jobs"]}
        assert queue.delivery_jobs(f"d-{pr}") == original.json()["jobs"]
    jobs = queue.jobs()
    assert sorted(job.pr_number for job in jobs) == list(PRS) and {job.state for job in jobs} == {JobState.QUEUED.value}

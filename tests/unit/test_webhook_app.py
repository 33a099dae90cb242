"""`POST /webhook` and the health endpoints, through FastAPI's test client on a real SQLite queue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.service.app import create_app
from reviewbot.service.signature import sign
from reviewbot.store.db import make_engine
from reviewbot.store.jobs import JobKind
from reviewbot.store.queue import JobState, Queue

SECRET = "webhook-secret"
WEBHOOKS = Path(__file__).parents[1] / "data" / "webhooks"


def example(name: str) -> dict:
    payload = json.loads((WEBHOOKS / name).read_text())
    payload["installation"] = {"id": 42}
    return payload


def headers(body: bytes, event: str, delivery: str = "d-1", secret: str = SECRET) -> dict:
    return {
        "X-Hub-Signature-256": sign(secret, body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    return Queue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))


@pytest.fixture
def client(queue: Queue) -> TestClient:
    return TestClient(create_app(queue.engine, ["old-secret", SECRET], queue=queue, max_body_bytes=1_000_000))


def post(client: TestClient, payload: dict | bytes, event: str, delivery: str = "d-1", **overrides):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/webhook", content=body, headers={**headers(body, event, delivery), **overrides})


def test_an_opened_pr_is_enqueued_once_and_a_replay_is_a_no_op(client: TestClient, queue: Queue) -> None:
    payload = example("pull_request.opened.1.json")
    first = post(client, payload, "pull_request")
    assert first.status_code == 202 and len(first.json()["jobs"]) == 1
    replay = post(client, payload, "pull_request")
    assert replay.status_code == 200 and replay.json() == {"duplicate": True, "jobs": first.json()["jobs"]}
    [job] = queue.jobs()
    assert (job.kind, job.repo, job.pr_number, job.installation_id) == (
        "review",
        payload["repository"]["full_name"],
        payload["number"],
        42,
    )
    assert job.head_sha == payload["pull_request"]["head"]["sha"]


def test_the_rotated_secret_is_accepted_and_a_wrong_one_refused(client: TestClient, queue: Queue) -> None:
    body = json.dumps(example("ping.event.1.json")).encode()
    old = client.post("/webhook", content=body, headers=headers(body, "ping", "d-2", secret="old-secret"))
    wrong = client.post("/webhook", content=body, headers=headers(body, "ping", "d-3", secret="guess"))
    missing = client.post(
        "/webhook",
        content=body,
        headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-4", "Content-Type": "application/json"},
    )
    assert old.status_code == 202 and "ignored" in old.json()
    assert wrong.status_code == 401 and missing.status_code == 401
    assert "X-Hub-Signature-256" in wrong.json()["error"]


@pytest.mark.parametrize(
    ("body", "event", "extra", "status", "reason"),
    [
        pytest.param(b"{not json", "pull_request", {}, 400, "not valid JSON", id="bad-json"),
        pytest.param(b"[1, 2]", "pull_request", {}, 400, "JSON object", id="not-an-object"),
        pytest.param(b'{"action": "opened"}', "pull_request", {}, 400, "pull_request", id="missing-fields"),
        pytest.param(b"{}", "", {}, 400, "X-GitHub-Event", id="no-event-header"),
        pytest.param(b"{}", "ping", {"X-GitHub-Delivery": ""}, 400, "X-GitHub-Delivery", id="no-delivery-id"),
        pytest.param(b"{}", "ping", {"Content-Type": "text/plain"}, 400, "content type", id="plain-text"),
        pytest.param(
            b"zen=1",
            "ping",
            {"Content-Type": "application/x-www-form-urlencoded"},
            400,
            "`payload` field",
            id="form-without-payload",
        ),
        pytest.param(b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "ping", {}, 400, "nests 5001 deep", id="deep"),
        pytest.param(b'{"zen": "\\ud800"}', "ping", {}, 400, "`zen` contains a lone surrogate", id="surrogate"),
        pytest.param(b'{"zen": "a\\u0000"}', "ping", {}, 400, "`zen` contains a NUL", id="nul"),
        pytest.param(b"{}", "e" * 61, {}, 400, "X-GitHub-Event", id="long-event"),
    ],
)
def test_malformed_input_gets_a_400_with_the_reason(
    client: TestClient, queue: Queue, body: bytes, event: str, extra: dict, status: int, reason: str
) -> None:
    response = post(client, body, event, "d-x", **extra)
    assert response.status_code == status and reason in response.json()["error"]
    assert queue.jobs() == []


def test_an_oversized_body_gets_a_413(client: TestClient) -> None:
    body = b'{"pad": "' + b"x" * 1_100_000 + b'"}'
    response = client.post("/webhook", content=body, headers=headers(body, "pull_request"))
    assert response.status_code == 413 and "larger than" in response.json()["error"]


def test_closing_cancels_and_synchronize_supersedes(client: TestClient, queue: Queue) -> None:
    opened = example("pull_request.opened.1.json")
    post(client, opened, "pull_request", "d-1")
    moved = json.loads(json.dumps(opened))
    moved["action"], moved["pull_request"]["head"]["sha"] = "synchronize", "e" * 40
    post(client, moved, "pull_request", "d-2")
    closed = json.loads(json.dumps(opened))
    closed["action"] = "closed"
    response = post(client, closed, "pull_request", "d-3")
    assert response.status_code == 202 and response.json()["cancelled"] == 1
    assert [JobState(job.state) for job in queue.jobs()] == [JobState.SUPERSEDED, JobState.CANCELLED]


def test_kinds_no_worker_runs_are_acknowledged_not_queued(queue: Queue) -> None:
    client = TestClient(create_app(queue.engine, [SECRET], queue=queue, handled={JobKind.REVIEW}))
    payload = example("issue_comment.created.1.json")
    payload["issue"]["pull_request"] = {"url": "https://example.invalid/pulls/1"}
    payload["comment"]["body"] = "@reviewbot re-review"
    response = post(client, payload, "issue_comment")
    assert response.status_code == 202 and "not handled" in response.json()["ignored"] and queue.jobs() == []


def test_health_readiness_and_metrics(client: TestClient) -> None:
    post(client, example("pull_request.opened.1.json"), "pull_request")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").text
    assert 'reviewbot_deliveries_total{event="pull_request",result="202"} 1.0' in metrics
    assert 'reviewbot_jobs{state="queued"} 1.0' in metrics
    assert "reviewbot_webhook_seconds_bucket" in metrics


def test_a_secret_is_required(queue: Queue) -> None:
    with pytest.raises(ValueError, match="secret"):
        create_app(queue.engine, ["", ""], queue=queue)


HEADER_VALUES = st.one_of(st.none(), st.text(max_size=80), st.just("application/json"), st.just("pull_request"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=2000).map(str.encode),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    ),
    event=HEADER_VALUES,
    content_type=HEADER_VALUES,
    delivery=HEADER_VALUES,
    signed=st.booleans(),
)
def test_no_input_makes_a_5xx_or_a_wrong_job(
    client: TestClient, queue: Queue, body: bytes, event, content_type, delivery, signed: bool
) -> None:
    sent = {
        name: value
        for name, value in {
            "X-GitHub-Event": event,
            "Content-Type": content_type,
            "X-GitHub-Delivery": delivery,
        }.items()
        if value is not None and value.isprintable() and value.isascii()
    }
    if signed:
        sent["X-Hub-Signature-256"] = sign(SECRET, body)
    before = len(queue.jobs())
    response = client.post("/webhook", content=body, headers=sent)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["error"]
        assert len(queue.jobs()) == before
    if not signed:
        assert response.status_code == 401


def test_a_repeated_header_is_refused_not_guessed(client: TestClient) -> None:
    body = json.dumps(example("ping.event.1.json")).encode()
    good = headers(body, "ping", "d-9")
    response = client.post(
        "/webhook",
        content=body,
        headers=[
            ("X-Hub-Signature-256", "sha256=" + "0" * 64),
            ("X-Hub-Signature-256", good["X-Hub-Signature-256"]),
            ("X-GitHub-Event", "ping"),
            ("X-GitHub-Delivery", "d-9"),
            ("Content-Type", "application/json"),
        ],
    )
    assert response.status_code == 400 and "more than once" in response.json()["error"]


def test_a_form_encoded_delivery_is_accepted_with_the_signature_over_the_raw_body(
    client: TestClient, queue: Queue
) -> None:
    """GitHub's default for repository webhooks: `payload=<url-encoded JSON>`, signed as sent."""
    from urllib.parse import urlencode

    payload = example("pull_request.opened.1.json")
    body = urlencode({"payload": json.dumps(payload)}).encode()
    sent = {**headers(body, "pull_request", "d-form"), "Content-Type": "application/x-www-form-urlencoded"}
    response = client.post("/webhook", content=body, headers=sent)
    assert response.status_code == 202 and len(response.json()["jobs"]) == 1
    [job] = queue.jobs()
    assert (job.repo, job.head_sha) == (payload["repository"]["full_name"], payload["pull_request"]["head"]["sha"])
    signed_over_json = {
        **sent,
        "X-Hub-Signature-256": sign(SECRET, json.dumps(payload).encode()),
        "X-GitHub-Delivery": "d-form-2",
    }
    assert client.post("/webhook", content=body, headers=signed_over_json).status_code == 401


def test_every_answer_is_counted_a_500_included(queue: Queue) -> None:
    """The count is taken around the handler: a delivery whose handler raises still shows up in /metrics."""
    app = create_app(queue.engine, [SECRET], queue=queue)
    client = TestClient(app, raise_server_exceptions=False)
    payload = example("pull_request.opened.1.json")
    assert post(client, payload, "pull_request", "d-ok").status_code == 202
    queue.engine.dispose()

    def broken(*_args, **_kwargs):
        raise RuntimeError("database gone")

    queue.accept_delivery = broken  # type: ignore[method-assign]
    assert post(client, payload, "pull_request", "d-boom").status_code == 500
    assert post(client, b"{}", "pull_request", "d-bad", **{"X-Hub-Signature-256": "sha256=0"}).status_code == 401
    metrics = client.get("/metrics").text
    for status in ("202", "500", "401"):
        assert f'reviewbot_deliveries_total{{event="pull_request",result="{status}"}} 1.0' in metrics


def test_an_invented_event_name_is_counted_as_other(client: TestClient) -> None:
    post(client, example("ping.event.1.json"), "made_up_event", "d-m")
    assert 'reviewbot_deliveries_total{event="other",result="202"} 1.0' in client.get("/metrics").text


def test_app_mode_ignores_a_delivery_without_an_installation(queue: Queue) -> None:
    client = TestClient(create_app(queue.engine, [SECRET], queue=queue, require_installation=True))
    payload = example("pull_request.opened.1.json")
    del payload["installation"]
    response = post(client, payload, "pull_request", "d-noinst")
    assert response.status_code == 202 and response.json() == {"jobs": [], "ignored": "no installation"}
    assert queue.jobs() == []
    with_installation = post(client, example("pull_request.opened.1.json"), "pull_request", "d-inst")
    assert with_installation.status_code == 202 and len(queue.jobs()) == 1


def test_one_log_line_per_delivery_says_what_happened(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    payload = example("pull_request.opened.1.json")
    with caplog.at_level("INFO", logger="reviewbot.webhook"):
        post(client, payload, "pull_request", "d-log")
        post(client, example("ping.event.1.json"), "ping", "d-ping")
        post(client, b"{", "pull_request", "d-broken")
    queued, pinged, broken = [record.fields for record in caplog.records if record.name == "reviewbot.webhook"]
    assert queued["delivery"] == "d-log" and queued["outcome"] == "queued" and queued["status"] == 202
    assert (queued["repo"], queued["pr"], queued["head"]) == (
        payload["repository"]["full_name"],
        payload["number"],
        payload["pull_request"]["head"]["sha"],
    )
    assert queued["jobs"] and pinged["outcome"] == "ignored: ping"
    assert broken["status"] == 400 and broken["outcome"].startswith("refused: body is not valid JSON")

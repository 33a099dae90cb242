"""The webhook endpoint under a real uvicorn server, spoken to over a raw socket.

What a TestClient cannot show: a client that promises a body and stops sending, and one that
hangs up halfway through it.
"""

from __future__ import annotations

import io
import logging
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.service.app import create_app
from reviewbot.service.logs import configure_logging
from reviewbot.store.db import make_engine
from reviewbot.store.queue import Queue
from tests.live_server import live_server
from tests.waiting import wait_until

SECRET = "webhook-secret"
PARTIAL = (
    b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b'X-GitHub-Event: ping\r\nX-GitHub-Delivery: %s\r\nContent-Length: 1000\r\n\r\n{"zen": 1'
)


@pytest.fixture
def queue(tmp_path: Path) -> Queue:
    return Queue(make_engine(f"sqlite:///{tmp_path / 'svc.db'}"))


@pytest.fixture
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers, root.level = handlers, level


def body_seen(app: object, seen: threading.Event) -> object:
    """`app`, setting `seen` once it has read the first bytes of a request body."""

    async def wrapped(scope, receive, send):  # type: ignore[no-untyped-def]
        async def watched():  # type: ignore[no-untyped-def]
            message = await receive()
            if message.get("body"):
                seen.set()
            return message

        await app(scope, watched, send)  # type: ignore[operator]

    return wrapped


def test_a_body_that_stops_arriving_gets_a_408(queue: Queue) -> None:
    """The client promises 1000 bytes and sends 10."""
    app = create_app(queue.engine, [SECRET], queue=queue, body_timeout_s=0.5)
    with live_server(app, log_level="error") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(PARTIAL % b"d-slow")
            answer = b""
            while b"not received" not in answer and (chunk := sock.recv(4096)):
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 408") and "not received within 0.5 s" in answer
        assert queue.jobs() == []


def test_a_client_that_hangs_up_is_one_line_not_a_stack_trace(queue: Queue, restore_root_logging: None) -> None:
    out = io.StringIO()
    configure_logging("plain", "INFO", stream=out)
    seen = threading.Event()
    app = body_seen(create_app(queue.engine, ["s"], queue=queue), seen)
    with live_server(app, log_config=None) as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(PARTIAL % b"d-gone")
            assert seen.wait(10), "the service never read the start of the body"
        wait_until(lambda: "client disconnected" in out.getvalue(), "the service logged the hang-up", timeout=10)
    text = out.getvalue()
    assert "d-gone" in text and "client disconnected" in text
    assert "Traceback" not in text and "Exception in ASGI application" not in text
    assert queue.jobs() == []

"""The service's ASGI app on a real uvicorn server on loopback, for tests of raw-socket behaviour."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import uvicorn

from tests.waiting import wait_until


@contextlib.contextmanager
def live_server(app: object, **config: object) -> Iterator[int]:
    """Serve `app` on a free loopback port until the block ends; yields the port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", **config))  # type: ignore
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn started", timeout=15)
    assert server.started, "uvicorn stopped before it started serving"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(5)

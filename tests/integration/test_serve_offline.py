"""`serve` with GitHub unreachable: it listens at once, accepts deliveries, and says GitHub is not answering."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest

from reviewbot.service.main import build_service
from reviewbot.service.signature import sign
from reviewbot.settings import Settings
from tests.e2e.world import ServiceServer
from tests.waiting import wait_until

SECRET = "offline-secret"
OPENED = Path(__file__).resolve().parents[1] / "data" / "webhooks" / "pull_request.opened.1.json"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens once the probe is closed


@pytest.mark.parametrize("auth", ["token", "app"])
def test_serve_listens_within_a_second_while_github_is_down(tmp_path: Path, auth: str) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    credentials: dict = {"token": "ghp_offline"}
    if auth == "app":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        credentials = {"app_id": 1, "private_key": pem}
    settings = Settings(
        data_dir=tmp_path,
        webhook_secrets=[SECRET],
        github_api_url=f"http://127.0.0.1:{closed_port()}",
        reconcile_interval_s=3600,
        workers=0,
        **credentials,
    )
    started = time.monotonic()
    service = build_service(settings)
    server = ServiceServer(service.app())
    server.start()
    try:
        assert time.monotonic() - started < 1.0
        base = server.url.removesuffix("/webhook")
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        assert ready.json()["github"]["bot_login"] == "pending"  # reported, not required
        payload = json.loads(OPENED.read_text())
        payload["installation"] = {"id": 7}
        body = json.dumps(payload).encode()
        answer = httpx.post(
            server.url,
            content=body,
            headers={
                "X-Hub-Signature-256": sign(SECRET, body),
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "offline-1",
                "Content-Type": "application/json",
            },
        )
        assert answer.status_code == 202 and len(answer.json()["jobs"]) == 1
        assert not service.login.resolved
    finally:
        server.stop()


def test_serve_takes_its_port_before_loading_the_service(tmp_path: Path) -> None:
    """A delivery sent while the service still loads waits in the kernel's queue and is answered (and a data
    directory that does not exist yet is made, private)."""
    import os
    import subprocess
    import sys

    check = (
        "import socket, sys\n"
        "from reviewbot.launch import early_listener\n"
        "listener = early_listener(['--data-dir', 'x', 'serve', '--host', '127.0.0.1', '--port', '0'])\n"
        "heavy = sorted(m for m in ('fastapi', 'sqlalchemy', 'github', 'reviewbot.service.main') if m in sys.modules)\n"
        "assert heavy == [], heavy\n"
        "socket.create_connection(listener.getsockname(), timeout=5).close()  # the kernel accepts it\n"
        "print('listening before', len(sys.modules), 'modules')\n"
    )
    early = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=60)
    assert early.returncode == 0, early.stderr
    port = closed_port()
    env = {
        **os.environ,
        "REVIEWBOT_WEBHOOK_SECRETS": SECRET,
        "REVIEWBOT_TOKEN": "ghp_offline",
        "REVIEWBOT_GITHUB_API_URL": f"http://127.0.0.1:{closed_port()}",
        "REVIEWBOT_WORKERS": "0",
        "REVIEWBOT_RECONCILE_INTERVAL_S": "3600",
        "REVIEWBOT_ALLOW_PER_PROCESS_LIMITS": "1",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reviewbot.launch",
            "--data-dir",
            str(tmp_path / "new"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        body = json.dumps({**json.loads(OPENED.read_text()), "installation": {"id": 7}}).encode()
        for _ in range(3000):  # the first connect that succeeds: the socket is bound, the app may still load
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=60)
                break
            except ConnectionRefusedError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                time.sleep(0.01)
        with connection:
            connection.sendall(
                b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: early-1\r\n"
                + f"X-Hub-Signature-256: {sign(SECRET, body)}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 202"), answer[:300]
        assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_stopped_server_leaves_no_thread_asking_github_for_the_login(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        webhook_secrets=[SECRET],
        token="ghp_offline",
        github_api_url=f"http://127.0.0.1:{closed_port()}",
        reconcile_interval_s=3600,
        workers=0,
    )
    server = ServiceServer(build_service(settings).app())
    server.start()
    wait_until(lambda: any(thread.name == "bot-login" for thread in threading.enumerate()), what="the login thread")
    server.stop()
    wait_until(
        lambda: not any(thread.name == "bot-login" for thread in threading.enumerate()),
        what="the login thread to end with the server",
    )

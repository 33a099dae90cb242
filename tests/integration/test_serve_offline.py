"""`serve` with GitHub unreachable: it listens at once, accepts deliveries, and says GitHub is not answering."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from reviewbot.service.main import build_service
from reviewbot.service.signature import sign
from reviewbot.settings import Settings
from tests.e2e.world import ServiceServer

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
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        credentials = {"app_id": 1, "private_key": pem}
    settings = Settings(data_dir=tmp_path, webhook_secrets=[SECRET], github_api_url=f"http://127.0.0.1:{closed_port()}",
                        reconcile_interval_s=3600, workers=0, **credentials)
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
        answer = httpx.post(server.url, content=body, headers={
            "X-Hub-Signature-256": sign(SECRET, body), "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "offline-1", "Content-Type": "application/json"})
        assert answer.status_code == 202 and len(answer.json()["jobs"]) == 1
        assert not service.login.resolved
    finally:
        server.stop()
